"""Collect a finished job: page every result through the one parser into the store,
then rebuild the job's timeline.

Idempotent and safe against twins: collecting twice leaves the same rows, and of two
runs at once (a notification delivered twice) one owns the job (`lease`) while the other
changes nothing. Only the owner writes pages or records a failure, so a failing run never
removes rows another run wrote. A notification that came while the engine still says
IN_PROGRESS leaves the job in flight for the real one (or the reconciler).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from fractions import Fraction

from models import AnalysisJob, JobState, Video, utcnow
from worker.context import AppContext
from worker.engines.port import Feature, ResultPage
from worker.errors import (
    TRANSIENT_ERRORS,
    JobNotFinishedError,
    ResultsExpiredError,
    VidxError,
)
from worker.pipeline import lease
from worker.pipeline.jobs import internal_error
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
NOT_FINISHED = "notified, but the engine still reports the job {status}: waiting for it to finish"


def collect_job(ctx: AppContext, job_id: int, owner: str | None = None) -> JobState:
    """Collect the job; the state it is left in (COLLECTING: another run has it;
    FAILED too for a job deleted with its video, so the caller starts what waits)."""
    owner = owner or uuid.uuid4().hex
    with ctx.db.session() as s:
        job = s.get(AnalysisJob, job_id)
        if job is None:  # deleted with its video (`vidx delete --force`): a late collect
            log.info("job %s is gone (its video was deleted); nothing to collect", job_id)
            return JobState.FAILED
        state = JobState(job.state)
        feature, engine_job_id, engine_name = Feature(job.feature), job.engine_job_id, job.engine
    if state in (JobState.SUCCEEDED, JobState.FAILED):
        # a duplicate or late notification changes nothing; the slot release is repeated
        # because the run that finished the job may have failed to reach the slot store
        release_slot(ctx, job_id)
        return state
    if engine_job_id is None:
        raise VidxError(f"job {job_id} was never started")
    lease_s = ctx.settings.collect_lease_s
    won = lease.claim(
        ctx, job_id, owner, [JobState.IN_PROGRESS], JobState.COLLECTING, lease_s, take_expired=True
    )
    if not won:
        log.info("job %s: another run is collecting it (or it moved on); nothing to do", job_id)
        return JobState.COLLECTING
    engine = ctx.engine(engine_name)
    try:
        store_pages(ctx, job_id, feature, engine.pages(feature, engine_job_id), owner=owner)
    except lease.LeaseLostError:
        log.warning("job %s: its collect was taken over by another run; stopping", job_id)
        return JobState.COLLECTING
    except JobNotFinishedError as exc:
        _back_in_flight(ctx, job_id, owner, NOT_FINISHED.format(status=exc.status))
        return JobState.IN_PROGRESS
    except TRANSIENT_ERRORS:
        raise  # the task retries with backoff as the same owner, keeping the job and slot
    except ResultsExpiredError as exc:
        _fail(ctx, job_id, owner, f"{exc} ({EXPIRED_HINT})")
        return JobState.FAILED
    except VidxError as exc:
        _fail(ctx, job_id, owner, str(exc))
        return JobState.FAILED
    except Exception as exc:
        log.exception("job %s: collect failed", job_id)
        _fail(ctx, job_id, owner, internal_error(exc))
        raise
    release_slot(ctx, job_id)
    return JobState.SUCCEEDED


def _fail(ctx: AppContext, job_id: int, owner: str, message: str) -> None:
    """End a failed collect that still owns the job: no half-collected rows stay behind."""
    if _move_on(ctx, job_id, owner, JobState.FAILED, message):
        release_slot(ctx, job_id)
    else:
        log.warning("job %s: not failed by this run: another run owns it now", job_id)


def _back_in_flight(ctx: AppContext, job_id: int, owner: str, message: str) -> None:
    _move_on(ctx, job_id, owner, JobState.IN_PROGRESS, message)


def _move_on(ctx: AppContext, job_id: int, owner: str, state: JobState, message: str) -> bool:
    """The owner of a COLLECTING job leaves it FAILED (its rows cleared) or back in flight
    (the reconciler asks again after its usual wait); False when another run owns it."""
    try:
        with ctx.db.session() as s:
            lease.hold(s, job_id, owner, JobState.COLLECTING, ctx.settings.collect_lease_s)
            job = s.get_one(AnalysisJob, job_id)
            if state is JobState.FAILED:
                clear_results(s, job)
            else:
                job.checked_at = utcnow()
            store_set_state(job, state, message)
            lease.end(job)
    except lease.LeaseLostError:
        return False
    return True


def store_pages(
    ctx: AppContext,
    job_id: int,
    feature: Feature,
    pages: Iterable[ResultPage],
    owner: str | None = None,
) -> int:
    """Parse and store every page (one transaction each), then the timeline; item count.

    With an `owner`, each transaction first checks that the run still owns the job.
    """
    rep = reporter()
    rep.step(f"collect {feature.value}")
    lease_s = ctx.settings.collect_lease_s
    count = 0
    model_version = None
    meta: VideoMeta | None = None
    parsed_items: list[ParsedDetection] = []
    for count, page in enumerate(pages, start=1):
        parsed = parse_page(feature, page)
        if parsed.job_status == "FAILED":
            raise VidxError(parsed.status_message or "the engine reported the job FAILED")
        if parsed.job_status != "SUCCEEDED":
            raise JobNotFinishedError(f"the job is {parsed.job_status}", parsed.job_status)
        model_version = model_version or parsed.model_version
        meta = meta or parsed.video
        with ctx.db.session() as s:
            if owner is not None:
                lease.hold(s, job_id, owner, JobState.COLLECTING, lease_s)
            write_page(s, s.get_one(AnalysisJob, job_id), count - 1, parsed.items)
        parsed_items.extend(parsed.items)
    with ctx.db.session() as s:
        if owner is not None:
            lease.hold(s, job_id, owner, JobState.COLLECTING, lease_s)
        job = s.get_one(AnalysisJob, job_id)
        video = s.get_one(Video, job.video_id)
        if meta is not None and video.frame_count == 0:
            fill_facts(video, meta)  # known only by S3 URI or from imported pages
        items = finish_pages(s, job, count)
        clock = VideoClock(
            video.duration_ms, video.frame_count, Fraction(video.fps_num, video.fps_den)
        )
        replace_ranges(s, job, build_ranges(parsed_items, clock))
        job.model_version = model_version
        store_set_state(job, JobState.SUCCEEDED)
        lease.end(job)
    return items


def fill_facts(video: Video, meta: VideoMeta) -> None:
    """The video's facts from a page's VideoMetadata (a video not probed here: known by
    S3 URI, or from imported pages); the frame count follows from duration and rate."""
    video.duration_ms = meta.duration_ms
    video.fps_num, video.fps_den = meta.fps.numerator, meta.fps.denominator
    video.frame_count = int(meta.duration_ms * meta.fps / 1000)
    video.width, video.height = meta.width, meta.height
    video.video_codec = meta.codec
    video.container = meta.container
