"""CMX3600 edit decision list: one cut event per shot.

Source in/out are the shot's frames in the video, labelled with the file's own timecode
(its first frame's label from the tmcd track or `timecode` tag; 00:00:00:00 when it has
none); the out point is exclusive, the frame after the shot. The record side lays the
shots end to end from the same point as the OTIO timeline (VideoInfo.record_start_frame:
the file's timecode, or 01:00:00:00 for a file without one).

Timecode counts as the file's label does (`;` drop-frame, `:` non-drop); a file without
one counts drop-frame at 29.97 and 59.94 (`FCM: DROP FRAME`) and non-drop at its rounded
rate otherwise: 25, 24 and 30 exactly, 23.976 as 24 (SMPTE has no drop-frame form for
it, so its timecode runs 0.1% slow against the clock, as in every NLE). A
variable-frame-rate source's frames are counted at its average rate.

Channels: a source with audio carries it in every event, as Avid and Resolve write it:
`B` (picture and audio 1) for mono, `AA/V` for two channels or more; channels 3 and 4
follow on an `AUD  3    4` line (CMX3600 has no field for more than 4).

Names are UTF-8: `* FROM CLIP NAME:` and `* SOURCE FILE:` carry the file name as it is
(the title stays ASCII, the one line strict readers parse).

Written here rather than with otio-cmx3600-adapter 1.0: the adapter writes no FCM
line, no audio channels, and names reels after truncated file names.
"""

from __future__ import annotations

import re

from worker.export.model import export_view
from worker.read_model import Timeline

REEL_CHARS = 8  # CMX3600 reel name width
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def write_edl(timeline: Timeline) -> str:
    tl = export_view(timeline)
    video = tl.video
    first = video.timecode_frame  # the source label of frame 0
    record = video.record_start_frame
    reel = reel_name(video.id)
    track, aud = channels(video.audio_channels)
    clip_name = _text(video.filename)
    lines = [
        f"TITLE: {_ascii(_title(video.filename))}",
        f"FCM: {'DROP FRAME' if video.drop_frame else 'NON-DROP FRAME'}",
        "",
    ]
    for n, shot in enumerate(tl.shots, start=1):
        src_in, src_out = first + shot.start_frame, first + shot.end_frame + 1
        rec_in, rec_out = record, record + shot.frames
        record = rec_out
        codes = " ".join(video.timecode(f) for f in (src_in, src_out, rec_in, rec_out))
        lines.append(f"{n:03d}  {reel:<{REEL_CHARS}} {track:<5} C        {codes}")
        if aud:
            lines.append(aud)
        lines.append(f"* FROM CLIP NAME: {clip_name}")
        lines.append(f"* SOURCE FILE: {clip_name}")
        lines.append(f"* VIDX SHOT {shot.index}")
        lines.append("")
    return "\n".join(lines)


def channels(audio_channels: int) -> tuple[str, str | None]:
    """(the event's channel field, the AUD line for channels 3-4 or None)."""
    if audio_channels <= 0:
        return "V", None
    if audio_channels == 1:
        return "B", None  # CMX3600's A/V: picture and audio 1
    if audio_channels == 2:
        return "AA/V", None
    return "AA/V", "AUD  3" if audio_channels == 3 else "AUD  3    4"


def reel_name(video_id: str) -> str:
    """The video id's first 8 characters (ids are hex, so always a legal reel name)."""
    reel = re.sub(r"[^A-Za-z0-9_]", "", video_id)[:REEL_CHARS]
    return reel or "AX"  # AX: CMX's name for an auxiliary source


def _title(filename: str) -> str:
    return filename.rsplit(".", 1)[0] if "." in filename[1:] else filename


def _text(text: str) -> str:
    # one line of UTF-8: whitespace runs and control characters would break the event,
    # and a name with undecodable bytes (surrogates) could not be written
    flat = _CONTROL.sub("?", " ".join(text.split()))
    return flat.encode("utf-8", "replace").decode("utf-8") or "untitled"


def _ascii(text: str) -> str:
    return _text(text).encode("ascii", "replace").decode("ascii")
