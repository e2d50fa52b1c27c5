"""Completion notifications -> the job to collect. Duplicate, late or unknown ones
change nothing; one that arrives before its Start* call returned is retried later."""

from __future__ import annotations

import logging
from typing import Protocol

from sqlalchemy import select

from models import AnalysisJob, DeadLetter, JobState
from worker.context import AppContext
from worker.errors import VidxError

log = logging.getLogger(__name__)


class Notification(Protocol):
    @property
    def job_id(self) -> str: ...

    @property
    def job_tag(self) -> str | None: ...

    @property
    def status(self) -> str: ...


class NotYetKnownError(VidxError):
    """The JobId is not recorded yet but a start of that video is under way: retry later."""


def job_to_collect(ctx: AppContext, note: Notification) -> int | None:
    """The job id to collect for this notification, or None when there is nothing to do."""
    with ctx.db.session() as s:
        job = s.scalar(select(AnalysisJob).where(AnalysisJob.engine_job_id == note.job_id))
        if job is None:
            starting = note.job_tag and s.scalar(
                select(AnalysisJob.id).where(
                    AnalysisJob.video_id == note.job_tag, AnalysisJob.state == JobState.STARTING
                )
            )
            if starting:
                raise NotYetKnownError(f"job {note.job_id}: its start has not been recorded yet")
            log.info("ignoring a notification for unknown job %s", note.job_id)
            return None
        if job.state in (JobState.SUCCEEDED, JobState.FAILED):
            log.info("ignoring a late or repeated notification for job %s", job.id)
            return None
        # FAILED/ERROR notifications are collected too: Get* carries the StatusMessage
        return job.id


def keep_dead_letter(ctx: AppContext, body: str, reason: str, message_id: str | None) -> None:
    with ctx.db.session() as s:
        s.add(DeadLetter(source="sqs", message_id=message_id, reason=reason[:2000], body=body))
