"""Decode every video frame once, small, through an ffmpeg pipe, with its real pts.

The segment engine never needs full-resolution pictures: shot and cue features are
computed on a tiny YUV 4:4:4 copy of each frame (about 96 pixels on the long side),
which ffmpeg's area scaler produces far faster than Python could. Frames arrive in
fixed-size batches, so memory stays bounded however long the video is.

Timing comes from the decoded frames' presentation timestamps, never from
index / fps: `showinfo` (placed after the scaler, so it checksums tiny frames and
costs nothing measurable) prints each frame's integer pts on stderr, which a thread
reads while the main thread reads pictures from stdout. `-fps_mode passthrough`
keeps ffmpeg from duplicating or dropping frames of variable-rate files.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import IO, Any

import ffmpeg
import numpy as np
import numpy.typing as npt

from worker.errors import MediaToolError
from worker.media import runner
from worker.media.decode_errors import DECODE_THREADS, DecodeErrorLog, split_level

LONG_SIDE = 96  # measured: 64..96 px decode equally fast; 96 keeps credit text visible
BATCH_FRAMES = 256  # 256 x 3 x 96 x 54 bytes = 4 MB per batch

_SHOWINFO_FRAME = re.compile(r"\bn:\s*(\d+)\s+pts:\s*(-?\d+|NOPTS)")
_SHOWINFO_FMT = re.compile(r"\bfmt:(\w+)")
_SHOWINFO_TB = re.compile(r"config in time_base:\s*(\d+)/(\d+)")
# the input stream line, e.g. "Stream #0:0(und): Video: h264 (High) ..., yuv420p(tv, bt709)"
_INPUT_RANGE = re.compile(r"Stream #0:\d+.*?: Video: .*?, (\w+)\((tv|pc)\b")

U8Frames = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class FrameBatch:
    """`planes[k]` is frame `start + k` as (3, height, width) Y, U, V, full range."""

    start: int
    planes: U8Frames

    @property
    def count(self) -> int:
        return int(self.planes.shape[0])


@dataclass
class FrameTimes:
    """Filled while decoding: each frame's pts in seconds (exact), in decode order."""

    pts: list[Fraction] = field(default_factory=list)
    # the source's declared range: "tv" (limited), "pc" (full), None (untagged)
    source_range: str | None = None
    # error lines ffmpeg printed between the frames (a damaged file still decodes)
    errors: DecodeErrorLog = field(default_factory=DecodeErrorLog)
    # the stderr reader says here when a frame's time arrives, and when the log ends
    _arrived: threading.Condition = field(default_factory=threading.Condition, repr=False)
    _ended: bool = field(default=False, repr=False)

    def add(self, pts: Fraction) -> None:
        with self._arrived:
            self.pts.append(pts)
            self._arrived.notify_all()

    def end(self) -> None:
        with self._arrived:
            self._ended = True
            self._arrived.notify_all()

    def wait_for(self, count: int) -> bool:
        """Whether the times of the first `count` frames have arrived (waits for them, or
        for the end of ffmpeg's log): stdout can run ahead of the log's reader."""
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.pts) >= count or self._ended)
            return len(self.pts) >= count

    def window_ms(self, start: int, count: int) -> list[Fraction]:
        """relative_ms() of frames start .. start + count - 1 only."""
        first = self.pts[0]
        return [(p - first) * 1000 for p in self.pts[start : start + count]]

    def relative_ms(self) -> list[Fraction]:
        """Milliseconds from the first frame (a file may start at pts 1.075 s)."""
        if not self.pts:
            return []
        first = self.pts[0]
        return [(p - first) * 1000 for p in self.pts]


def scaled_size(width: int, height: int, rotation: int) -> tuple[int, int]:
    """Output (width, height) after rotation: long side LONG_SIDE, even, aspect kept."""
    if rotation % 180 == 90:
        width, height = height, width
    long_side = max(width, height, 1)
    short = max(2, round(min(width, height) * LONG_SIDE / long_side / 2) * 2)
    return (LONG_SIDE, short) if width >= height else (short, LONG_SIDE)


def rotate_filters(stream: Any, rotation: int) -> Any:
    # Rotation is applied after downscaling (autorotate would transpose full frames).
    rotation %= 360
    if rotation == 90:
        return stream.filter("transpose", "clock")
    if rotation == 270:
        return stream.filter("transpose", "cclock")
    if rotation == 180:
        return stream.filter("hflip").filter("vflip")
    return stream


def open_input(path: Path) -> Any:
    """The ffmpeg input of `path` for a picture decode: rotation left to the filters."""
    # one decoding thread, one encoding thread (rawvideo's frame threads only copy): every
    # line of the log, errors included, in the same order every run (decode_errors.py)
    return ffmpeg.input(
        runner.target(path),
        noautorotate=None,
        threads=DECODE_THREADS,
        skip_loop_filter="all",
        **runner.input_options(),
    )


def raw_command(video: Any, pix_fmt: str) -> list[str]:
    """The command writing `video` (a filter chain ending in showinfo) as raw frames."""
    out = video.output(
        "pipe:", format="rawvideo", pix_fmt=pix_fmt, fps_mode="passthrough", threads=1
    )
    args: list[str] = out.get_args()
    # global options must precede the inputs (ffmpeg-python appends them at the end)
    # level+: each line says its level, so decode errors can be told from the rest
    return ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-loglevel", "level+info", *args]


def _command(path: Path, width: int, height: int, rotation: int) -> list[str]:
    pre_w, pre_h = (height, width) if rotation % 180 == 90 else (width, height)
    # out_range=pc: limited-range sources are expanded so every threshold below is
    # on 0..255 full range; untagged YUV is treated as limited, as players do.
    video = open_input(path)["v:0"].filter("scale", pre_w, pre_h, flags="area", out_range="pc")
    video = rotate_filters(video.filter("format", "yuv444p"), rotation)
    return raw_command(video.filter("showinfo"), "yuv444p")


