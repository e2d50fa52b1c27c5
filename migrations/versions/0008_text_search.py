"""text search: the words of text ranges (lines read in the picture), any case

PostgreSQL: a GIN index on to_tsvector('simple', name) of the text ranges only (the
'simple' configuration lower-cases and never stems, so words match as written). SQLite: an
FTS5 table over the same rows (external content: it indexes timeline_ranges.name, stores
nothing twice), kept by triggers. Neither is in the ORM models; schema comparisons skip
them (models.detection.in_models). A later migration that copies timeline_ranges on
SQLite (batch mode) must re-create these triggers.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_UP = [
    # unicode61 as PostgreSQL's 'simple' parser: lower-case, diacritics kept
    "CREATE VIRTUAL TABLE timeline_text USING fts5(name, content='timeline_ranges',"
    " content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER timeline_text_insert AFTER INSERT ON timeline_ranges"
    " WHEN new.kind = 'text' BEGIN"
    " INSERT INTO timeline_text(rowid, name) VALUES (new.id, new.name); END",
    "CREATE TRIGGER timeline_text_delete AFTER DELETE ON timeline_ranges"
    " WHEN old.kind = 'text' BEGIN"
    " INSERT INTO timeline_text(timeline_text, rowid, name) VALUES ('delete', old.id, old.name);"
    " END",
    "CREATE TRIGGER timeline_text_update_old AFTER UPDATE ON timeline_ranges"
    " WHEN old.kind = 'text' BEGIN"
    " INSERT INTO timeline_text(timeline_text, rowid, name) VALUES ('delete', old.id, old.name);"
    " END",
    "CREATE TRIGGER timeline_text_update_new AFTER UPDATE ON timeline_ranges"
    " WHEN new.kind = 'text' BEGIN"
    " INSERT INTO timeline_text(rowid, name) VALUES (new.id, new.name); END",
    "INSERT INTO timeline_text(rowid, name) SELECT id, name FROM timeline_ranges"
    " WHERE kind = 'text'",
]
_SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS timeline_text_insert",
    "DROP TRIGGER IF EXISTS timeline_text_delete",
    "DROP TRIGGER IF EXISTS timeline_text_update_old",
    "DROP TRIGGER IF EXISTS timeline_text_update_new",
    "DROP TABLE IF EXISTS timeline_text",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_timeline_text_words ON timeline_ranges"
            " USING gin (to_tsvector('simple', name)) WHERE kind = 'text'"
        )
        return
    for statement in _SQLITE_UP:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_timeline_text_words")
        return
    for statement in _SQLITE_DOWN:
        op.execute(statement)
