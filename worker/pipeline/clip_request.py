"""How a video's clips are asked for (minimum length, opening credits), and clearing out
clips an earlier request made that the current one no longer plans."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from sqlalchemy import select

from models import Clip, Video
from worker.context import AppContext
from worker.errors import VideoNotFoundError, VidxError


class Planned(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def seq(self) -> int: ...
    @property
    def start_ms(self) -> int: ...
    @property
    def end_ms(self) -> int: ...


def check_min_length(min_length_ms: int) -> None:
    if min_length_ms < 0:
        raise VidxError(f"minimum clip length must be 0 (off) or more ms, not {min_length_ms}")


def set_clip_options(
    ctx: AppContext,
    video_id: str,
    min_length_ms: int | None = None,
    keep_opening_credits: bool | None = None,
) -> None:
    """Store the options on the video (None keeps what is stored), so the worker tasks,
    which plan the clips again from the database, plan the same ones."""
    if min_length_ms is not None:
        check_min_length(min_length_ms)
    with ctx.db.session() as s:
        video = s.get(Video, video_id)
        if video is None:
            raise VideoNotFoundError(video_id)
        if min_length_ms is not None:
            video.clip_min_length_ms = min_length_ms
        if keep_opening_credits is not None:
            video.clip_keep_opening_credits = keep_opening_credits


def prune_stale(ctx: AppContext, video_id: str, plans: Sequence[Planned], mode: str) -> list[str]:
    """Drop clips of the planned kinds (and mode) that the plan no longer holds: a shot
    merged away by a minimum length, a content clip whose start moved. Their files are
    deleted when they lie in the video's own clips folder; clips cut to a user's `--out`
    folder lose their rows only. Returns the paths of the rows dropped."""
    wanted = {(p.kind, p.seq): (p.start_ms, p.end_ms) for p in plans}
    kinds = {p.kind for p in plans}
    own = (ctx.settings.clips_dir / video_id).resolve()
    dropped: list[str] = []
    with ctx.db.session() as s:
        for clip in s.scalars(
            select(Clip).where(
                Clip.video_id == video_id, Clip.mode == mode, Clip.kind.in_(sorted(kinds))
            )
        ):
            if wanted.get((clip.kind, clip.seq)) == (clip.start_ms, clip.end_ms):
                continue
            dropped.append(clip.path)
            s.delete(clip)
    for path in map(Path, dropped):
        if path.parent == own:
            path.unlink(missing_ok=True)
    return dropped
