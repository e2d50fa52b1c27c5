"""Celery tasks: thin, idempotent wrappers over the pipeline steps."""

from __future__ import annotations

import logging
from typing import Any

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
    """Plan the requested clips and cut them in batches, one task per batch."""
    ctx = get_context()
    kinds, mode = jobs.requested_clips(ctx, video_id)
    if not kinds or not jobs.video_jobs_succeeded(ctx, video_id):
        return
    clips.check_request(kinds, mode)
    for batch in clips.batches(clips.plan_clips(ctx, video_id, kinds)):
        cut_clip_batch.delay(video_id, [[p.kind, p.seq] for p in batch], mode)


@app.task(name="vidx.cut_clip_batch")
def cut_clip_batch(video_id: str, items: list[list[Any]], mode: str) -> None:
    ctx = get_context()
    kinds, _ = jobs.requested_clips(ctx, video_id)
    wanted = {(str(kind), int(seq)) for kind, seq in items}
    plans = [p for p in clips.plan_clips(ctx, video_id, kinds) if (p.kind, p.seq) in wanted]
    try:
        clips.cut_plans(ctx, video_id, plans, mode)
    except Exception as exc:
        # recorded on the video so `status` says FAILED instead of PROCESSING forever
        clips.record_failure(ctx, video_id, str(exc) if isinstance(exc, VidxError) else repr(exc))
        log.exception("clips of video %s failed", video_id)
        raise
