"""A file's start timecode: the SMPTE label of its first video frame, from ffprobe's tags.

Where it is found, first hit wins: the video stream's `timecode` tag (MOV/MP4 with a
tmcd track: ffmpeg copies the track's first label there), a data stream's (the tmcd
track itself), then the container's (Matroska, MXF). Tag names are compared in any case
(Matroska's are upper case). The label keeps its own count: `;` drop-frame, `:`
non-drop (a 29.97 file may say either).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

from worker.timecode import read_timecode, smpte

JSON = Mapping[str, Any]


def start_timecode(fmt: JSON, streams: Iterable[JSON], video: JSON, fps: Fraction) -> str | None:
    """The normalised label (`HH:MM:SS:FF` or `HH:MM:SS;FF`), or None when the file has
    none or its label does not fit the rate (a tag we cannot count from is no timecode)."""
    data = [s for s in streams if s.get("codec_type") == "data"]
    for holder in (video, *data, fmt):
        label = _tag(holder, "timecode")
        if label is None:
            continue
        try:
            frame, drop = read_timecode(label, fps)
        except ValueError:
            return None
        return smpte(frame, fps, drop=drop)
    return None


def _tag(holder: JSON, name: str) -> str | None:
    tags = holder.get("tags") or {}
    for key, value in tags.items():
        if str(key).lower() == name and str(value).strip():
            return str(value).strip()
    return None
