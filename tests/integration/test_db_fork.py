"""A forked process (Celery's prefork pool) never uses the parent's pooled connection.

Sharing one would put two processes on one server session: with PostgreSQL the worker's
pool processes failed with psycopg's DuplicatePreparedStatement and the job stayed stuck.
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text

from worker.db import create_db_engine

pytestmark = pytest.mark.integration

QUERY = text("select 1")
SHARED, FAILED = 2, 3


def test_forked_child_connects_afresh_and_parent_keeps_its_connection(db_url: str) -> None:
    engine = create_db_engine(db_url)
    try:
        with engine.connect() as conn:  # the pool now holds a connection made by this process
            conn.execute(QUERY)
            inherited = conn.connection.dbapi_connection
        child = os.fork()
        if child == 0:  # pragma: no cover - the child reports through its exit status
            code = FAILED
            try:
                with engine.connect() as conn:
                    assert conn.execute(QUERY).scalar_one() == 1
                    code = SHARED if conn.connection.dbapi_connection is inherited else 0
            finally:
                os._exit(code)
        _, status = os.waitpid(child, 0)
        code = os.waitstatus_to_exitcode(status)
        assert code != SHARED, "the child used the connection it inherited from its parent"
        assert code == 0, "the child could not use the database"
        with engine.connect() as conn:
            assert conn.execute(QUERY).scalar_one() == 1
            assert conn.connection.dbapi_connection is inherited, "the parent lost its connection"
    finally:
        engine.dispose()
