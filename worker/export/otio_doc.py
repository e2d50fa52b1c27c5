"""OpenTimelineIO: a timeline whose video track holds one clip per shot (and an audio
track with the same clips when the source has audio), with a marker per technical cue,
label, moderation label and face range on the timeline itself.

The tracks' time is the video's time: shots sit at their own frames (a gap fills any
hole between shots), so markers land on the frames they describe. The timeline starts
(global_start_time) where the EDL's record side does (VideoInfo.record_start_frame).
Times are frame counts at the video's rate (OTIO keeps rates as floats: 30000/1001
becomes 29.97002997...); clips' source ranges and the media's available range carry the
file's timecode (available_range starts at its first frame's label, so an editor
relinks by timecode). Marker ranges cover the frames shown during the detection's
[start_ms, end_ms); the exact milliseconds, kind and confidence are kept in the
marker's metadata under "vidx".

Markers sit on the timeline's stack, not on a track: FCP 7 XML (otio-fcp-adapter)
keeps stack markers as sequence markers and drops a top-level track's. The media
references and the timeline also say under "fcp_xml" whether the timecode counts
drop-frame, which that adapter reads (a 29.97 file may count either way). The only
module that touches opentimelineio.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import PurePosixPath
from typing import Any

import opentimelineio as otio

from worker.export.model import Detection, ExportView, Shot, export_view
from worker.read_model import Timeline
from worker.timecode import ms_to_frame

MARKER_COLOURS = {
    "cue": otio.schema.MarkerColor.CYAN,
    "label": otio.schema.MarkerColor.GREEN,
    "moderation": otio.schema.MarkerColor.RED,
    "face": otio.schema.MarkerColor.YELLOW,
    "text": otio.schema.MarkerColor.MAGENTA,
}


def write_otio(timeline: Timeline) -> str:
    text: str = otio.adapters.write_to_string(build(export_view(timeline)), "otio_json")
    return text if text.endswith("\n") else text + "\n"


def build(tl: ExportView) -> otio.schema.Timeline:
    video = tl.video
    rate = float(video.fps)
    timeline = otio.schema.Timeline(name=video.filename)
    timeline.global_start_time = otio.opentime.RationalTime(video.record_start_frame, rate)
    timeline.metadata["vidx"] = {
        "schema": "vidx.timeline/1",
        "video_id": video.id,
        "source": video.source,
        "fps": f"{video.fps.numerator}/{video.fps.denominator}",
        "start_timecode": video.start_timecode,
        "audio_channels": video.audio_channels,
    }
    timeline.metadata["fcp_xml"] = _fcp_timecode(tl)
    timeline.tracks.append(_track(tl, "Shots", otio.schema.TrackKind.Video, rate))
    if video.audio_channels:
        audio = _track(tl, "Audio", otio.schema.TrackKind.Audio, rate)
        audio.metadata["vidx"] = {"channels": video.audio_channels}
        timeline.tracks.append(audio)
    for d in tl.detections:
        timeline.tracks.markers.append(_marker(d, video.fps, rate))
    return timeline


def _track(tl: ExportView, name: str, kind: str, rate: float) -> otio.schema.Track:
    track = otio.schema.Track(name=name, kind=kind)
    position = 0
    for shot in tl.shots:
        if shot.start_frame > position:
            track.append(otio.schema.Gap(source_range=_range(position, shot.start_frame, rate)))
        # (shots never overlap; if they did, a clip would start where the last one ended)
        track.append(_clip(tl, shot, rate, kind.lower()))
        position = max(position, shot.start_frame) + shot.frames
    return track


def _fcp_timecode(tl: ExportView) -> dict[str, Any]:
    return {"timecode": {"displayformat": "DF" if tl.video.drop_frame else "NDF"}}


def _range(start: int, end: int, rate: float) -> otio.opentime.TimeRange:
    return otio.opentime.TimeRange(
        otio.opentime.RationalTime(start, rate), otio.opentime.RationalTime(end - start, rate)
    )


def _clip(tl: ExportView, shot: Shot, rate: float, track: str) -> otio.schema.Clip:
    first = tl.video.timecode_frame
    clip = otio.schema.Clip(
        name=f"Shot {shot.index}",
        media_reference=_media(tl, rate),
        source_range=_range(first + shot.start_frame, first + shot.end_frame + 1, rate),
    )
    # "track" also keeps the audio clips distinct: otio-fcp-adapter writes equal clips
    # once and refers to the first, which would put a video clipitem on an audio track
    clip.metadata["vidx"] = {
        "kind": "shot",
        "track": track,
        "index": shot.index,
        "confidence": shot.confidence,
        "start_ms": shot.start_ms,
        "end_ms": shot.end_ms,
    }
    return clip


def _media(tl: ExportView, rate: float) -> otio.core.MediaReference:
    source = tl.video.source
    first = tl.video.timecode_frame
    count = tl.video.frame_count
    available = None if count is None else _range(first, first + count, rate)
    if source.startswith("/"):
        url = PurePosixPath(source).as_uri()  # percent-encoded UTF-8: spaces, ï, #, %
    elif "://" in source:
        url = source
    else:
        # e.g. "import:pages.json": results without a media file
        return otio.schema.MissingReference(name=tl.video.filename, available_range=available)
    ref = otio.schema.ExternalReference(target_url=url, available_range=available)
    ref.name = tl.video.filename
    ref.metadata["fcp_xml"] = _fcp_timecode(tl)
    return ref


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
