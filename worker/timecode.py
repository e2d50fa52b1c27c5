"""Frame/time conversions in one place: integer milliseconds, exact rational rates."""

from __future__ import annotations

import re
from fractions import Fraction
from typing import NewType

Millis = NewType("Millis", int)


def parse_rate(text: str) -> Fraction:
    """'30000/1001' or '25' -> Fraction; raises ValueError on zero or junk."""
    num, _, den = text.partition("/")
    try:
        rate = Fraction(int(num), int(den or "1"))
    except ZeroDivisionError:
        raise ValueError(f"frame rate with a zero denominator: {text!r}") from None
    if rate <= 0:
        raise ValueError(f"frame rate must be positive: {text!r}")
    return rate


def round_half_up(value: Fraction) -> int:
    return int((value * 2 + 1) // 2)


def frame_to_ms(frame: int, fps: Fraction) -> Millis:
    """Start time of a zero-based frame at a constant rate (the media truth's convention)."""
    return Millis(round_half_up(Fraction(frame * 1000) / fps))


def seconds_to_ms(seconds: float | Fraction) -> Millis:
    return Millis(round_half_up(Fraction(seconds) * 1000))


def ms_to_frame(ms: int, fps: Fraction) -> int:
    """Index of the frame showing at `ms` (the last frame starting at or before it)."""
    frame = int(Fraction(ms) * fps // 1000)
    # rounding of frame starts can put frame+1 at or before ms
    while frame_to_ms(frame + 1, fps) <= ms:
        frame += 1
    while frame > 0 and frame_to_ms(frame, fps) > ms:
        frame -= 1
    return frame


def nominal_rate(fps: Fraction) -> int:
    """Frames counted per timecode second: 25 -> 25, 29.97 -> 30, 23.976 -> 24, 12.5 -> 13."""
    return max(1, round_half_up(fps))


def is_drop_frame(fps: Fraction) -> bool:
    """SMPTE drop-frame exists for 29.97 and 59.94 only; 23.976 and the rest count non-drop."""
    return fps.denominator == 1001 and nominal_rate(fps) in (30, 60)


def _drop_per_minute(fps: Fraction) -> int:
    return 2 if nominal_rate(fps) == 30 else 4


def smpte(frame: int, fps: Fraction, drop: bool | None = None) -> str:
    """SMPTE timecode of a frame: HH:MM:SS:FF, or HH:MM:SS;FF drop-frame.

    `drop` None: drop-frame at 29.97/59.94 (the usual count there), non-drop otherwise;
    False counts a 29.97 source non-drop at 30 (what its own timecode track may say).
    """
    nominal = nominal_rate(fps)
    drop = is_drop_frame(fps) if drop is None else drop and is_drop_frame(fps)
    if drop:
        drop_per_min = _drop_per_minute(fps)
        frames_per_10min = nominal * 600 - drop_per_min * 9
        frames_per_min = nominal * 60 - drop_per_min
        tens, rem = divmod(frame, frames_per_10min)
        extra = 0 if rem < drop_per_min else drop_per_min * ((rem - drop_per_min) // frames_per_min)
        frame = frame + drop_per_min * 9 * tens + extra
    ff = frame % nominal
    total_s = frame // nominal
    sep = ";" if drop else ":"
    return f"{total_s // 3600:02d}:{total_s // 60 % 60:02d}:{total_s % 60:02d}{sep}{ff:02d}"


_SMPTE = re.compile(r"(\d{2,}):(\d{2}):(\d{2})([:;.,])(\d{2,3})")


def frame_of_smpte(code: str, fps: Fraction) -> int:
    """Zero-based frame of an SMPTE timecode at `fps` (inverse of `smpte`).

    The separator must match the rate: ';' (or ',') for drop-frame rates, ':' (or '.')
    otherwise; a drop-frame label that does not exist (e.g. 00:01:00;00) is refused.
    """
    frame, drop = read_timecode(code, fps)
    if drop != is_drop_frame(fps):
        kind = "drop-frame" if is_drop_frame(fps) else "non-drop-frame"
        raise ValueError(f"timecode {code!r} does not use the {kind} separator for {fps} fps")
    return frame


def read_timecode(code: str, fps: Fraction) -> tuple[int, bool]:
    """(frames counted from 00:00:00:00, drop-frame?) of a timecode label as a file's
    timecode track gives it: the separator says how it counts (';' or ',' drop-frame,
    ':' or '.' non-drop), so a 29.97 file may count either way; drop-frame at any other
    rate, an out-of-range field or a label drop-frame skips is a ValueError."""
    m = _SMPTE.fullmatch(code.strip())
    if m is None:
        raise ValueError(f"not an SMPTE timecode: {code!r} (expected HH:MM:SS:FF)")
    hh, mm, ss, ff = (int(m.group(i)) for i in (1, 2, 3, 5))
    nominal = nominal_rate(fps)
    drop = m.group(4) in ";,"
    if drop and not is_drop_frame(fps):
        raise ValueError(
            f"timecode {code!r} uses the drop-frame separator, which {fps} fps does not have"
        )
    if mm > 59 or ss > 59 or ff >= nominal:
        raise ValueError(f"timecode {code!r} is out of range at {fps} fps")
    minutes = hh * 60 + mm
    frame = (minutes * 60 + ss) * nominal + ff
    if drop:
        dropped = _drop_per_minute(fps)
        if ss == 0 and ff < dropped and mm % 10 != 0:
            raise ValueError(f"timecode {code!r} is a label drop-frame skips")
        frame -= dropped * (minutes - minutes // 10)
    return frame, drop


def format_hms(ms: int) -> str:
    """HH:MM:SS.mmm for people."""
    s, milli = divmod(int(ms), 1000)
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.{milli:03d}"


def parse_hms(text: str) -> Millis:
    """'HH:MM:SS.mmm', 'MM:SS', 'SS.mmm' or plain seconds -> ms."""
    parts = text.strip().split(":")
    if not 1 <= len(parts) <= 3 or any(p == "" for p in parts):
        raise ValueError(f"not a time: {text!r} (expected HH:MM:SS.mmm)")
    total = Fraction(0)
    try:
        for part in parts:
            total = total * 60 + Fraction(part)
    except ValueError:
        raise ValueError(f"not a time: {text!r} (expected HH:MM:SS.mmm)") from None
    if total < 0:
        raise ValueError(f"negative time: {text!r}")
    return seconds_to_ms(total)
