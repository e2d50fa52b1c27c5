"""Celery beat's scheduler with a heartbeat, so a healthcheck can tell beat is ticking."""

from __future__ import annotations

from typing import Any

from celery.beat import PersistentScheduler

from worker import heartbeat


class HeartbeatScheduler(PersistentScheduler):
    def tick(self, *args: Any, **kwargs: Any) -> float:
        from worker.context import get_context

        heartbeat.beat(get_context().settings.data_dir, "beat")
        return float(super().tick(*args, **kwargs))
