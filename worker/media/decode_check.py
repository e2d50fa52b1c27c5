"""A check decode: every video frame decoded once and dropped, its errors counted.

The local engine counts decode errors during the decode its analysis makes anyway
(engines/local/frames.py). Rekognition decodes the file itself, so for the aws engine
this decode is extra: it runs before the upload, so a corrupt file is refused before it
is uploaded and paid for. Its cost is one full decode (`-f null`, loop filter skipped,
showinfo without checksums for each frame's pts), on one decoding thread as every
counted decode (decode_errors.py). Measured on 2 shared cores, old and new in one run:
2.0-2.1 CPU-seconds per minute of 720p25 H.264 and 5.3-5.7 per minute of 1080p29.97
(with ffmpeg's frame threads 2.4-2.5 and 5.9-6.6), about 60 % of the local analysis,
whose decode went from 3.9-4.0 to 3.5 and from 9.4-9.9 to 9.0 CPU-seconds per minute.
One thread takes longer: the check 1.0-1.25x as long, the analysis 1.0-1.1x (720p25)
and 1.25x (1080p29.97), its Python half running alongside.
"""

from __future__ import annotations

import re
import threading
from fractions import Fraction
from itertools import accumulate
from pathlib import Path

from worker.errors import MediaToolError
from worker.media import runner
from worker.media.decode_errors import DECODE_THREADS, DecodeErrorLog, DecodeReport, split_level
from worker.media.info import MediaInfo
from worker.timecode import round_half_up

TIMEOUT_BASE_S = 120
TIMEOUT_PER_MEDIA_S = 2  # seconds allowed per second of video (decoding runs far faster)

_FRAME = re.compile(r"\bn:\s*\d+\s+pts:\s*(-?\d+)")
_TIME_BASE = re.compile(r"config in time_base:\s*(\d+)/(\d+)")


def command(path: Path) -> list[str]:
    return [
        "ffmpeg",
        "-nostdin",
        "-hide_banner",
        "-nostats",
        "-loglevel",
        "level+info",
        *runner.media_input(path, "-threads", str(DECODE_THREADS), "-skip_loop_filter", "all"),
        "-map",
        "0:v:0",
        "-vf",
        "showinfo=checksum=0",
        "-f",
        "null",
        "-",
    ]


def check_decode(path: Path, info: MediaInfo) -> DecodeReport:
    """Decode all of `path`'s first video stream; its decode errors (decode_errors.py).
    MediaToolError when ffmpeg cannot run, fails, or takes too long."""
    log = DecodeErrorLog()
    pts: list[Fraction] = []
    tail: list[str] = []
    timeout_s = TIMEOUT_BASE_S + TIMEOUT_PER_MEDIA_S * info.duration_ms / 1000
    try:
        proc = runner.popen(command(path))
    except OSError as exc:
        raise MediaToolError(f"{path}: cannot run ffmpeg: {exc.strerror or exc}") from None
    assert proc.stderr is not None
    timer = threading.Timer(timeout_s, proc.kill)
    timer.start()
    try:
        time_base = Fraction(1)
        for raw in proc.stderr:
            level, line = split_level(raw.decode("utf-8", "replace").rstrip())
            if "Parsed_showinfo" in line:
                if (frame := _FRAME.search(line)) is not None:
                    pts.append(int(frame.group(1)) * time_base)
                    log.frame()
                elif (tb := _TIME_BASE.search(line)) is not None and int(tb.group(1)) > 0:
                    time_base = Fraction(int(tb.group(1)), int(tb.group(2)))
                continue
            log.line(level, line)
            if line:
                tail = [*tail[-2:], line]
        code = proc.wait()
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    if code != 0 or not pts:
        if code < 0:
            raise MediaToolError(f"{path}: the check decode took over {timeout_s:.0f} s, stopped")
        detail = "; ".join(tail) or f"exit status {code}"
        raise MediaToolError(f"{path}: ffmpeg could not decode the video: {detail}")
    first = pts[0]
    # pts only go forward, as in the analysis: damage must not make time run back
    frame_ms = list(accumulate((round_half_up((p - first) * 1000) for p in pts), max))
    return log.report(frame_ms, info.frame_count, info.duration_ms)
