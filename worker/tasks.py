"""Celery tasks: thin, idempotent wrappers over the pipeline steps."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from celery import Task
from celery.exceptions import Retry

from models import JobState
from worker.celery_app import app
from worker.context import get_context
from worker.errors import TRANSIENT_ERRORS, MediaToolError, VidxError
from worker.pipeline import backlog, clip_request, clips, jobs, thumbs
from worker.pipeline.clip_request import ClipRequest
from worker.pipeline.collect import collect_job as collect_step
from worker.pipeline.gone import VideoDeletedError
from worker.pipeline.start import StartOutcome
from worker.pipeline.start import start_job as start_step
from worker.progress import reporter

log = logging.getLogger(__name__)

TRANSIENT = TRANSIENT_ERRORS  # throttling, engine/database/slot store unreachable
MAX_TRANSIENT_RETRIES = 12
T = TypeVar("T")


def backoff_s(retries: int, base: float = 2.0, cap: float = 300.0) -> float:
    """Exponential backoff with full jitter (AWS Architecture Blog's recommendation)."""
    return random.uniform(0, min(cap, base * 2**retries))


def with_retries(
    task: Task[Any, Any],
    step: Callable[[], T],
    retry_on: tuple[type[Exception], ...] = TRANSIENT,
    max_retries: int | None = None,
) -> T:
    """Run a pipeline step; a transient error retries the task after a jittered backoff.

    On a broker Celery re-queues the task with a countdown. Run eagerly (no broker:
    `vidx run`, the embedded default) Celery cannot retry: with task_eager_propagates
    its tracer re-raises the `Retry` to whoever called `.delay()` (celery 5.7,
    celery/app/trace.py `on_error`) instead of applying the retry, and without it the
    retry would run at once, ignoring the countdown. So the step is retried here.
    """
    retries = task.request.retries or 0
    base = get_context().settings.retry_backoff_s
    while True:
        try:
            return step()
        except retry_on as exc:
            limit = task.max_retries if max_retries is None else max_retries
            if not task.request.is_eager:
                if retries >= (limit or 0):
                    raise
                countdown = backoff_s(retries, base)
                raise task.retry(exc=exc, countdown=countdown, max_retries=limit) from None
            if retries >= (limit or 0):
                raise
            log.warning("%s: %s; retrying in-process", task.name, exc)
            time.sleep(backoff_s(retries, base))
            retries += 1


@app.task(name="vidx.analyze")
def analyze(video_id: str, job_ids: list[int]) -> None:
    """Fan out: one start task per analysis job; with every job already succeeded (the
    same file again, e.g. asking for clips now), straight on to the clips."""
    if not job_ids or jobs.jobs_succeeded(get_context(), job_ids):
        cut_clips_task.delay(video_id)
        return
    for job_id in job_ids:
        start_job.delay(job_id)


@app.task(name="vidx.start_job", bind=True, max_retries=MAX_TRANSIENT_RETRIES)
def start_job(self: Task[Any, Any], job_id: int) -> None:
    ctx = get_context()
    # the task id owns the job while it starts: the task's retries keep it, a twin differs
    owner = self.request.id
    outcome = with_retries(self, lambda: start_step(ctx, job_id, owner))
    if outcome is StartOutcome.COLLECT_NOW:
        collect_job.delay(job_id)
    elif outcome is StartOutcome.FAILED:
        after_job(job_id)
    # WAITING: a notification (or the reconciler) calls collect; BACKLOG: drain_backlog


@app.task(name="vidx.collect_job", bind=True, max_retries=MAX_TRANSIENT_RETRIES)
def collect_job(self: Task[Any, Any], job_id: int) -> None:
    ctx = get_context()
    owner = self.request.id  # as for start_job: retries own the job, twins do not
    state = with_retries(self, lambda: collect_step(ctx, job_id, owner))
    if state in (JobState.SUCCEEDED, JobState.FAILED):
        with_retries(self, lambda: after_job(job_id))


def after_job(job_id: int) -> None:
    ctx = get_context()
    backlog_ids = backlog.startable(ctx)
    for pending in backlog_ids:  # a slot may have freed: start what waits
        start_job.delay(pending)
    video_id = jobs.video_of_job(ctx, job_id)
    if video_id is not None and jobs.video_jobs_done(ctx, video_id):
        cut_clips_task.delay(video_id)


@app.task(name="vidx.drain_backlog")
def drain_backlog() -> int:
    ids = backlog.startable(get_context())
    for job_id in ids:
        start_job.delay(job_id)
    return len(ids)


@app.task(name="vidx.reconcile")
def reconcile() -> dict[str, int]:
    """Jobs whose notification never came: ask the engine, then collect or fail them."""
    from worker.pipeline.reconcile import follow_up
    from worker.pipeline.reconcile import reconcile as reconcile_step

    ctx = get_context()
    report = reconcile_step(ctx)
    follow_up(report, ctx.enqueue)
    return report.counts()


# the wire name stays vidx.cut_clips: tasks already queued under it still run
@app.task(name="vidx.cut_clips", bind=True, max_retries=MAX_TRANSIENT_RETRIES)
def cut_clips_task(self: Task[Any, Any], video_id: str) -> None:
    """Plan the requested clips and cut them in batches, one task per batch."""
    ctx = get_context()

    def plan() -> None:
        reporter().analysed(video_id)  # `vidx run` prints its analysis summary here
        kinds, mode = jobs.requested_clips(ctx, video_id)
        if not kinds or not jobs.video_jobs_succeeded(ctx, video_id):
            return
        codec = clip_request.requested_codec(ctx, video_id)
        plans = clips.prepare(ctx, video_id, ClipRequest(tuple(kinds), mode, codec))
        reporter().count("clips", len(plans))  # one count over all the batches
        for batch in clips.batches(plans, ctx.settings.clip_batches):
            cut_clip_batch.delay(video_id, [[p.kind, p.seq] for p in batch], mode, codec)
        make_thumbnails.delay(video_id)  # in parallel with the batches (after them when eager)

    try:
        with_retries(self, plan)
    except VideoDeletedError:
        log.info("clips of video %s not cut: the video was deleted", video_id)


@app.task(name="vidx.make_thumbnails", bind=True, max_retries=MAX_TRANSIENT_RETRIES)
def make_thumbnails(self: Task[Any, Any], video_id: str) -> None:
    """A JPEG per shot and the sprite sheet, for the viewer."""
    ctx = get_context()

    def make() -> None:
        try:
            thumbs.make_for_video(ctx, video_id)
        except TRANSIENT:
            raise
        except VideoDeletedError:
            log.info("thumbnails of video %s not made: the video was deleted", video_id)
        except VidxError as exc:
            # pictures for the viewer: their failure is recorded and logged, but never fails
            # the clips or the video (nor, when eager, the `vidx run` that is cutting them)
            thumbs.record_failure(ctx, video_id, str(exc))
            log.warning("thumbnails of video %s failed: %s", video_id, exc)

    with_retries(self, make)


@app.task(name="vidx.cut_clip_batch", bind=True)
def cut_clip_batch(
    self: Task[Any, Any], video_id: str, items: list[list[Any]], mode: str, codec: str = "auto"
) -> None:
    """Cut one batch; a failed cut (ffmpeg killed, disk full, ...) retries the batch,
    which cuts only the clips not yet registered; the last failure is recorded."""
    ctx = get_context()
    # with Celery's "succeeded" line, this gives each batch's span in the worker log
    log.info(
        "cut_clip_batch[%s] started: %d clips of video %s", self.request.id, len(items), video_id
    )
    wanted = {(str(kind), int(seq)) for kind, seq in items}
    try:
        kinds, _ = jobs.requested_clips(ctx, video_id)
        plans = [p for p in clips.plan_clips(ctx, video_id, kinds) if (p.kind, p.seq) in wanted]
    except VideoDeletedError:
        log.info("clips of video %s not cut: the video was deleted", video_id)
        return
    try:
        with_retries(
            self,
            lambda: clips.cut_plans(ctx, video_id, plans, mode, codec=codec),
            retry_on=(MediaToolError, *TRANSIENT),
            max_retries=ctx.settings.clip_retries,
        )
    except Retry:
        raise
    except VideoDeletedError:
        log.info("clips of video %s: the video was deleted; this batch stops", video_id)
    except Exception as exc:
        # recorded on the video so `status` says FAILED instead of PROCESSING forever
        message = str(exc) if isinstance(exc, VidxError) else jobs.internal_error(exc)
        if not clips.record_failure(ctx, video_id, message):
            log.info("clips of video %s stopped: the video was deleted (%s)", video_id, exc)
            return
        log.exception("clips of video %s failed", video_id)
        raise
