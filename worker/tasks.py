"""Celery tasks: thin, idempotent wrappers over the pipeline steps."""

from __future__ import annotations

import logging

from worker.celery_app import app
from worker.context import get_context
from worker.errors import VidxError
from worker.pipeline import clips, jobs

log = logging.getLogger(__name__)


@app.task(name="vidx.analyze")
def analyze(video_id: str, job_ids: list[int]) -> None:
    """Fan out: one start task per analysis job."""
    for job_id in job_ids:
        start_job.delay(job_id)
    if not job_ids:
        cut_clips.delay(video_id)


@app.task(name="vidx.start_job")
def start_job(job_id: int) -> None:
    if jobs.start_job(get_context(), job_id):
        collect_job.delay(job_id)
    else:
        _after_job(job_id)


@app.task(name="vidx.collect_job")
def collect_job(job_id: int) -> None:
    jobs.collect_job(get_context(), job_id)
    _after_job(job_id)


def _after_job(job_id: int) -> None:
    ctx = get_context()
    video_id = jobs.video_of_job(ctx, job_id)
    if video_id is not None and jobs.video_jobs_done(ctx, video_id):
        cut_clips.delay(video_id)


@app.task(name="vidx.cut_clips")
def cut_clips(video_id: str) -> None:
    ctx = get_context()
    kinds, mode = jobs.requested_clips(ctx, video_id)
    if not kinds or not jobs.video_jobs_succeeded(ctx, video_id):
        return
    try:
        clips.cut_clips(ctx, video_id, kinds, mode)
    except VidxError:
        log.exception("clips of video %s failed", video_id)
        raise
