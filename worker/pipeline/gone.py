"""Deleted videos, as the pipeline steps see them (`vidx delete`, worker/deletion.py).

A delete first marks the video (`extra["deleting"]`), then removes its files, then its
rows. A step that was already under way (a clip batch, thumbnails, a start) checks the
video where it would write: gone or marked, it writes no row, removes what it made
itself under the data dir, and stops with VideoDeletedError, which the tasks end quietly.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Video
from worker.context import AppContext
from worker.errors import ConflictError, NotFoundError, VideoNotFoundError

log = logging.getLogger(__name__)
DELETING_KEY = "deleting"


class VideoDeletedError(NotFoundError):
    """The video was deleted (or is being deleted) while a step worked on it."""

    def __init__(self, video_id: str) -> None:
        self.video_id = video_id
        super().__init__(f"video {video_id} was deleted")


def is_deleting(video: Video) -> bool:
    return DELETING_KEY in (video.extra or {})


def video_to_work_on(session: Session, video_id: str) -> Video:
    """The video a step begins on: VideoNotFoundError when there is no such video (a
    wrong id), VideoDeletedError when its delete has begun (the step ends quietly)."""
    video = session.get(Video, video_id)
    if video is None:
        raise VideoNotFoundError(video_id)
    if is_deleting(video):
        raise VideoDeletedError(video_id)
    return video


def live_video(session: Session, video_id: str, *, lock: bool = False) -> Video:
    """The video, or VideoDeletedError when it is gone or being deleted.

    `lock` (before a write that must not outlive the video) locks its row until the
    transaction ends, so a delete's mark waits for the write or the write sees the mark.
    """
    query = select(Video).where(Video.id == video_id)
    video = session.scalar(query.with_for_update() if lock else query)
    if video is None or is_deleting(video):
        raise VideoDeletedError(video_id)
    return video


def refuse_if_deleting(video: Video) -> None:
    """A submit (or import) of a video whose delete has begun: finish the delete first."""
    if is_deleting(video):
        raise ConflictError(
            f"video {video.id} is being deleted: `vidx delete {video.id}` finishes it; "
            "submit the file again after that"
        )


def inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def discard_made(ctx: AppContext, video_id: str, path: Path) -> None:
    """Remove a file or folder a step made for a video deleted meanwhile (only under the
    data dir), and the video's clip and thumbnail folders when that left them empty."""
    if not inside(path, ctx.settings.data_dir):
        return
    try:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("video %s was deleted; could not remove %s: %s", video_id, path, exc)
    for folder in (ctx.settings.clips_dir / video_id, ctx.settings.thumbs_dir / video_id):
        with contextlib.suppress(OSError):  # missing, or other steps' files are still there
            folder.rmdir()
