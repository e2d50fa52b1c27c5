"""text search in page order on PostgreSQL: one row per (word, text range), kept by triggers

Search pages are ordered by (video_id, start_ms, id). The GIN index of 0008 finds every line
holding a word but in no order, and PostgreSQL has no statistics for a partial index's
expression (it guesses 0.5 % of the text lines): a word in one line of ten was fetched and
sorted whole for each page (benchmarks/query.py: 84,000 lines of 800,000). Here each word of
a text range (the lexemes of to_tsvector('simple', name), as the GIN index keeps them) is a
row of timeline_text_words whose primary key is (word, video_id, start_ms, range_id): a page
walks one word's rows in page order and stops after `limit` rows, and a plain column gives the
planner each word's frequency to pick the word to walk when there are several.

The rows are kept by triggers on timeline_ranges (insert, delete, update; text rows only), so
every writer (collect, import, delete's cascade) keeps them without knowing. SQLite keeps its
FTS5 table of 0008. Not in the ORM models (models.detection.in_models skips the name).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WORDS = "tsvector_to_array(to_tsvector('simple', {row}.name))"
_UP = [
    "CREATE TABLE timeline_text_words (word text NOT NULL, video_id varchar(32) NOT NULL,"
    " start_ms bigint NOT NULL, range_id bigint NOT NULL,"
    " CONSTRAINT pk_timeline_text_words PRIMARY KEY (word, video_id, start_ms, range_id))",
    "CREATE FUNCTION timeline_text_words_sync() RETURNS trigger LANGUAGE plpgsql AS $$"
    " BEGIN"
    " IF TG_OP <> 'INSERT' AND OLD.kind = 'text' THEN"
    " DELETE FROM timeline_text_words WHERE word = ANY(" + _WORDS.format(row="OLD") + ")"
    " AND video_id = OLD.video_id AND start_ms = OLD.start_ms AND range_id = OLD.id;"
    " END IF;"
    " IF TG_OP <> 'DELETE' AND NEW.kind = 'text' THEN"
    " INSERT INTO timeline_text_words (word, video_id, start_ms, range_id)"
    " SELECT w, NEW.video_id, NEW.start_ms, NEW.id FROM unnest(" + _WORDS.format(row="NEW") + ") w;"
    " END IF;"
    " RETURN NULL;"
    " END $$",
    # WHEN: other kinds never call the function (a bulk load of labels pays nothing)
    "CREATE TRIGGER timeline_text_words_insert AFTER INSERT ON timeline_ranges FOR EACH ROW"
    " WHEN (NEW.kind = 'text') EXECUTE FUNCTION timeline_text_words_sync()",
    "CREATE TRIGGER timeline_text_words_delete AFTER DELETE ON timeline_ranges FOR EACH ROW"
    " WHEN (OLD.kind = 'text') EXECUTE FUNCTION timeline_text_words_sync()",
    "CREATE TRIGGER timeline_text_words_update AFTER UPDATE ON timeline_ranges FOR EACH ROW"
    " WHEN (OLD.kind = 'text' OR NEW.kind = 'text') EXECUTE FUNCTION timeline_text_words_sync()",
    "INSERT INTO timeline_text_words (word, video_id, start_ms, range_id)"
    " SELECT w, t.video_id, t.start_ms, t.id FROM timeline_ranges t,"
    " unnest(" + _WORDS.format(row="t") + ") w WHERE t.kind = 'text'",
]
_DOWN = [
    "DROP TRIGGER IF EXISTS timeline_text_words_insert ON timeline_ranges",
    "DROP TRIGGER IF EXISTS timeline_text_words_delete ON timeline_ranges",
    "DROP TRIGGER IF EXISTS timeline_text_words_update ON timeline_ranges",
    "DROP FUNCTION IF EXISTS timeline_text_words_sync()",
    "DROP TABLE IF EXISTS timeline_text_words",
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in _UP:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in _DOWN:
        op.execute(statement)
