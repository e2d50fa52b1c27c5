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
from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.orm import Session, sessionmaker

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


def make_engine(url: str) -> Engine:
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
    return make_engine(url)


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
        """A transaction: committed on success, rolled back on any error."""
        with self._factory() as session, session.begin():
            yield session
