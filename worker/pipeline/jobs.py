"""Analysis jobs: one per requested feature and parameters; queries about a video's jobs."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AnalysisJob, JobState, Video
from worker.context import AppContext
from worker.engines.port import Feature
from worker.errors import FeatureNotSupportedError, VideoNotFoundError
from worker.pipeline import gone
from worker.store import client_token, get_or_create_job
from worker.store import set_state as store_set_state

log = logging.getLogger(__name__)

# Defaults match Rekognition's documented defaults, so both engines answer alike.
DEFAULT_PARAMS: dict[Feature, dict[str, Any]] = {
    Feature.SEGMENTS: {
        "segment_types": ["TECHNICAL_CUE", "SHOT"],
        "black_max_pixel_threshold": 0.2,
        "black_min_coverage": 99.0,
        "min_shot_confidence": 50.0,
        "min_cue_confidence": 50.0,
    },
    Feature.LABELS: {"min_confidence": 50.0},
    Feature.MODERATION: {"min_confidence": 50.0},
    Feature.FACES: {"face_attributes": "DEFAULT"},
    Feature.TEXT: {"min_confidence": 80.0},  # WordFilter (worker/engines/text_params.py)
}


def create_jobs(
    ctx: AppContext,
    video_id: str,
    features: Sequence[Feature],
    engine: str,
    params: Mapping[Feature, Mapping[str, Any]] | None = None,
) -> list[int]:
    check_supported(ctx, features, engine)
    ids = []
    with ctx.db.session() as s:
        video = s.get(Video, video_id)
        if video is None:
            raise VideoNotFoundError(video_id)
        for feature in features:
            p = {**DEFAULT_PARAMS[feature], **((params or {}).get(feature) or {})}
            ids.append(get_or_create_job(s, video, feature.value, p, engine).id)
    return ids


def check_supported(ctx: AppContext, features: Sequence[Feature], engine: str) -> None:
    """Refuse before anything is queued: never an empty answer for a missing detector."""
    eng = ctx.engine(engine)
    missing = [f.value for f in features if not eng.supports(f)]
    if missing:
        have = [f.value for f in Feature if eng.supports(f)]
        raise FeatureNotSupportedError(
            f"the {engine} engine does not detect {', '.join(missing)} yet "
            f"(it has: {', '.join(have)})"
        )


def set_state(ctx: AppContext, job_id: int, state: JobState, message: str | None = None) -> None:
    with ctx.db.session() as s:
        job = s.get(AnalysisJob, job_id)
        if job is not None:
            store_set_state(job, state, message)


def internal_error(exc: BaseException) -> str:
    """The stored (and served) message for an unexpected error: its kind, never its text,
    which may carry SQL, parameters or paths; the worker log has the traceback."""
    return f"internal error ({type(exc).__name__}); the worker log has the details"


def _job_states(ctx: AppContext, video_id: str) -> Sequence[str]:
    with ctx.db.session() as s:
        return s.scalars(select(AnalysisJob.state).where(AnalysisJob.video_id == video_id)).all()


def video_jobs_done(ctx: AppContext, video_id: str) -> bool:
    """True when no job of the video is still on its way."""
    return all(st in (JobState.SUCCEEDED, JobState.FAILED) for st in _job_states(ctx, video_id))


def video_jobs_succeeded(ctx: AppContext, video_id: str) -> bool:
    return all(st == JobState.SUCCEEDED for st in _job_states(ctx, video_id))


def jobs_succeeded(ctx: AppContext, job_ids: Sequence[int]) -> bool:
    with ctx.db.session() as s:
        states = s.scalars(select(AnalysisJob.state).where(AnalysisJob.id.in_(job_ids))).all()
    return all(st == JobState.SUCCEEDED for st in states)


def video_of_job(ctx: AppContext, job_id: int) -> str | None:
    with ctx.db.session() as s:
        job = s.get(AnalysisJob, job_id)
        return job.video_id if job else None


def requested_clips(ctx: AppContext, video_id: str) -> tuple[list[str], str]:
    """The clips asked for; VideoDeletedError once the video is gone or being deleted."""
    with ctx.db.session() as s:
        video = gone.live_video(s, video_id)
        return list(video.requested_clips), video.clip_mode


def restart_failed(ctx: AppContext, video_id: str, features: Sequence[Feature]) -> list[int]:
    """`submit --force`: failed (or expired) jobs start over as new engine jobs.

    The generation is part of the client token, so the engine sees a new request
    instead of answering with the old, failed or expired, job.
    """
    ids = []
    with ctx.db.session() as s:
        for job in s.scalars(
            select(AnalysisJob).where(
                AnalysisJob.video_id == video_id,
                AnalysisJob.feature.in_([f.value for f in features]),
                AnalysisJob.state == JobState.FAILED,
            )
        ):
            job.generation += 1
            job.client_token = client_token(
                _token_base(s, job), job.feature, job.params, job.generation
            )
            job.engine_job_id = None
            store_set_state(job, JobState.PENDING)
            ids.append(job.id)
    return ids


def _token_base(session: Session, job: AnalysisJob) -> str:
    video = session.get_one(Video, job.video_id)
    return video.sha256 or video.id
