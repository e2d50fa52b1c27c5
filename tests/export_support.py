"""Export tests' helpers: timelines built by hand, and readers independent of worker.export."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

from webvtt.models import Timestamp

from worker.export import read_timeline
from worker.export import render as render_timeline
from worker.timecode import frame_to_ms

RATES = {
    "25": Fraction(25),
    "24": Fraction(24),
    "30": Fraction(30),
    "29.97": Fraction(30000, 1001),
    "59.94": Fraction(60000, 1001),
    "23.976": Fraction(24000, 1001),
}


def make_doc(
    fps: Fraction,
    shots: Sequence[tuple[int, int]],
    *,
    frame_count: int | None = None,
    labels: Sequence[tuple[str, int, int, float]] = (),
    cues: Sequence[tuple[str, int, int, float]] = (),
    moderation: Sequence[tuple[str, int, int, float]] = (),
    faces: Sequence[tuple[int, int, float]] = (),
    text: Sequence[tuple[str, int, int, float]] = (),
    source: str = "/media/film.mov",
    video_id: str = "0123456789abcdef",
    start_timecode: str | None = None,
    audio_channels: int | None = None,
) -> dict[str, Any]:
    """A vidx.timeline/1 document; shots as (start_frame, end_frame inclusive)."""
    last = max((e for _, e in shots), default=-1)
    count = frame_count if frame_count is not None else last + 1
    rate = f"{fps.numerator}/{fps.denominator}"
    return {
        "schema": "vidx.timeline/1",
        "video": {
            "id": video_id,
            "source": source,
            "duration_ms": frame_to_ms(count, fps),
            "fps": rate,
            "frame_count": count,
            "width": 1920,
            "height": 1080,
            "start_timecode": start_timecode,
            "audio_channels": audio_channels,
        },
        "features": {"segments": {"status": "SUCCEEDED", "engine": "local", "model_version": "t"}},
        "shots": [
            {
                "index": i,
                "start_ms": frame_to_ms(a, fps),
                "end_ms": frame_to_ms(b + 1, fps),
                "start_frame": a,
                "end_frame": b,
                "confidence": 90.0 + i % 10,
            }
            for i, (a, b) in enumerate(shots)
        ],
        "technical_cues": [
            {"type": t, "start_ms": a, "end_ms": b, "confidence": c} for t, a, b, c in cues
        ],
        "labels": [
            {
                "name": n,
                "parents": ["Thing"],
                "start_ms": a,
                "end_ms": b,
                "max_confidence": c,
                "detections": 3,
            }
            for n, a, b, c in labels
        ],
        "moderation": [
            {
                "name": n,
                "parent": "Parent",
                "start_ms": a,
                "end_ms": b,
                "max_confidence": c,
                "detections": 2,
            }
            for n, a, b, c in moderation
        ],
        "faces": [
            {"start_ms": a, "end_ms": b, "max_confidence": c, "detections": 5, "attributes": {}}
            for a, b, c in faces
        ],
        "text": [
            {
                "name": n,
                "type": "LINE",
                "start_ms": a,
                "end_ms": b,
                "max_confidence": c,
                "detections": 4,
            }
            for n, a, b, c in text
        ],
        "content_range_ms": None,
        "notes": [],
        "clips": [],
    }


def render(doc: Mapping[str, Any], fmt: str, *, vtt_kinds: Collection[str] | None = None) -> str:
    """worker.export.render of a document as the tests build it (a dict): read, then rendered."""
    return render_timeline(read_timeline(doc), fmt, vtt_kinds=vtt_kinds)


def contiguous(lengths: Sequence[int], start: int = 0) -> list[tuple[int, int]]:
    """Shots of these frame counts laid end to end from `start`."""
    shots, at = [], start
    for n in lengths:
        shots.append((at, at + n - 1))
        at += n
    return shots


def frame_of_timecode(code: str, fps: Fraction) -> int:
    """SMPTE 12M reading, written apart from worker.timecode to check it."""
    hh, mm, ss, ff = (int(x) for x in re.split("[:;]", code))
    nominal = int(fps + Fraction(1, 2))
    frame = (hh * 3600 + mm * 60 + ss) * nominal + ff
    if ";" in code:
        minutes = hh * 60 + mm
        frame -= (2 if nominal == 30 else 4) * (minutes - minutes // 10)
    return frame


@dataclass(frozen=True)
class EdlEvent:
    number: int
    reel: str
    track: str
    transition: str
    src_in: str
    src_out: str
    rec_in: str
    rec_out: str
    comments: tuple[str, ...]
    aud: str | None = None  # the channels 3/4 line (`AUD  3    4`) after the event


@dataclass(frozen=True)
class Edl:
    title: str
    fcm: str
    events: list[EdlEvent]


EVENT = re.compile(
    r"(\d{3,})  (\S{1,8}) +(V|A|A2|AA|B|AA/V) +(C|D|W\d{3}|K\w*) +"
    r"(\d\d:\d\d:\d\d[:;]\d\d) (\d\d:\d\d:\d\d[:;]\d\d) "
    r"(\d\d:\d\d:\d\d[:;]\d\d) (\d\d:\d\d:\d\d[:;]\d\d)"
)


AUD = re.compile(r"AUD  3(    4)?")


def parse_edl(text: str) -> Edl:
    """A small strict CMX3600 reader: header, cut events, their comment lines."""
    lines = text.splitlines()
    assert lines[0].startswith("TITLE: "), lines[0]
    assert lines[1].startswith("FCM: "), lines[1]
    events: list[EdlEvent] = []
    for line in lines[2:]:
        if not line.strip():
            continue
        if line.startswith("* "):
            events[-1] = replace(events[-1], comments=(*events[-1].comments, line))
            continue
        if AUD.fullmatch(line):
            assert events[-1].aud is None and not events[-1].comments, line
            events[-1] = replace(events[-1], aud=line)
            continue
        m = EVENT.fullmatch(line)
        assert m is not None, f"not a CMX3600 event line: {line!r}"
        num, reel, track, trans, src_in, src_out, rec_in, rec_out = m.groups()
        events.append(EdlEvent(int(num), reel, track, trans, src_in, src_out, rec_in, rec_out, ()))
    return Edl(lines[0][7:], lines[1][5:], events)


def vtt_ms(ts: Timestamp) -> int:
    return ((ts.hours * 60 + ts.minutes) * 60 + ts.seconds) * 1000 + ts.milliseconds
