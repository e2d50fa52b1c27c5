"""Reads only the API needs (files of a video); the rest is worker.query, shared with the CLI."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Clip, Video
from worker.errors import NotFoundError, VideoNotFoundError


def video_row(session: Session, video_id: str) -> Video:
    video = session.get(Video, video_id)
    if video is None:
        raise VideoNotFoundError(video_id)
    return video


def local_source(video: Video) -> Path:
    """The video's file on this server; NotFoundError for s3:// or imported videos."""
    if video.sha256 is None or "://" in video.source:
        raise NotFoundError(f"video {video.id} has no local media file (source {video.source})")
    return Path(video.source)


def clips_of(session: Session, video_id: str) -> Sequence[Clip]:
    """Every clip of the video: shots by index, then the content clip; all modes."""
    video_row(session, video_id)
    return session.scalars(
        select(Clip)
        .where(Clip.video_id == video_id)
        .order_by(Clip.kind.desc(), Clip.seq, Clip.mode)
    ).all()


def clip(session: Session, video_id: str, kind: str, index: int, mode: str | None) -> Clip:
    """One clip; without `mode`, the one in the video's current clip mode, else any."""
    video = video_row(session, video_id)
    found = [
        c
        for c in session.scalars(
            select(Clip).where(Clip.video_id == video_id, Clip.kind == kind, Clip.seq == index)
        )
        if mode is None or c.mode == mode
    ]
    if not found:
        in_mode = f" in {mode} mode" if mode else ""
        raise NotFoundError(f"video {video_id} has no {kind} clip {index}{in_mode}")
    found.sort(key=lambda c: (c.mode != video.clip_mode, c.mode))
    return found[0]
