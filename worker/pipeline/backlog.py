"""The backlog: PENDING jobs of slot-limited engines wait here until a slot frees."""

from __future__ import annotations

from sqlalchemy import select

from models import AnalysisJob, JobState
from worker.context import AppContext

LOCAL_ENGINES = ("local",)


def startable(ctx: AppContext, limit: int | None = None) -> list[int]:
    """Oldest PENDING remote jobs, as many as there are free slots right now.

    Only a hint: start_job claims each job and takes its slot atomically, so a job
    handed out twice (two drains racing) starts once, and one that finds no slot
    simply stays PENDING.
    """
    most = ctx.settings.max_concurrent_jobs  # (no engine has more free slots than that)
    with ctx.db.session() as s:
        engines = s.scalars(
            select(AnalysisJob.engine)
            .where(AnalysisJob.state == JobState.PENDING, AnalysisJob.engine.not_in(LOCAL_ENGINES))
            .distinct()
        ).all()
        waiting = {
            engine: s.scalars(
                select(AnalysisJob.id)
                .where(AnalysisJob.state == JobState.PENDING, AnalysisJob.engine == engine)
                .order_by(AnalysisJob.id)
                .limit(most)
            ).all()
            for engine in engines
        }
    out: list[int] = []
    for engine, ids in waiting.items():  # the slot store is asked with no session open
        slots = ctx.slots(engine)
        free = most - (slots.in_use() if slots else 0)
        if limit is not None:
            free = min(free, limit - len(out))
        if free > 0:
            out += ids[:free]
    return out
