"""One decode for every picture model of a video (moderation, faces…).

Each model run asks for the first frame of each of its own intervals (`every_ms`); the pass
decodes once at the finest of them (all must divide each other's multiples: 250 and 500)
and hands each run the pictures its interval picks, so running models together gives each
the pictures it would get alone, from one ffmpeg process instead of one per model.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import gcd
from pathlib import Path
from typing import Protocol, TypeVar

from worker.engines.local.frames import FrameTimes, U8Frames
from worker.engines.local.sampling import Pictures, sampled
from worker.engines.local.together import decode_together
from worker.engines.port import Progress
from worker.errors import EngineError
from worker.media.info import MediaInfo

R = TypeVar("R", covariant=True)
LONG_SIDE = 640  # the pictures' long side: what the face detector and open_nsfw are fed from


class PictureRun(Protocol):
    every_ms: int

    def take(self, at_ms: int, picture: U8Frames) -> None: ...


class FrameRun(Protocol):
    """Takes every frame, tiny (the segment engine's measures)."""

    times: FrameTimes

    def add(self, planes: U8Frames) -> None: ...


def one_pass(
    path: Path,
    info: MediaInfo,
    runs: Sequence[PictureRun],
    progress: Progress | None = None,
    frames: FrameRun | None = None,
) -> None:
    """Decode `path` once and feed every run its pictures, in time order; and `frames`,
    when given, every frame tiny (one ffmpeg process for both: together.py)."""
    if not runs:
        if frames is not None:
            raise EngineError("a decode of every frame alone is frames.decode_frames'")
        return
    step = 0
    for run in runs:
        step = gcd(step, run.every_ms)
    if step < 1:
        raise EngineError(f"sampling intervals must be positive, got {[r.every_ms for r in runs]}")
    last = [-1] * len(runs)

    def take(batch: Pictures) -> None:
        for at, picture in zip(batch.at_ms, batch.frames, strict=True):
            for k, run in enumerate(runs):
                # the first picture of each of the run's own slots, as sampling would pick it
                slot = at // run.every_ms
                if slot > last[k]:
                    last[k] = slot
                    run.take(at, picture)

    if frames is None:
        for batch in sampled(path, info, step, LONG_SIDE, progress):
            take(batch)
        return
    expected = max(info.frame_count, 1)
    arrived = decode_together(
        path,
        info.width,
        info.height,
        info.rotation,
        every_ms=step,
        long_side=LONG_SIDE,
        times=frames.times,
    )
    for got in arrived:
        if isinstance(got, Pictures):
            take(got)
            continue
        frames.add(got.planes)
        if progress is not None:
            progress(min(0.99, (got.start + got.count) / expected))
    if progress is not None:
        progress(1.0)


class Answering(PictureRun, Protocol[R]):
    def response(self, info: MediaInfo) -> R: ...


def run_alone(path: Path, info: MediaInfo, run: Answering[R], progress: Progress | None) -> R:
    """One model's whole response for `path` (its own decode)."""
    one_pass(path, info, [run], progress)
    return run.response(info)
