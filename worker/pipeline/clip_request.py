"""How a video's clips are asked for: the request's kinds, mode and codec checked (one
validator for the CLI, the service and the pipeline), the options stored on the video
(minimum length, opening credits), and clearing out clips an earlier request made that
the current one no longer plans."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlalchemy import select

from models import Clip, Video
from worker.context import AppContext
from worker.errors import VideoNotFoundError, VidxError
from worker.media.cut_codec import check_codec, resolve
from worker.media.cutting import MODES

CLIP_KINDS = ("shots", "content")
DEFAULT_MODE = "smart"  # frame-exact; falls back to accurate per file, with a note
DEFAULT_CODEC = "auto"


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


def split_kinds(text: str | None) -> list[str]:
    """The kinds in a comma-separated list ('shots,content'), not checked yet."""
    return [k.strip() for k in (text or "").split(",") if k.strip()]


def check_kinds(kinds: Iterable[str]) -> None:
    for k in kinds:
        if k not in CLIP_KINDS:
            raise VidxError(f"unknown clip kind {k!r} (choose from: {', '.join(CLIP_KINDS)})")


def parse_kinds(text: str | None) -> list[str]:
    """The kinds in a comma-separated list, each checked."""
    kinds = split_kinds(text)
    check_kinds(kinds)
    return kinds


def check_request(
    kinds: Iterable[str], mode: str, codec: str, min_length_ms: int | None = None
) -> None:
    """Refuse a clip request's unknown mode, codec, negative minimum length (None: not
    given) or unknown kind, in that order, before anything is written."""
    if mode not in MODES:
        raise VidxError(f"unknown clip mode {mode!r} (choose from: {', '.join(MODES)})")
    check_codec(codec)
    if min_length_ms is not None:
        check_min_length(min_length_ms)
    check_kinds(kinds)


@dataclass(frozen=True)
class ClipRequest:
    """Which clips to cut and how; None options: as stored on the video (or the default)."""

    kinds: tuple[str, ...]
    mode: str = DEFAULT_MODE
    codec: str = DEFAULT_CODEC
    min_length_ms: int | None = None
    keep_opening_credits: bool | None = None


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


def requested_codec(ctx: AppContext, video_id: str) -> str:
    """The codec the video's clips were last asked in (auto | h264 | prores)."""
    with ctx.db.session() as s:
        video = s.get(Video, video_id)
        if video is None:
            raise VideoNotFoundError(video_id)
        return video.clip_codec


def resolved_codec(ctx: AppContext, video_id: str, mode: str, codec: str) -> str:
    """The codec the video's clips come out in for this request (cut_codec.resolve), from
    the codec recorded when the video was probed; refuses what the mode cannot give."""
    with ctx.db.session() as s:
        video = s.get(Video, video_id)
        if video is None:
            raise VideoNotFoundError(video_id)
        try:
            return resolve(codec, video.video_codec, mode)
        except VidxError as exc:
            raise VidxError(f"{video.filename}: {exc}") from None


def prune_stale(
    ctx: AppContext, video_id: str, plans: Sequence[Planned], mode: str, codec: str | None = None
) -> list[str]:
    """Drop clips of the planned kinds (asked for in `mode`, and in `codec` unless None)
    that the plan no longer holds: a shot merged away by a minimum length, a content clip
    whose start moved. Their files are deleted when they lie in the video's own clips
    folder; clips cut to a user's `--out` folder lose their rows only. Returns the paths
    of the rows dropped."""
    wanted = {(p.kind, p.seq): (p.start_ms, p.end_ms) for p in plans}
    kinds = {p.kind for p in plans}
    own = (ctx.settings.clips_dir / video_id).resolve()
    dropped: list[str] = []
    query = select(Clip).where(
        Clip.video_id == video_id, Clip.requested_mode == mode, Clip.kind.in_(sorted(kinds))
    )
    if codec is not None:
        query = query.where(Clip.codec == codec)
    with ctx.db.session() as s:
        for clip in s.scalars(query):
            if wanted.get((clip.kind, clip.seq)) == (clip.start_ms, clip.end_ms):
                continue
            dropped.append(clip.path)
            s.delete(clip)
    for path in map(Path, dropped):
        if path.parent == own:
            path.unlink(missing_ok=True)
    return dropped
