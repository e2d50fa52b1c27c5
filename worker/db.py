"""Database engine, sessions and Alembic upgrades (Alembic is the only schema source)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.orm import Session, sessionmaker

from worker.errors import DatabaseUnavailableError, VidxError

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL + busy timeout: a worker and the CLI can share the embedded database
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _remember_pid(_dbapi_conn: Any, record: Any) -> None:
    record.info["pid"] = os.getpid()


def _refuse_other_pid(_dbapi_conn: Any, record: Any, proxy: Any) -> None:
    # A pooled connection made before a fork (the Celery prefork pool forks after `vidx worker`
    # checked the schema) must never be used by the child: parent and children would talk over
    # one server session and corrupt it (seen as psycopg's DuplicatePreparedStatement). The pool
    # then discards it, without closing the parent's socket, and connects afresh.
    # (SQLAlchemy docs: "Using Connection Pools with Multiprocessing or os.fork()".)
    if record.info.get("pid") != os.getpid():
        record.dbapi_connection = proxy.dbapi_connection = None
        raise exc.DisconnectionError("connection belongs to another process (forked)")


def _fork_safe(engine: Engine) -> Engine:
    event.listen(engine, "connect", _remember_pid)
    event.listen(engine, "checkout", _refuse_other_pid)
    return engine


def create_db_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return _fork_safe(engine)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return _fork_safe(create_engine(url, pool_pre_ping=True))


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    return create_db_engine(url)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def require_head(engine: Engine) -> None:
    """Raise VidxError unless the database's schema is at the latest migration (a server
    database is upgraded by `vidx db upgrade`, never behind the back of its other users)."""
    head = ScriptDirectory.from_config(alembic_config("")).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current != head:
        raise VidxError(
            f"database schema is at {current or 'nothing'}, not {head}: run `vidx db upgrade`"
        )


# PostgreSQL SQLSTATEs worth retrying: connection exceptions (class 08), the server going
# away (57P01 admin_shutdown from pg_terminate_backend, 57P02 crash_shutdown, 57P03
# cannot_connect_now), too_many_connections, and transactions the server aborted to
# resolve a conflict (serialization failure, deadlock).
_TRANSIENT_SQLSTATE_PREFIXES = ("08", "53300", "57P01", "57P02", "57P03", "40001", "40P01")
# SQLite's only transient errors: another connection holds the write lock too long
_TRANSIENT_SQLITE = ("database is locked", "database is busy")


def is_transient(error: BaseException) -> bool:
    """True for database errors that a later attempt may not meet (never for bad SQL)."""
    if isinstance(error, exc.DisconnectionError):
        return True
    if not isinstance(error, exc.DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    sqlstate = getattr(error.orig, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate.startswith(_TRANSIENT_SQLSTATE_PREFIXES)
    if isinstance(error, exc.OperationalError):
        text = str(error.orig).lower()
        # psycopg raises OperationalError without a SQLSTATE when the socket itself is gone
        return any(
            t in text for t in _TRANSIENT_SQLITE
        ) or error.orig.__class__.__module__.startswith("psycopg")
    return False


def describe_transient(error: BaseException) -> str:
    """What happened, in words safe to store and show: never the SQL or its parameters."""
    sqlstate = getattr(getattr(error, "orig", None), "sqlstate", None) or ""
    if sqlstate in ("40001", "40P01"):
        return "the database aborted a conflicting transaction; retrying"
    if isinstance(error, exc.OperationalError) and any(
        t in str(error.orig).lower() for t in _TRANSIENT_SQLITE
    ):
        return "the database was busy; retrying"
    return "the database connection was lost; retrying"


class Database:
    """The engine plus a session factory; passed to services instead of globals."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._factory = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls(engine_for(url))

    def upgrade(self) -> None:
        upgrade(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed on success, rolled back on any error.

        A dropped connection or an aborted transaction leaves as DatabaseUnavailableError
        (transient: tasks retry the step); the pool's pre-ping replaces dead connections.
        """
        try:
            with self._factory() as session, session.begin():
                yield session
        except (exc.DBAPIError, exc.DisconnectionError) as error:
            if is_transient(error):
                raise DatabaseUnavailableError(describe_transient(error)) from error
            raise
