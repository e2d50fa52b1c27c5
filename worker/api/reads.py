"""Reads only the API needs (files of a video); the rest is worker.query, shared with the CLI."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Clip, Video
from worker.errors import NotFoundError, VideoNotFoundError, VidxError
from worker.media.cut_codec import resolve as resolve_codec


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


def current_request(video: Video) -> tuple[str, str]:
    """(mode asked for, codec) of the video's current clip request."""
    try:
        codec = resolve_codec(video.clip_codec, video.video_codec, video.clip_mode)
    except VidxError:  # a request that could not be cut: no clip matches it
        codec = video.clip_codec
    return video.clip_mode, codec


def clip(
    session: Session,
    video_id: str,
    kind: str,
    index: int,
    mode: str | None,
    codec: str | None = None,
) -> Clip:
    """One clip: the one made for the video's current request (mode asked for, codec)
    unless `mode` or `codec` ask for another; `mode` matches the mode asked for, or else
    the mode that made the clip."""
    video = video_row(session, video_id)
    found = [
        c
        for c in session.scalars(
            select(Clip).where(Clip.video_id == video_id, Clip.kind == kind, Clip.seq == index)
        )
        if (mode is None or mode in (c.requested_mode, c.mode))
        and (codec is None or c.codec == codec)
    ]
    if not found:
        asked = (f" in {mode} mode" if mode else "") + (f" as {codec}" if codec else "")
        raise NotFoundError(f"video {video_id} has no {kind} clip {index}{asked}")
    wanted_mode, wanted_codec = current_request(video)
    found.sort(
        key=lambda c: (
            c.requested_mode != (mode or wanted_mode),
            c.codec != (codec or wanted_codec),
            c.requested_mode,
            c.codec,
        )
    )
    return found[0]
