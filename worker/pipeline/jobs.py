"""Analysis jobs: create one per requested feature, start it, collect its pages."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

from sqlalchemy import select

from models import AnalysisJob, JobState, Video
from worker.context import AppContext
from worker.engines.port import EngineJobStatus, Feature, JobRequest, VideoSource
from worker.errors import FeatureNotSupportedError, NotFoundError, VidxError
from worker.pipeline.timeline import VideoClock, build_ranges
from worker.progress import reporter
from worker.results import parse_page
from worker.store import finish_pages, get_or_create_job, job_detections, replace_ranges, write_page
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
            raise NotFoundError(f"no video {video_id}")
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


def _set_state(ctx: AppContext, job_id: int, state: JobState, message: str | None = None) -> None:
    with ctx.db.session() as s:
        job = s.get(AnalysisJob, job_id)
        if job is not None:
            store_set_state(job, state, message)


def start_job(ctx: AppContext, job_id: int) -> bool:
    """Start the engine job; True when its results can be collected now."""
    with ctx.db.session() as s:
        job = s.get(AnalysisJob, job_id)
        if job is None:
            raise NotFoundError(f"no analysis job {job_id}")
        if job.state == JobState.SUCCEEDED:
            return False
        video = s.get_one(Video, job.video_id)
        request = JobRequest(
            feature=Feature(job.feature),
            video=VideoSource(video.id, video.sha256 or "", path=Path(video.source)),
            client_token=job.client_token,
            params=dict(job.params),
        )
        engine_name = job.engine
        store_set_state(job, JobState.STARTING)
    engine = ctx.engine(engine_name)
    rep = reporter()
    rep.step(request.feature.value, total=1.0)
    try:
        engine_job_id = engine.start(request, progress=rep.advance)
        state = engine.state(request.feature, engine_job_id)
    except VidxError as exc:
        _set_state(ctx, job_id, JobState.FAILED, str(exc))
        return False
    except Exception as exc:
        # never leave a job half-way: record the failure, then let the task log it
        _set_state(ctx, job_id, JobState.FAILED, _internal(exc))
        raise
    with ctx.db.session() as s:
        job = s.get_one(AnalysisJob, job_id)
        job.engine_job_id = engine_job_id
        store_set_state(job, JobState.IN_PROGRESS)
    if state.status is EngineJobStatus.FAILED:
        _set_state(ctx, job_id, JobState.FAILED, state.message)
        return False
    return state.status is EngineJobStatus.SUCCEEDED


def collect_job(ctx: AppContext, job_id: int) -> JobState:
    """Page every result into detections and rebuild the job's timeline. Idempotent."""
    with ctx.db.session() as s:
        job = s.get_one(AnalysisJob, job_id)
        if job.engine_job_id is None:
            raise VidxError(f"job {job_id} was never started")
        feature, engine_job_id, engine_name = Feature(job.feature), job.engine_job_id, job.engine
        store_set_state(job, JobState.COLLECTING)
    engine = ctx.engine(engine_name)
    rep = reporter()
    rep.step(f"collect {feature.value}")
    pages = 0
    model_version = None
    try:
        for page in engine.pages(feature, engine_job_id):
            parsed = parse_page(feature, page)
            if parsed.job_status == "FAILED":
                raise VidxError(parsed.status_message or "the engine reported the job FAILED")
            model_version = model_version or parsed.model_version
            with ctx.db.session() as s:  # one transaction per page
                write_page(s, s.get_one(AnalysisJob, job_id), pages, parsed.items)
            pages += 1
        with ctx.db.session() as s:
            job = s.get_one(AnalysisJob, job_id)
            video = s.get_one(Video, job.video_id)
            finish_pages(s, job, pages)
            clock = VideoClock(
                video.duration_ms, video.frame_count, Fraction(video.fps_num, video.fps_den)
            )
            replace_ranges(s, job, build_ranges(job_detections(s, job), clock))
            job.model_version = model_version
            store_set_state(job, JobState.SUCCEEDED)
    except VidxError as exc:
        _set_state(ctx, job_id, JobState.FAILED, str(exc))
        return JobState.FAILED
    except Exception as exc:
        _set_state(ctx, job_id, JobState.FAILED, _internal(exc))
        raise
    return JobState.SUCCEEDED


def _internal(exc: Exception) -> str:
    return f"internal error: {type(exc).__name__}: {exc}"[:2000]


def video_jobs_done(ctx: AppContext, video_id: str) -> bool:
    """True when no job of the video is still on its way."""
    with ctx.db.session() as s:
        states = s.scalars(select(AnalysisJob.state).where(AnalysisJob.video_id == video_id)).all()
    return all(st in (JobState.SUCCEEDED, JobState.FAILED) for st in states)


def video_jobs_succeeded(ctx: AppContext, video_id: str) -> bool:
    with ctx.db.session() as s:
        states = s.scalars(select(AnalysisJob.state).where(AnalysisJob.video_id == video_id)).all()
    return all(st == JobState.SUCCEEDED for st in states)


def video_of_job(ctx: AppContext, job_id: int) -> str | None:
    with ctx.db.session() as s:
        job = s.get(AnalysisJob, job_id)
        return job.video_id if job else None


def requested_clips(ctx: AppContext, video_id: str) -> tuple[list[str], str]:
    with ctx.db.session() as s:
        video = s.get_one(Video, video_id)
        return list(video.requested_clips), video.clip_mode
