"""Start an analysis job: claim it, take a job slot, stage the video, call the engine.

At most VIDX_MAX_CONCURRENT_JOBS remote jobs are in flight across all workers; a job
that finds no free slot (or that Rekognition refuses with LimitExceeded) waits in the
backlog as PENDING and is started when a slot frees. Every step is safe to repeat:
the claim is a compare-and-set on the job's state and the client token makes a
retried Start* return the same engine job.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import CursorResult, update

from models import AnalysisJob, JobState, Video, utcnow
from worker.context import AppContext
from worker.engines.port import EngineJobStatus, Feature, JobRequest
from worker.errors import (
    EngineUnavailableError,
    LimitExceededError,
    NotFoundError,
    ThrottledError,
    VidxError,
)
from worker.pipeline.jobs import internal_error, set_state
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


def _claim(ctx: AppContext, job_id: int) -> AnalysisJob | None:
    """PENDING/FAILED -> STARTING, atomically: one worker wins a duplicated task."""
    with ctx.db.session() as s:
        result = s.execute(
            update(AnalysisJob)
            .where(AnalysisJob.id == job_id, AnalysisJob.state.in_([JobState.PENDING]))
            .values(state=JobState.STARTING, attempts=AnalysisJob.attempts + 1, updated_at=utcnow())
        )
        claimed = cast(CursorResult[Any], result).rowcount
        job = s.get(AnalysisJob, job_id)
        if job is None:
            raise NotFoundError(f"no analysis job {job_id}")
        return job if claimed else None


def start_job(ctx: AppContext, job_id: int) -> StartOutcome:
    job = _claim(ctx, job_id)
    if job is None:
        return StartOutcome.DONE
    slots = ctx.slots(job.engine)
    if slots is not None and not slots.acquire(slot_key(job_id)):
        set_state(ctx, job_id, JobState.PENDING, "waiting for a free job slot")
        return StartOutcome.BACKLOG
    engine = ctx.engine(job.engine)
    feature = Feature(job.feature)
    rep = reporter()
    rep.step(feature.value, total=1.0)
    try:
        with ctx.db.session() as s:
            video = s.get_one(Video, job.video_id)
            source = video_source(ctx, s, video, engine)
        request = JobRequest(feature, source, job.client_token, dict(job.params))
        engine_job_id = engine.start(request, progress=rep.advance)
        state = engine.state(feature, engine_job_id)
    except LimitExceededError as exc:
        _give_back(ctx, job_id, JobState.PENDING, f"backlog: {exc}")
        return StartOutcome.BACKLOG
    except (ThrottledError, EngineUnavailableError) as exc:
        # transient: the task retries with backoff; the job waits as PENDING meanwhile
        _give_back(ctx, job_id, JobState.PENDING, f"retrying: {exc}")
        raise
    except VidxError as exc:
        _give_back(ctx, job_id, JobState.FAILED, str(exc))
        return StartOutcome.FAILED
    except Exception as exc:
        # never leave a job half-way: record the failure, then let the task log it
        _give_back(ctx, job_id, JobState.FAILED, internal_error(exc))
        raise
    with ctx.db.session() as s:
        row = s.get_one(AnalysisJob, job_id)
        row.engine_job_id = engine_job_id
        row.checked_at = utcnow()
        store_set_state(row, JobState.IN_PROGRESS)
    if state.status is EngineJobStatus.FAILED:
        _give_back(ctx, job_id, JobState.FAILED, state.message or "the engine reported FAILED")
        return StartOutcome.FAILED
    if state.status is EngineJobStatus.SUCCEEDED:
        return StartOutcome.COLLECT_NOW
    return StartOutcome.WAITING


def _give_back(ctx: AppContext, job_id: int, state: JobState, message: str) -> None:
    """Record the outcome and free the job's slot for the backlog."""
    set_state(ctx, job_id, state, message)
    release_slot(ctx, job_id)


def release_slot(ctx: AppContext, job_id: int) -> None:
    with ctx.db.session() as s:
        job = s.get(AnalysisJob, job_id)
        engine = job.engine if job else None
    slots = ctx.slots(engine) if engine else None
    if slots is not None:
        slots.release(slot_key(job_id))
