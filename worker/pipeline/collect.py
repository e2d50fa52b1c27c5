"""Collect a finished job: page every result through the one parser into the store,
then rebuild the job's timeline. Idempotent: collecting twice leaves the same rows."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from fractions import Fraction

from models import AnalysisJob, JobState, Video
from worker.context import AppContext
from worker.engines.port import Feature, ResultPage
from worker.errors import (
    EngineUnavailableError,
    ResultsExpiredError,
    ThrottledError,
    VidxError,
)
from worker.pipeline.jobs import internal_error, set_state
from worker.pipeline.start import release_slot
from worker.pipeline.timeline import VideoClock, build_ranges
from worker.progress import reporter
from worker.results import ParsedDetection, VideoMeta, parse_page
from worker.store import clear_results, finish_pages, replace_ranges, write_page
from worker.store import set_state as store_set_state

log = logging.getLogger(__name__)

EXPIRED_HINT = (
    "the results have expired: Rekognition keeps them 7 days; "
    "`vidx submit --force` starts the job again"
)


def collect_job(ctx: AppContext, job_id: int) -> JobState:
    with ctx.db.session() as s:
        job = s.get_one(AnalysisJob, job_id)
        if job.state == JobState.SUCCEEDED:
            return JobState.SUCCEEDED  # a duplicate or late notification changes nothing
        if job.engine_job_id is None:
            raise VidxError(f"job {job_id} was never started")
        feature, engine_job_id, engine_name = Feature(job.feature), job.engine_job_id, job.engine
        store_set_state(job, JobState.COLLECTING)
    engine = ctx.engine(engine_name)
    try:
        store_pages(ctx, job_id, feature, engine.pages(feature, engine_job_id))
    except (ThrottledError, EngineUnavailableError):
        set_state(ctx, job_id, JobState.IN_PROGRESS, "collect will be retried")
        raise  # transient: the task retries with backoff, keeping the job's slot
    except ResultsExpiredError as exc:
        _finish(ctx, job_id, JobState.FAILED, f"{exc} ({EXPIRED_HINT})")
        return JobState.FAILED
    except VidxError as exc:
        _finish(ctx, job_id, JobState.FAILED, str(exc))
        return JobState.FAILED
    except Exception as exc:
        _finish(ctx, job_id, JobState.FAILED, internal_error(exc))
        raise
    release_slot(ctx, job_id)
    return JobState.SUCCEEDED


def _finish(ctx: AppContext, job_id: int, state: JobState, message: str) -> None:
    """End a failed collect: no half-collected rows stay behind, the slot is freed."""
    with ctx.db.session() as s:
        job = s.get_one(AnalysisJob, job_id)
        clear_results(s, job)
        store_set_state(job, state, message)
    release_slot(ctx, job_id)


def store_pages(ctx: AppContext, job_id: int, feature: Feature, pages: Iterable[ResultPage]) -> int:
    """Parse and store every page (one transaction each), then the timeline; item count."""
    rep = reporter()
    rep.step(f"collect {feature.value}")
    count = 0
    model_version = None
    meta: VideoMeta | None = None
    parsed_items: list[ParsedDetection] = []
    for count, page in enumerate(pages, start=1):
        parsed = parse_page(feature, page)
        if parsed.job_status == "FAILED":
            raise VidxError(parsed.status_message or "the engine reported the job FAILED")
        if parsed.job_status != "SUCCEEDED":
            raise VidxError(f"the job is {parsed.job_status}, not finished")
        model_version = model_version or parsed.model_version
        meta = meta or parsed.video
        with ctx.db.session() as s:
            write_page(s, s.get_one(AnalysisJob, job_id), count - 1, parsed.items)
        parsed_items.extend(parsed.items)
    with ctx.db.session() as s:
        job = s.get_one(AnalysisJob, job_id)
        video = s.get_one(Video, job.video_id)
        if meta is not None and video.frame_count == 0:
            _fill_facts(video, meta)  # known only by S3 URI or from imported pages
        items = finish_pages(s, job, count)
        clock = VideoClock(
            video.duration_ms, video.frame_count, Fraction(video.fps_num, video.fps_den)
        )
        replace_ranges(s, job, build_ranges(parsed_items, clock))
        job.model_version = model_version
        store_set_state(job, JobState.SUCCEEDED)
    return items


def _fill_facts(video: Video, meta: VideoMeta) -> None:
    video.duration_ms = meta.duration_ms
    video.fps_num, video.fps_den = meta.fps.numerator, meta.fps.denominator
    video.frame_count = int(meta.duration_ms * meta.fps / 1000)
    video.width, video.height = meta.width, meta.height
    video.video_codec = meta.codec
    video.container = meta.container
