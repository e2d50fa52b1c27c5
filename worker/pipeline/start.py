"""Start an analysis job: claim it, take a job slot, stage the video, call the engine.

At most VIDX_MAX_CONCURRENT_JOBS remote jobs are in flight across all workers; a job
that finds no free slot (or that Rekognition refuses with LimitExceeded) waits in the
backlog as PENDING and is started when a slot frees. Every step is safe to repeat:
the claim is a compare-and-set on the job's state and the client token makes a
retried Start* return the same engine job.
"""

from __future__ import annotations

import logging
import uuid
from enum import StrEnum

from models import AnalysisJob, JobState, Video, utcnow
from worker.context import AppContext
from worker.engines.local.engine import LocalEngine
from worker.engines.port import Engine, EngineJobStatus, Feature, JobRequest
from worker.errors import (
    TRANSIENT_ERRORS,
    LimitExceededError,
    SlotsUnavailableError,
    ThrottledError,
    VidxError,
)
from worker.pipeline import gone, lease
from worker.pipeline.jobs import internal_error
from worker.pipeline.stage import video_source
from worker.progress import reporter
from worker.store import set_state as store_set_state

log = logging.getLogger(__name__)


class StartOutcome(StrEnum):
    COLLECT_NOW = "collect_now"  # results are ready (local engine, or an early finish)
    WAITING = "waiting"  # running remotely: completion arrives by notification
    BACKLOG = "backlog"  # no slot (or LimitExceeded): PENDING until a slot frees
    FAILED = "failed"
    DONE = "done"  # nothing to do: already succeeded, or another worker has it


def slot_key(job_id: int) -> str:
    return f"job:{job_id}"


def _claim(ctx: AppContext, job_id: int, owner: str) -> AnalysisJob | None:
    """PENDING -> STARTING, atomically: one run wins a duplicated task; a retry of the
    winning task (same owner) takes its STARTING job back."""
    won = lease.claim(
        ctx,
        job_id,
        owner,
        [JobState.PENDING],
        JobState.STARTING,
        ctx.settings.reconcile_after_s,
        take_expired=False,  # a start interrupted for good is requeued by the reconciler
        attempts=AnalysisJob.attempts + 1,
    )
    with ctx.db.session() as s:
        job = s.get(AnalysisJob, job_id)
        if job is None:  # deleted with its video: nothing to start
            log.info("job %s is gone (its video was deleted); nothing to start", job_id)
            return None
        return job if won else None


def start_job(ctx: AppContext, job_id: int, owner: str | None = None) -> StartOutcome:
    owner = owner or uuid.uuid4().hex
    job = _claim(ctx, job_id, owner)
    if job is None:
        return StartOutcome.DONE
    slots = ctx.slots(job.engine)
    try:
        if slots is not None and not slots.acquire(slot_key(job_id)):
            _back_to_backlog(ctx, job_id, owner, "waiting for a free job slot")
            return StartOutcome.BACKLOG
    except SlotsUnavailableError as exc:
        _back_to_backlog(ctx, job_id, owner, f"retrying: {exc}")
        raise
    engine = ctx.engine(job.engine)
    feature = Feature(job.feature)
    rep = reporter()
    rep.step(feature.value, total=1.0)
    try:
        source = video_source(ctx, job.video_id, engine)  # (staging holds no session)
        request = JobRequest(feature, source, job.client_token, dict(job.params))
        engine_job_id = engine.start(request, progress=rep.advance)
    except (LimitExceededError, ThrottledError) as exc:
        # refused: the engine did not start it, so the slot goes back at once; throttling
        # is retried by the task (backoff), LimitExceeded waits in the backlog
        if isinstance(exc, ThrottledError):
            _give_back(ctx, job_id, owner, JobState.PENDING, f"retrying: {exc}")
            raise
        _give_back(ctx, job_id, owner, JobState.PENDING, f"backlog: {exc}")
        return StartOutcome.BACKLOG
    except TRANSIENT_ERRORS:
        # unreachable (the call may have reached the engine) or our database dropped: the
        # job stays STARTING with its slot and the task's retry (same owner, same client
        # token, so the same engine job) takes it up again
        raise
    except gone.VideoDeletedError:
        _abandoned(ctx, job)
        return StartOutcome.DONE
    except VidxError as exc:
        _give_back(ctx, job_id, owner, JobState.FAILED, str(exc))
        return StartOutcome.FAILED
    except Exception as exc:
        if _abandoned(ctx, job):  # e.g. its video row went mid-upload
            return StartOutcome.DONE
        # never leave a job half-way: record the failure, then let the task log it
        log.exception("job %s: start failed", job_id)
        _give_back(ctx, job_id, owner, JobState.FAILED, internal_error(exc))
        raise
    try:
        _record_started(ctx, job_id, owner, engine_job_id)
    except lease.LeaseLostError:
        if _abandoned(ctx, job, engine, engine_job_id):
            return StartOutcome.DONE
        # the reconciler requeued this slow start meanwhile: the requeued run starts the
        # same engine job again (same client token) and records it
        log.warning("job %s: requeued while starting; leaving it to the new run", job_id)
        return StartOutcome.DONE
    # From here the job runs at the engine and keeps its slot until it is known finished.
    try:
        state = engine.state(feature, engine_job_id)
    except VidxError as exc:
        # the early look is only a shortcut: the notification or the reconciler tells
        log.info("job %s: status not checked after start (%s); waiting", job_id, exc)
        return StartOutcome.WAITING
    if state.status is EngineJobStatus.FAILED:
        _fail_started(ctx, job_id, state.message or "the engine reported FAILED")
        return StartOutcome.FAILED
    if state.status is EngineJobStatus.SUCCEEDED:
        return StartOutcome.COLLECT_NOW
    return StartOutcome.WAITING


