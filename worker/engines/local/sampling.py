"""Pictures for the local models: one ffmpeg decode of a video, a frame picked about every
`every_ms`, scaled to `long_side` pixels on its long side, upright, RGB, each with its pts.

ffmpeg's `select` keeps the first frame of each `every_ms` slot (0, every_ms, 2 every_ms…
from the first frame), so the pictures are real frames at their real times (variable
frame rate included), never duplicated or interpolated ones, at the asked rate on
average; only kept frames are scaled. Batches
have a fixed size, so memory stays bounded however long the video is.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

from worker.engines.local.frames import (
    FrameTimes,
    U8Frames,
    open_input,
    raw_command,
    read_frames,
    rotate_filters,
)
from worker.engines.port import Progress
from worker.errors import EngineError, MediaToolError
from worker.media.info import MediaInfo
from worker.timecode import round_half_up

BATCH_FRAMES = 16  # 16 x 640 x 360 x 3 bytes = 11 MB per batch


@dataclass(frozen=True)
class Pictures:
    """`frames[k]` (height, width, 3 RGB) was shown at `at_ms[k]`, ms from the first frame."""

    at_ms: list[int]
    frames: U8Frames


def picture_size(width: int, height: int, rotation: int, long_side: int) -> tuple[int, int]:
    """(width, height) upright, long side `long_side` (never enlarged), even, aspect kept."""
    if rotation % 180 == 90:
        width, height = height, width
    scale = min(1.0, long_side / max(width, height, 1))
    w = max(2, round(width * scale / 2) * 2)
    h = max(2, round(height * scale / 2) * 2)
    return w, h


def keep_expression(every_ms: int) -> str:
    """ffmpeg `select`'s expression keeping the first frame of each `every_ms` slot from
    the stream's start; prev_selected_t is NaN until a frame is kept, so the first frame
    is always kept."""
    step = f"{every_ms / 1000:.6f}"
    slot = f"floor((t-start_t)/{step})"
    return f"isnan(prev_selected_t)+gt({slot},floor((prev_selected_t-start_t)/{step}))"


def _command(
    path: Path, width: int, height: int, rotation: int, every_ms: int, out: tuple[int, int]
) -> list[str]:
    pre_w, pre_h = (out[1], out[0]) if rotation % 180 == 90 else out
    video = open_input(path)["v:0"].filter("select", keep_expression(every_ms))
    video = video.filter("scale", pre_w, pre_h, flags="area")
    video = rotate_filters(video, rotation)
    return raw_command(video.filter("showinfo"), "rgb24")


def sample_pictures(
    path: Path,
    width: int,
    height: int,
    rotation: int,
    *,
    every_ms: int,
    long_side: int,
    times: FrameTimes | None = None,
    batch_frames: int = BATCH_FRAMES,
) -> Iterator[Pictures]:
    """Yield the picked pictures of `path` in batches (see the module's docstring).

    `width`/`height` are the coded size and `rotation` the clockwise display rotation,
    as probed. Times are integer ms from the first frame, rounded half up, never
    running back. Raises EngineError for a bad interval or size, MediaToolError naming
    the file when ffmpeg fails or decodes nothing."""
    if every_ms < 1:
        raise EngineError(f"the sampling interval must be at least 1 ms, got {every_ms}")
    if long_side < 16:
        raise EngineError(f"pictures must be at least 16 pixels long, got {long_side}")
    times = times if times is not None else FrameTimes()
    out_w, out_h = picture_size(width, height, rotation, long_side)
    command = _command(path, width, height, rotation, every_ms, (out_w, out_h))
    last = 0
    for start, frames in read_frames(path, command, (out_h, out_w, 3), times, batch_frames):
        batch = timed(path, times, start, frames, last)
        last = batch.at_ms[-1]
        yield batch


def timed(path: Path, times: FrameTimes, start: int, frames: U8Frames, last_ms: int) -> Pictures:
    """Pictures `start`.. with their times: integer ms from the first frame, rounded half up,
    never before `last_ms` (the batch before's last). Waits for the times to arrive."""
    if not times.wait_for(start + len(frames)):
        raise MediaToolError(f"{path.name}: ffmpeg reported no time for picture {start}")
    rel = times.window_ms(start, len(frames))
    at = list(accumulate((round_half_up(t) for t in rel), max, initial=last_ms))[1:]
    return Pictures(at, frames)


def sampled(
    path: Path, info: MediaInfo, every_ms: int, long_side: int, progress: Progress | None
) -> Iterator[Pictures]:
    """sample_pictures of a probed file, telling `progress` the share of its pictures seen
    (expected from the duration), and 1.0 once the caller asked past the last batch: by
    then it has done its work on every picture."""
    expected = max(1, info.duration_ms // every_ms + 1)
    seen = 0
    pictures = sample_pictures(
        path, info.width, info.height, info.rotation, every_ms=every_ms, long_side=long_side
    )
    for batch in pictures:
        yield batch
        seen += len(batch.at_ms)
        if progress is not None:
            progress(min(0.99, seen / expected))
    if progress is not None:
        progress(1.0)
