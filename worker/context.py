"""Per-process application context: settings, database, engines and the enqueue port,
built lazily.

Tasks and CLI commands ask for the context instead of building clients themselves;
tests install their own with `use_context`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from worker.config import Settings, get_settings
from worker.db import Database
from worker.engines.port import Engine
from worker.engines.registry import analysis_engine
from worker.enqueue import Enqueue, celery_enqueue

if TYPE_CHECKING:
    from worker.aws.clients import AwsClients
    from worker.aws.limiter import JobSlots


@dataclass
class AppContext:
    settings: Settings
    _db: Database | None = None
    _engines: dict[str, Engine] = field(default_factory=dict)
    _migrated: bool = False
    _slots: JobSlots | None = None
    _aws: AwsClients | None = None
    _enqueue: Enqueue | None = None  # default: the Celery app's, as configured at each use

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = Database.from_url(self.settings.effective_database_url)
        return self._db

    def migrated_db(self) -> Database:
        """The database, upgraded to the latest schema once per process."""
        if not self._migrated:
            self.db.upgrade()
            self._migrated = True
        return self.db

    @property
    def aws(self) -> AwsClients:
        """boto3 clients, made on first use (never at import time)."""
        if self._aws is None:
            from worker.aws.clients import AwsClients

            self._aws = AwsClients()
        return self._aws

    @property
    def enqueue(self) -> Enqueue:
        """Where the next pipeline step goes (worker/enqueue.py): the Celery tasks, sent to
        the broker or, with none, run in this process; chosen again at every use, so a
        `reconfigure()` of the Celery app is followed."""
        return self._enqueue if self._enqueue is not None else celery_enqueue()

    def slots(self, engine: str) -> JobSlots | None:
        """The job-slot limiter for a remote engine; local analysis is not slot-limited."""
        if engine == "local":
            return None
        return self.job_slots()

    def job_slots(self) -> JobSlots:
        """The one limiter every remote engine's jobs share (Rekognition's account limit)."""
        if self._slots is None:
            from worker.aws.limiter import LocalJobSlots, RedisJobSlots

            s = self.settings
            url = s.redis_url or (
                s.broker_url if (s.broker_url or "").startswith("redis") else None
            )
            if url:
                import redis

                self._slots = RedisJobSlots(
                    redis.Redis.from_url(url), s.max_concurrent_jobs, s.slot_lease_s
                )
            else:  # in-process: one process, so a local counter is the whole truth
                self._slots = LocalJobSlots(s.max_concurrent_jobs, s.slot_lease_s)
        return self._slots

    def _aws_if_needed(self, engine: str) -> AwsClients | None:
        return self.aws if engine == "aws" else None

    def engine(self, name: str) -> Engine:
        if name not in self._engines:
            self._engines[name] = analysis_engine(
                name, self.settings, aws=self._aws_if_needed(name)
            )
        return self._engines[name]


_context: AppContext | None = None


def get_context() -> AppContext:
    global _context
    if _context is None:
        _context = AppContext(get_settings())
    return _context


@contextmanager
def use_context(ctx: AppContext) -> Iterator[AppContext]:
    global _context
    previous, _context = _context, ctx
    try:
        yield ctx
    finally:
        _context = previous
