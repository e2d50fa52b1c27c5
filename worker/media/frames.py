"""Single decoded frames as numpy arrays, and PSNR to compare them.

Times are ms from the first video frame (vidx's convention). The frame "at" a time is
the one showing then: the last frame whose start, rounded half up to whole ms as in
the media truth, is at or before it. Frames come out as a player shows them (ffmpeg
applies the rotation metadata), RGB24, shape (height, width, 3).
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import ffmpeg
import numpy as np
import numpy.typing as npt

from worker.errors import MediaToolError
from worker.media import runner
from worker.media.info import MediaInfo
from worker.media.probe import probe
from worker.timecode import round_half_up

Frame = npt.NDArray[np.uint8]
DECODE_TIMEOUT_S = 120
_LOOKBACK_S = 10  # how far before `ms` to look for the start of the frame showing then


def decode_frame_at(path: Path, ms: int, info: MediaInfo | None = None) -> Frame:
    """The frame showing `ms` after the first frame (pass `info` to skip probing)."""
    path = Path(path)
    info = info or probe(path)
    if not 0 <= ms < info.duration_ms:
        raise ValueError(f"{ms} ms is outside the video (0-{info.duration_ms} ms)")
    pts_s = _frame_start_s(path, info, ms)
    before = max(Fraction(0), pts_s - Fraction(info.start_pts_ms, 1000) - 1)
    source = ffmpeg.input(
        runner.target(path),
        ss=f"{float(before):.6f}",
        noaccurate_seek=None,
        **runner.input_options(),
    )
    # -copyts keeps the source's timestamps, so trim can pick the frame by its own pts
    picked = source["V:0"].trim(start=f"{float(pts_s) - 0.0001:.6f}")
    command = (
        ffmpeg.output(picked, "pipe:", format="rawvideo", pix_fmt="rgb24", **{"frames:v": 1})
        .global_args("-nostdin", "-v", "error", "-copyts")
        .compile()
    )
    raw = runner.capture(command, path, DECODE_TIMEOUT_S, "decoding a frame")
    width, height = info.display_size
    if len(raw) != width * height * 3:
        raise MediaToolError(f"{path}: no frame decoded at {ms} ms ({len(raw)} bytes)")
    return np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3)


def psnr(a: Frame, b: Frame) -> float:
    """Peak signal-to-noise ratio in dB over all channels; inf for identical frames."""
    if a.shape != b.shape:
        raise ValueError(f"frames differ in shape: {a.shape} vs {b.shape}")
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


def _frame_start_s(path: Path, info: MediaInfo, ms: int) -> Fraction:
    """Exact pts (seconds) of the frame showing at `ms`, from demuxed packets only."""
    at = Fraction(info.start_pts_ms + ms, 1000)
    window = f"{float(at) - _LOOKBACK_S:.6f}%{float(at) + 1:.6f}"
    data = runner.ffprobe_json(
        path, v="error", select_streams="V:0", read_intervals=window, show_entries="packet=pts"
    )
    time_base = Fraction(data["streams"][0]["time_base"])
    starts = [int(p["pts"]) * time_base for p in data.get("packets", []) if "pts" in p]
    # a frame shows at `ms` when its start, in whole ms from the first frame, is <= ms
    showing = [s for s in starts if round_half_up(s * 1000) - info.start_pts_ms <= ms]
    if not showing:
        raise MediaToolError(f"{path}: no frame starts at or before {ms} ms")
    return max(showing)