def _abandoned(
    ctx: AppContext, job: AnalysisJob, engine: Engine | None = None, started: str | None = None
) -> bool:
    """True when the job's video was deleted while this run started it (a forced
    delete): its slot is freed and a local result written meanwhile is removed, so
    nothing of the video stays behind. (A Rekognition job started meanwhile runs to its
    end at AWS; its notification then names an unknown job and changes nothing.)"""
    with ctx.db.session() as s:
        video = s.get(Video, job.video_id)
        if video is not None and not gone.is_deleting(video):
            return False
    log.info("job %s: its video %s was deleted while it started; dropping it", job.id, job.video_id)
    release_slot(ctx, job.id, job.engine)
    if isinstance(engine, LocalEngine) and started is not None:
        gone.discard_made(ctx, job.video_id, engine.result_path(started))
    return True


def _record_started(ctx: AppContext, job_id: int, owner: str, engine_job_id: str) -> None:
    with ctx.db.session() as s:
        lease.hold(s, job_id, owner, JobState.STARTING, ctx.settings.reconcile_after_s)
        row = s.get_one(AnalysisJob, job_id)
        row.engine_job_id = engine_job_id
        row.checked_at = utcnow()
        store_set_state(row, JobState.IN_PROGRESS)
        lease.end(row)


def _back_to_backlog(ctx: AppContext, job_id: int, owner: str, message: str) -> None:
    """No slot (yet): the job waits as PENDING, nothing to give back."""
    _record(ctx, job_id, owner, JobState.PENDING, message)


def _record(ctx: AppContext, job_id: int, owner: str, state: JobState, message: str) -> bool:
    """The owner of a STARTING job moves it on; False when another run owns it now."""
    with ctx.db.session() as s:
        try:
            lease.hold(s, job_id, owner, JobState.STARTING, ctx.settings.reconcile_after_s)
        except lease.LeaseLostError:
            return False
        row = s.get_one(AnalysisJob, job_id)
        store_set_state(row, state, message)
        lease.end(row)
    return True


def _fail_started(ctx: AppContext, job_id: int, message: str) -> None:
    """The engine reports the started job FAILED: record it unless it moved on already."""
    with ctx.db.session() as s:
        row = s.get_one(AnalysisJob, job_id)
        if row.state != JobState.IN_PROGRESS:
            return
        store_set_state(row, JobState.FAILED, message)
    release_slot(ctx, job_id)


def _give_back(ctx: AppContext, job_id: int, owner: str, state: JobState, message: str) -> None:
    """Record the outcome of a start that did not start anything, and free its slot
    (unless another run has the job now: the slot is then its own)."""
    if _record(ctx, job_id, owner, state, message):
        release_slot(ctx, job_id)


def release_slot(ctx: AppContext, job_id: int, engine: str | None = None) -> None:
    """Free the job's slot; `engine` names its engine when the row may be gone."""
    if engine is None:
        with ctx.db.session() as s:
            job = s.get(AnalysisJob, job_id)
            engine = job.engine if job else None
    slots = ctx.slots(engine) if engine else None
    if slots is not None:
        slots.release(slot_key(job_id))
