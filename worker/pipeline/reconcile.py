"""The reconciler: a lost notification costs minutes, not a job.

Jobs in flight longer than VIDX_RECONCILE_AFTER_S since they were last looked at
are asked about with Get* (MaxResults 1); finished ones are collected or failed.
Every run also renews the slot leases of jobs still in flight, frees slots whose job
is no longer in flight (a release lost to a Redis blip), collects again jobs whose
collect stopped holding its lease (its worker died), and puts back into the backlog
jobs whose worker died half-way through starting them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from models import AnalysisJob, JobState, utcnow
from worker.context import AppContext
from worker.engines.port import EngineJobStatus, Feature
from worker.enqueue import Enqueue
from worker.errors import (
    EngineUnavailableError,
    ResultsExpiredError,
    SlotsUnavailableError,
    ThrottledError,
    VidxError,
)
from worker.pipeline import lease
from worker.pipeline.backlog import LOCAL_ENGINES
from worker.pipeline.collect import EXPIRED_HINT
from worker.pipeline.start import release_slot, slot_key
from worker.store import set_state

IN_FLIGHT = (JobState.STARTING, JobState.IN_PROGRESS, JobState.COLLECTING)

log = logging.getLogger(__name__)


@dataclass
class ReconcileReport:
    to_collect: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    still_running: int = 0
    requeued: int = 0
    skipped: int = 0  # throttled or unreachable this time; asked again next run
    slots_freed: int = 0  # held for a job no longer in flight

    def counts(self) -> dict[str, int]:
        return {
            "to_collect": len(self.to_collect),
            "failed": len(self.failed),
            "still_running": self.still_running,
            "requeued": self.requeued,
            "skipped": self.skipped,
            "slots_freed": self.slots_freed,
        }


def follow_up(report: ReconcileReport, enqueue: Enqueue) -> None:
    """Send what a run found: collect the finished jobs, end the failed ones (their
    video's clips follow once all its jobs ended), then start what the backlog can.
    The `reconcile` task and `vidx run`'s in-process wait both send it this way."""
    for job_id in report.to_collect:
        enqueue.collect_job(job_id)
    for job_id in report.failed:
        enqueue.after_job(job_id)
    enqueue.drain_backlog()


def reconcile(
    ctx: AppContext, now: datetime | None = None, *, min_age_s: float | None = None
) -> ReconcileReport:
    """One run. `min_age_s` is how long a job waits before it is looked at (default:
    VIDX_RECONCILE_AFTER_S); 0 looks at every job in flight now (`vidx run`'s wait)."""
    now = now or utcnow()
    age_s = ctx.settings.reconcile_after_s if min_age_s is None else min_age_s
    stale = now - timedelta(seconds=age_s)
    report = ReconcileReport()
    to_ask: list[AnalysisJob] = []
    with ctx.db.session() as s:
        in_flight = s.scalars(
            select(AnalysisJob).where(
                AnalysisJob.state.in_(IN_FLIGHT), AnalysisJob.engine.not_in(LOCAL_ENGINES)
            )
        ).all()
        running = [j for j in in_flight if j.state != JobState.STARTING]  # (before requeues)
        for job in in_flight:
            if job.state == JobState.COLLECTING and _lapsed(job, now, stale):
                report.to_collect.append(job.id)  # its collector died; collecting is idempotent
            elif (
                job.state == JobState.IN_PROGRESS
                and (job.checked_at or job.started_at or stale) <= stale
            ):
                to_ask.append(job)
        for job in s.scalars(
            select(AnalysisJob).where(
                AnalysisJob.state == JobState.STARTING, AnalysisJob.updated_at < stale
            )
        ):
            set_state(job, JobState.PENDING, "requeued: its start was interrupted")
            lease.end(job)
            report.requeued += 1
    # no session is open from here on while Redis and the engine are asked
    _renew(ctx, running)
    for job in to_ask:
        _ask(ctx, job, now, report)
    for job_id in report.failed:
        release_slot(ctx, job_id)
    report.slots_freed = free_orphan_slots(ctx)
    return report


def _lapsed(job: AnalysisJob, now: datetime, stale: datetime) -> bool:
    if job.lease_until is not None:
        return job.lease_until < now
    return job.updated_at < stale  # collected by a version without leases


def _renew(ctx: AppContext, jobs: Sequence[AnalysisJob]) -> None:
    """Keep the leases of slots whose jobs are still running at the engine."""
    try:
        for job in jobs:
            slots = ctx.slots(job.engine)
            if slots is not None and job.state != JobState.STARTING:
                slots.renew(slot_key(job.id))
    except SlotsUnavailableError as exc:
        log.warning("reconcile: slot leases not renewed this time: %s", exc)


def free_orphan_slots(ctx: AppContext) -> int:
    """Free slots held for jobs that are finished, back in the backlog or gone.

    Each is released only if its lease is still the one read here: a job claimed and
    started again in between has renewed it and keeps its slot.
    """
    try:
        slots = ctx.job_slots()
        held = slots.holders()
        if not held:
            return 0
        ids = {key: _job_id(key) for key in held}
        with ctx.db.session() as s:
            flying = set(
                s.scalars(
                    select(AnalysisJob.id).where(
                        AnalysisJob.id.in_([i for i in ids.values() if i is not None]),
                        AnalysisJob.state.in_(IN_FLIGHT),
                    )
                ).all()
            )
        freed = 0
        for key, version in held.items():
            if ids[key] not in flying and slots.release_if(key, version):
                log.info("reconcile: freed the slot of %s (its job is not in flight)", key)
                freed += 1
        return freed
    except SlotsUnavailableError as exc:
        log.warning("reconcile: slots not checked this time: %s", exc)
        return 0


def _job_id(key: str) -> int | None:
    prefix, _, number = key.partition(":")
    return int(number) if prefix == "job" and number.isdigit() else None


def _ask(ctx: AppContext, job: AnalysisJob, now: datetime, report: ReconcileReport) -> None:
    """Get* about the job, with no session open; the answer is recorded in a short one."""
    assert job.engine_job_id is not None
    try:
        state = ctx.engine(job.engine).state(Feature(job.feature), job.engine_job_id)
    except (ThrottledError, EngineUnavailableError) as exc:
        log.warning("reconcile: job %s not checked this time: %s", job.id, exc)
        report.skipped += 1
        return
    except ResultsExpiredError as exc:
        _record(ctx, job, report, EngineJobStatus.FAILED, f"{exc} ({EXPIRED_HINT})")
        return
    except VidxError as exc:
        _record(ctx, job, report, EngineJobStatus.FAILED, str(exc))
        return
    message = state.message or "the engine reported FAILED"
    _record(ctx, job, report, state.status, message, checked_at=now)


def _record(
    ctx: AppContext,
    job: AnalysisJob,
    report: ReconcileReport,
    status: EngineJobStatus,
    failure: str,
    checked_at: datetime | None = None,
) -> None:
    """Record the engine's answer about `job` (FAILED: the job fails with `failure`;
    SUCCEEDED: it is to be collected), unless the job moved on while the engine was asked
    (collected after its notification, restarted, deleted with its video): that is kept."""
    with ctx.db.session() as s:
        row = s.get(AnalysisJob, job.id, with_for_update=True)
        if row is None or (row.state, row.engine_job_id) != (
            JobState.IN_PROGRESS,
            job.engine_job_id,
        ):
            log.info("reconcile: job %s moved on while the engine was asked; left as it is", job.id)
            return
        if checked_at is not None:
            row.checked_at = checked_at
        if status is EngineJobStatus.FAILED:
            set_state(row, JobState.FAILED, failure)
    if status is EngineJobStatus.FAILED:
        report.failed.append(job.id)
    elif status is EngineJobStatus.SUCCEEDED:
        report.to_collect.append(job.id)
    else:
        report.still_running += 1
