"""One ffmpeg decode for the segment engine and the picture models at once.

The segment engine reads every frame tiny (frames.py: 96 px, YUV 4:4:4); the picture
models read a picture every `every_ms` at 640 px, RGB (sampling.py). Decoding is most of
either's time, so when both are asked one ffmpeg process decodes once and `split`s the
frames into the two chains, each written to its own pipe: the tiny frames to stdout, the
pictures to a second pipe (an extra file descriptor the process inherits).

Both chains end in `showinfo`, whose lines say each frame's pts; they are told apart by
the pixel format each chain converts to before it (yuv444p / rgb24). Two threads read
the pipes into one bounded queue that the caller drains in arrival order: ffmpeg may run
ahead on one pipe while the other waits, and the caller never waits on a pipe that
ffmpeg cannot write to, so neither side can block the other for good, and memory stays
bounded (a few batches).
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import ffmpeg
import numpy as np

from worker.engines.local.frames import (
    FrameBatch,
    FrameTimes,
    StderrReader,
    check_decoded,
    open_input,
    rotate_filters,
    scaled_size,
    whole_frames,
)
from worker.engines.local.sampling import Pictures, keep_expression, picture_size, timed
from worker.errors import EngineError, MediaToolError
from worker.media import runner

SMALL_BATCH = 256  # tiny frames per batch (frames.BATCH_FRAMES)
PICTURE_BATCH = 16  # pictures per batch (sampling.BATCH_FRAMES)
QUEUE_BATCHES = 4  # batches waiting for the caller, both kinds together


def command(
    path: Path,
    width: int,
    height: int,
    rotation: int,
    every_ms: int,
    picture: tuple[int, int],
    fd: int,
) -> list[str]:
    """The ffmpeg command: tiny YUV frames to stdout, pictures to `fd`."""
    small_w, small_h = scaled_size(width, height, rotation)
    pre_small = (small_h, small_w) if rotation % 180 == 90 else (small_w, small_h)
    pre_picture = (picture[1], picture[0]) if rotation % 180 == 90 else picture
    both = open_input(path)["v:0"].split()
    small = both[0].filter("scale", *pre_small, flags="area", out_range="pc")
    small = rotate_filters(small.filter("format", "yuv444p"), rotation).filter("showinfo")
    pics = both[1].filter("select", keep_expression(every_ms))
    pics = pics.filter("scale", *pre_picture, flags="area").filter("format", "rgb24")
    pics = rotate_filters(pics, rotation).filter("showinfo")
    raw = {"format": "rawvideo", "fps_mode": "passthrough", "threads": 1}
    out = ffmpeg.merge_outputs(
        small.output("pipe:1", pix_fmt="yuv444p", **raw),
        pics.output(f"pipe:{fd}", pix_fmt="rgb24", **raw),
    )
    args: list[str] = out.get_args()
    return ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-loglevel", "level+info", *args]


# (which pipe, what came): frames' bytes, None at the pipe's end, or the reader's error
Arrival = tuple[str, bytes | BaseException | None]


def _pump(
    kind: str, pipe: IO[bytes], frame_bytes: int, batch: int, out: queue.Queue[Arrival]
) -> None:
    """Read `pipe` in batches of whole frames into `out`; then None (or the error)."""
    try:
        for buf in whole_frames(pipe, frame_bytes, batch):
            out.put((kind, buf))
        out.put((kind, None))
    except BaseException as exc:  # handed to the caller, which raises it
        out.put((kind, exc))


def decode_together(
    path: Path,
    width: int,
    height: int,
    rotation: int,
    *,
    every_ms: int,
    long_side: int,
    times: FrameTimes,
) -> Iterator[FrameBatch | Pictures]:
    """Yield tiny frame batches (FrameBatch) and picture batches (Pictures) of one decode
    of `path`, in the order they arrive; each kind in its own time order.

    `width`/`height` are the coded size and `rotation` the clockwise display rotation.
    `times` is filled as the tiny frames decode (their pts, the source's colour range, the
    decode errors), as frames.decode_frames fills it; the pictures carry their own times.
    Raises MediaToolError naming the file when ffmpeg fails or decodes nothing."""
    if every_ms < 1:
        raise EngineError(f"the sampling interval must be at least 1 ms, got {every_ms}")
    small_w, small_h = scaled_size(width, height, rotation)
    pic_w, pic_h = picture_size(width, height, rotation, long_side)
    read_fd, write_fd = os.pipe()
    try:
        cmd = command(path, width, height, rotation, every_ms, (pic_w, pic_h), write_fd)
        proc = runner.popen(cmd, pass_fds=(write_fd,))
    except BaseException as exc:
        os.close(read_fd)
        if isinstance(exc, OSError):
            raise MediaToolError(f"{path.name}: cannot run ffmpeg: {exc}") from exc
        raise
    finally:
        os.close(write_fd)  # the child holds its own copy: EOF when ffmpeg ends
    pictures_pipe = os.fdopen(read_fd, "rb")
    assert proc.stdout is not None and proc.stderr is not None
    picture_times = FrameTimes()
    reader = StderrReader(proc.stderr, times, {"rgb24": picture_times})
    reader.start()
    arrived: queue.Queue[Arrival] = queue.Queue(maxsize=QUEUE_BATCHES)
    small_bytes = 3 * small_h * small_w
    pic_bytes = pic_h * pic_w * 3
    pumps = [
        threading.Thread(
            target=_pump,
            args=("small", proc.stdout, small_bytes, SMALL_BATCH, arrived),
            daemon=True,
        ),
        threading.Thread(
            target=_pump,
            args=("pictures", pictures_pipe, pic_bytes, PICTURE_BATCH, arrived),
            daemon=True,
        ),
    ]
    for pump in pumps:
        pump.start()
    decoded = {"small": 0, "pictures": 0}
    last_ms = 0
    open_pipes = 2
    try:
        while open_pipes:
            kind, item = arrived.get()
            if item is None:
                open_pipes -= 1
                continue
            if isinstance(item, BaseException):
                raise item
            start = decoded[kind]
            if kind == "small":
                frames = np.frombuffer(item, np.uint8).reshape(-1, 3, small_h, small_w)
                decoded[kind] += len(frames)
                yield FrameBatch(start, frames)
                continue
            frames = np.frombuffer(item, np.uint8).reshape(-1, pic_h, pic_w, 3)
            decoded[kind] += len(frames)
            batch = timed(path, picture_times, start, frames, last_ms)
            last_ms = batch.at_ms[-1]
            yield batch
        code = proc.wait()
    finally:
        if proc.poll() is None:  # consumer stopped early: do not leave ffmpeg behind
            proc.kill()
            proc.wait()
        _drain(arrived, pumps)
        pictures_pipe.close()
        reader.join(timeout=10)
    chains = [("", times, decoded["small"]), ("picture ", picture_times, decoded["pictures"])]
    check_decoded(path, code, reader, chains)


def _drain(arrived: queue.Queue[Arrival], pumps: list[threading.Thread]) -> None:
    """Let the pipe readers finish (a reader blocked on a full queue would never end)."""
    while any(p.is_alive() for p in pumps):
        with contextlib.suppress(queue.Empty):
            arrived.get(timeout=0.1)
    for p in pumps:
        p.join()