class StderrReader(threading.Thread):
    """Parses showinfo lines into pts while keeping the tail of the log for errors.

    `others`: frame times of other showinfo chains of the same process (together.py), by
    the pixel format their frames show; the rest are `times`', which also counts frames
    between decode errors."""

    def __init__(
        self, pipe: IO[bytes], times: FrameTimes, others: dict[str, FrameTimes] | None = None
    ) -> None:
        super().__init__(daemon=True)
        self._pipe = pipe
        self._times = times
        self._others = others or {}
        self.tail: deque[str] = deque(maxlen=15)
        self._output = False  # past the input description

    def run(self) -> None:
        try:
            self._read()
        finally:
            self._times.end()
            for other in self._others.values():
                other.end()

    def _read(self) -> None:
        time_base = Fraction(1, 1)
        last: dict[str, Fraction] = {}
        for raw in self._pipe:
            level, line = split_level(raw.decode("utf-8", "replace").rstrip())
            if "Parsed_showinfo" not in line:  # (a file name could look like a frame line)
                self._times.errors.line(level, line)
                if line:
                    self._other(line)
                continue
            frame = _SHOWINFO_FRAME.search(line)
            if frame is not None:
                fmt = _SHOWINFO_FMT.search(line)
                chain = fmt.group(1) if fmt is not None and fmt.group(1) in self._others else ""
                times = self._others[chain] if chain else self._times
                if frame.group(2) == "NOPTS":  # unseen in practice; keep order monotonic
                    at = last.get(chain, Fraction(0)) + Fraction(1, 1000)
                else:
                    at = int(frame.group(2)) * time_base
                last[chain] = at
                if not chain:
                    times.errors.frame()
                times.add(at)
                continue
            tb = _SHOWINFO_TB.search(line)
            if tb is not None and int(tb.group(1)) > 0:
                time_base = Fraction(int(tb.group(1)), int(tb.group(2)))

    def _other(self, line: str) -> None:
        self.tail.append(line)
        source = _INPUT_RANGE.search(line)
        if source is not None and self._times.source_range is None and not self._output:
            self._times.source_range = source.group(2)
        self._output = self._output or line.startswith("Output #")


def decode_frames(
    path: Path,
    width: int,
    height: int,
    rotation: int,
    times: FrameTimes,
    *,
    batch_frames: int = BATCH_FRAMES,
) -> Iterator[FrameBatch]:
    """Yield small YUV batches of every frame of `path`; fill `times` as frames decode.

    `width`/`height` are the coded size, `rotation` the clockwise display rotation.
    Raises MediaToolError naming the file when ffmpeg fails or decodes nothing.
    """
    out_w, out_h = scaled_size(width, height, rotation)
    command = _command(path, out_w, out_h, rotation)
    for start, frames in read_frames(path, command, (3, out_h, out_w), times, batch_frames):
        yield FrameBatch(start, frames)


def read_frames(
    path: Path,
    command: list[str],
    shape: tuple[int, ...],
    times: FrameTimes,
    batch_frames: int,
) -> Iterator[tuple[int, U8Frames]]:
    """Run an ffmpeg `command` that writes raw frames of `shape` to stdout and showinfo
    lines to stderr; yield (index of the first, frames) batches of at most
    `batch_frames`, filling `times`. Raises MediaToolError naming the file when ffmpeg
    fails, decodes nothing, or times and frames disagree."""
    frame_bytes = int(np.prod(shape))
    try:
        proc = runner.popen(command)
    except OSError as exc:
        raise MediaToolError(f"{path.name}: cannot run ffmpeg: {exc}") from exc
    assert proc.stdout is not None and proc.stderr is not None
    reader = StderrReader(proc.stderr, times)
    reader.start()
    decoded = 0
    try:
        for buf in whole_frames(proc.stdout, frame_bytes, batch_frames):
            frames = np.frombuffer(buf, np.uint8).reshape(-1, *shape)
            yield decoded, frames
            decoded += len(frames)
        code = proc.wait()
    finally:
        if proc.poll() is None:  # consumer stopped early: do not leave ffmpeg behind
            proc.kill()
            proc.wait()
        reader.join(timeout=10)
    check_decoded(path, code, reader, [("", times, decoded)])


def whole_frames(pipe: IO[bytes], frame_bytes: int, batch_frames: int) -> Iterator[bytes]:
    """`pipe`'s bytes in batches of at most `batch_frames` whole frames, until it ends."""
    while True:
        buf = pipe.read(frame_bytes * batch_frames)
        n = len(buf) // frame_bytes
        if n:
            yield buf[: n * frame_bytes]
        if len(buf) < frame_bytes * batch_frames:
            return


def check_decoded(
    path: Path, code: int, reader: StderrReader, chains: list[tuple[str, FrameTimes, int]]
) -> None:
    """After ffmpeg ended with `code`: MediaToolError naming the file when it failed, decoded
    nothing (in the first chain), or a chain's frame times and frames disagree in number.
    `chains`: (what, its times, frames read) per output."""
    if code != 0 or chains[0][2] == 0:
        detail = "; ".join(list(reader.tail)[-3:]) or f"exit code {code}"
        raise MediaToolError(f"{path.name}: ffmpeg could not decode the video: {detail}")
    for what, times, decoded in chains:
        if len(times.pts) != decoded:
            raise MediaToolError(
                f"{path.name}: ffmpeg reported {len(times.pts)} {what}frame times "
                f"for {decoded} frames"
            )
