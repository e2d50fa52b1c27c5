"""The reconciler: a lost notification costs minutes, not a job.

Jobs in flight longer than VIDX_RECONCILE_AFTER_S since they were last looked at
are asked about with Get* (MaxResults 1); finished ones are collected or failed.
Every run also renews the slot leases of jobs still in flight, and puts back into
the backlog jobs whose worker died half-way through starting them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from models import AnalysisJob, JobState, utcnow
from worker.context import AppContext
from worker.engines.port import EngineJobStatus, Feature
from worker.errors import (
    EngineUnavailableError,
    ResultsExpiredError,
    ThrottledError,
    VidxError,
)
from worker.pipeline.backlog import LOCAL_ENGINES
from worker.pipeline.collect import EXPIRED_HINT
from worker.pipeline.start import release_slot, slot_key
from worker.store import set_state

log = logging.getLogger(__name__)


@dataclass
class ReconcileReport:
    to_collect: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    still_running: int = 0
    requeued: int = 0
    skipped: int = 0  # throttled or unreachable this time; asked again next run

    def counts(self) -> dict[str, int]:
        return {
            "to_collect": len(self.to_collect),
            "failed": len(self.failed),
            "still_running": self.still_running,
            "requeued": self.requeued,
            "skipped": self.skipped,
        }


def reconcile(ctx: AppContext, now: datetime | None = None) -> ReconcileReport:
    now = now or utcnow()
    stale = now - timedelta(seconds=ctx.settings.reconcile_after_s)
    report = ReconcileReport()
    with ctx.db.session() as s:
        in_flight = s.scalars(
            select(AnalysisJob).where(
                AnalysisJob.state.in_([JobState.IN_PROGRESS, JobState.COLLECTING]),
                AnalysisJob.engine.not_in(LOCAL_ENGINES),
            )
        ).all()
        for job in in_flight:
            slots = ctx.slots(job.engine)
            if slots is not None:
                slots.renew(slot_key(job.id))
            if job.state == JobState.COLLECTING and job.updated_at < stale:
                report.to_collect.append(job.id)  # its collector died; collecting is idempotent
            elif (
                job.state == JobState.IN_PROGRESS
                and (job.checked_at or job.started_at or stale) <= stale
            ):
                _ask(ctx, job, now, report)
        for job in s.scalars(
            select(AnalysisJob).where(
                AnalysisJob.state == JobState.STARTING, AnalysisJob.updated_at < stale
            )
        ):
            set_state(job, JobState.PENDING, "requeued: its start was interrupted")
            report.requeued += 1
    for job_id in report.failed:
        release_slot(ctx, job_id)
    return report


def _ask(ctx: AppContext, job: AnalysisJob, now: datetime, report: ReconcileReport) -> None:
    assert job.engine_job_id is not None
    try:
        state = ctx.engine(job.engine).state(Feature(job.feature), job.engine_job_id)
    except (ThrottledError, EngineUnavailableError) as exc:
        log.warning("reconcile: job %s not checked this time: %s", job.id, exc)
        report.skipped += 1
        return
    except ResultsExpiredError as exc:
        set_state(job, JobState.FAILED, f"{exc} ({EXPIRED_HINT})")
        report.failed.append(job.id)
        return
    except VidxError as exc:
        set_state(job, JobState.FAILED, str(exc))
        report.failed.append(job.id)
        return
    job.checked_at = now
    if state.status is EngineJobStatus.SUCCEEDED:
        report.to_collect.append(job.id)
    elif state.status is EngineJobStatus.FAILED:
        set_state(job, JobState.FAILED, state.message or "the engine reported FAILED")
        report.failed.append(job.id)
    else:
        report.still_running += 1
