"""Fill PostgreSQL schemas for benchmarks/query.py: the project's schema (Alembic), rows by COPY.

`fill` loads a Plan into a fresh schema the way a bulk load is done: the secondary indexes
and foreign keys of timeline_ranges are dropped, the rows streamed in with COPY, then the same
indexes built and the keys validated in one pass each. The indexes are the ones the migrations
made, each re-created from its own definition as PostgreSQL reports it (pg_get_indexdef): the
models' (models/detection.py) and migration 0008's text index, which is in no model, alike —
the SQL stays in one place, the migration. Migration 0009's table of words is filled by its
triggers during the COPY, its primary key built afterwards like an index. `copy_without_indexes`
makes the baseline: the same rows in a second schema whose tables keep only their primary keys
(timeline_ranges' secondary indexes and the GIN index dropped; timeline_text_words keeps its
key, the only way it is read).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, create_engine, insert, text
from sqlalchemy.schema import AddConstraint, DropConstraint

from benchmarks.query_data import RANGE_COLUMNS, Plan, job_rows, range_rows, video_rows
from models import AnalysisJob, TimelineRange, Video
from models.detection import TEXT_WORDS_TABLE
from worker.db import create_db_engine, upgrade

_TABLE = TimelineRange.__table__


def schema_url(base_url: str, schema: str) -> str:
    sep = "&" if "?" in base_url else "?"
    return f"{base_url}{sep}options=-csearch_path%3D{schema}"


def admin_engine(base_url: str) -> Engine:
    return create_engine(base_url.replace("postgresql://", "postgresql+psycopg://"))


def recreate_schema(admin: Engine, schema: str) -> None:
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))


def drop_schema(admin: Engine, schema: str) -> None:
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


@dataclass(frozen=True)
class LoadTimes:
    rows: int
    copy_s: float  # generating the rows and COPY, both (they overlap on two cores)
    index_s: float  # building the project's timeline_ranges indexes
    keys_s: float  # validating the foreign keys
    each_index_s: dict[str, float]  # the build time of each index, by name


def secondary_indexes(conn: Connection) -> dict[str, str]:
    """timeline_ranges' indexes but those of constraints (the primary key): name -> the
    CREATE INDEX statement that re-creates it, as the migrations made it."""
    rows = conn.execute(
        text(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid"
            " WHERE i.indrelid = 'timeline_ranges'::regclass AND NOT EXISTS"
            " (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)"
            " ORDER BY c.relname"
        )
    ).all()
    return {str(name): str(sql) for name, sql in rows}


def _drop_indexes(conn: Connection, words_key: bool = True) -> dict[str, str]:
    """Drop timeline_ranges' secondary indexes and (`words_key`) the primary key of migration
    0009's timeline_text_words; the statements that make them again."""
    found = secondary_indexes(conn)
    for name in found:
        conn.execute(text(f'DROP INDEX "{name}"'))
    if not words_key:
        return found
    key = conn.execute(
        text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            f" WHERE conrelid = '{TEXT_WORDS_TABLE}'::regclass AND contype = 'p'"
        )
    ).one()
    conn.execute(text(f'ALTER TABLE {TEXT_WORDS_TABLE} DROP CONSTRAINT "{key[0]}"'))
    found[str(key[0])] = f'ALTER TABLE {TEXT_WORDS_TABLE} ADD CONSTRAINT "{key[0]}" {key[1]}'
    return found


def fill(url: str, plan: Plan) -> LoadTimes:
    engine = create_db_engine(url)
    try:
        upgrade(engine)
        with engine.begin() as conn:
            conn.execute(insert(Video), video_rows(plan))
            conn.execute(insert(AnalysisJob), job_rows(plan))
            for fk in _TABLE.foreign_key_constraints:
                conn.execute(DropConstraint(fk))
            indexes = _drop_indexes(conn)
        start = time.perf_counter()
        with engine.begin() as conn:
            rows = _copy_ranges(conn, plan)
        copied = time.perf_counter()
        each: dict[str, float] = {}
        with engine.begin() as conn:
            conn.execute(text("SET maintenance_work_mem = '1GB'"))
            for name, sql in indexes.items():
                began = time.perf_counter()
                conn.execute(text(sql))
                each[name] = time.perf_counter() - began
        indexed = time.perf_counter()
        with engine.begin() as conn:
            for fk in _TABLE.foreign_key_constraints:
                conn.execute(AddConstraint(fk))
        keyed = time.perf_counter()
        vacuum_analyze(engine)
        return LoadTimes(rows, copied - start, indexed - copied, keyed - indexed, each)
    finally:
        engine.dispose()


def _copy_ranges(conn: Connection, plan: Plan) -> int:
    raw = conn.connection.driver_connection
    assert raw is not None
    columns = ", ".join(RANGE_COLUMNS)
    n = 0
    with raw.cursor() as cur, cur.copy(f"COPY timeline_ranges ({columns}) FROM STDIN") as copy:
        for row in range_rows(plan):
            copy.write_row(row)
            n += 1
    # the next range the application writes gets the next id
    conn.execute(
        text("SELECT setval(pg_get_serial_sequence('timeline_ranges', 'id'), :n)"),
        {"n": max(n, 1)},
    )
    return n


def vacuum_analyze(engine: Engine) -> None:
    # ANALYZE for the planner's statistics; VACUUM sets the visibility map, as autovacuum
    # would on a table that has settled, so index-only scans need not visit the table
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        for table in ("videos", "analysis_jobs", "timeline_ranges", TEXT_WORDS_TABLE):
            conn.execute(text(f"VACUUM ANALYZE {table}"))


def copy_without_indexes(src_schema: str, url: str) -> float:
    """The same rows in the schema of `url`, timeline_ranges with its primary key only."""
    engine = create_db_engine(url)
    try:
        upgrade(engine)
        start = time.perf_counter()
        with engine.begin() as conn:
            for fk in _TABLE.foreign_key_constraints:
                conn.execute(DropConstraint(fk))
            # the GIN index too (migration 0008 made it here as well); every table keeps its
            # primary key, timeline_text_words' too: without it a two-word search checks each
            # candidate by reading the whole table of words (hours for one run of the cases)
            _drop_indexes(conn, words_key=False)
            for table in ("videos", "analysis_jobs", "timeline_ranges"):
                conn.execute(text(f'INSERT INTO {table} SELECT * FROM "{src_schema}".{table}'))
        took = time.perf_counter() - start
        vacuum_analyze(engine)
        return took
    finally:
        engine.dispose()


def sizes(engine: Engine) -> tuple[int, int]:
    """timeline_ranges' table and index bytes."""
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT pg_table_size('timeline_ranges'), pg_indexes_size('timeline_ranges')")
        ).one()
    return int(row[0]), int(row[1])
