"""Frame/time conversions in one place: integer milliseconds, exact rational rates."""

from __future__ import annotations

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


def smpte(frame: int, fps: Fraction) -> str:
    """SMPTE timecode of a frame: HH:MM:SS:FF, or HH:MM:SS;FF drop-frame at 29.97/59.94."""
    nominal = round(fps)
    drop = fps.denominator == 1001 and nominal in (30, 60)
    if drop:
        drop_per_min = 2 if nominal == 30 else 4
        frames_per_10min = nominal * 600 - drop_per_min * 9
        frames_per_min = nominal * 60 - drop_per_min
        tens, rem = divmod(frame, frames_per_10min)
        extra = 0 if rem < drop_per_min else drop_per_min * ((rem - drop_per_min) // frames_per_min)
        frame = frame + drop_per_min * 9 * tens + extra
    ff = frame % nominal
    total_s = frame // nominal
    sep = ";" if drop else ":"
    return f"{total_s // 3600:02d}:{total_s // 60 % 60:02d}:{total_s % 60:02d}{sep}{ff:02d}"


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
