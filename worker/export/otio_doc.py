"""OpenTimelineIO: a timeline whose video track holds one clip per shot, with a marker
per technical cue, label, moderation label and face range.

The track's time is the video's time: shots sit at their own frames (a gap fills any
hole between shots), so markers on the track land on the frames they describe.
Times are frame counts at the video's rate (OTIO keeps rates as floats: 30000/1001
becomes 29.97002997...). Marker ranges cover the frames shown during the detection's
[start_ms, end_ms); the exact milliseconds, kind and confidence are kept in the
marker's metadata under "vidx". The only module that touches opentimelineio.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from pathlib import PurePosixPath
from typing import Any

import opentimelineio as otio

from worker.export.model import Detection, Shot, Timeline, read_timeline
from worker.timecode import ms_to_frame

MARKER_COLOURS = {
    "cue": otio.schema.MarkerColor.CYAN,
    "label": otio.schema.MarkerColor.GREEN,
    "moderation": otio.schema.MarkerColor.RED,
    "face": otio.schema.MarkerColor.YELLOW,
}


def write_otio(doc: Mapping[str, Any]) -> str:
    text: str = otio.adapters.write_to_string(build(read_timeline(doc)), "otio_json")
    return text if text.endswith("\n") else text + "\n"


def build(tl: Timeline) -> otio.schema.Timeline:
    rate = float(tl.video.fps)
    timeline = otio.schema.Timeline(name=tl.video.filename)
    timeline.global_start_time = otio.opentime.RationalTime(0, rate)
    timeline.metadata["vidx"] = {
        "schema": "vidx.timeline/1",
        "video_id": tl.video.id,
        "source": tl.video.source,
        "fps": f"{tl.video.fps.numerator}/{tl.video.fps.denominator}",
    }
    track = otio.schema.Track(name="Shots", kind=otio.schema.TrackKind.Video)
    timeline.tracks.append(track)
    position = 0
    for shot in tl.shots:
        if shot.start_frame > position:
            track.append(otio.schema.Gap(source_range=_range(position, shot.start_frame, rate)))
        # (shots never overlap; if they did, a clip would start where the last one ended)
        track.append(_clip(tl, shot, rate))
        position = max(position, shot.start_frame) + shot.frames
    for d in tl.detections:
        track.markers.append(_marker(d, tl.video.fps, rate))
    return timeline


def _range(start: int, end: int, rate: float) -> otio.opentime.TimeRange:
    return otio.opentime.TimeRange(
        otio.opentime.RationalTime(start, rate), otio.opentime.RationalTime(end - start, rate)
    )


def _clip(tl: Timeline, shot: Shot, rate: float) -> otio.schema.Clip:
    clip = otio.schema.Clip(
        name=f"Shot {shot.index}",
        media_reference=_media(tl, rate),
        source_range=_range(shot.start_frame, shot.end_frame + 1, rate),
    )
    clip.metadata["vidx"] = {
        "kind": "shot",
        "index": shot.index,
        "confidence": shot.confidence,
        "start_ms": shot.start_ms,
        "end_ms": shot.end_ms,
    }
    return clip


def _media(tl: Timeline, rate: float) -> otio.core.MediaReference:
    source = tl.video.source
    available = None if tl.video.frame_count is None else _range(0, tl.video.frame_count, rate)
    if source.startswith("/"):
        url = PurePosixPath(source).as_uri()
    elif "://" in source:
        url = source
    else:
        # e.g. "import:pages.json": results without a media file
        return otio.schema.MissingReference(name=tl.video.filename, available_range=available)
    return otio.schema.ExternalReference(target_url=url, available_range=available)


def _marker(d: Detection, fps: Fraction, rate: float) -> otio.schema.Marker:
    first = ms_to_frame(d.start_ms, fps)
    # frames shown during [start_ms, end_ms): up to the one showing at end_ms - 1
    end = ms_to_frame(d.end_ms - 1, fps) + 1 if d.end_ms > d.start_ms else first
    marker = otio.schema.Marker(
        name=d.name,
        marked_range=_range(first, max(first, end), rate),
        color=MARKER_COLOURS[d.kind],
    )
    marker.metadata["vidx"] = {
        "kind": d.kind,
        "index": d.seq,
        "confidence": d.confidence,
        "start_ms": d.start_ms,
        "end_ms": d.end_ms,
        **d.extra,
    }
    return marker
