"""CMX3600 edit decision list: one cut event per shot.

Source in/out are the shot's frames in the video (timecode counted from 00:00:00:00 at
the first frame; the out point is exclusive, the frame after the shot). The record
side lays the shots end to end from 01:00:00:00, the usual programme start.

Timecode: 29.97 and 59.94 fps sources are written drop-frame (`;` before the frames,
`FCM: DROP FRAME`); every other rate counts non-drop at its rounded rate
(`FCM: NON-DROP FRAME`): 25, 24 and 30 exactly, 23.976 as 24 (SMPTE has no
drop-frame form for it, so its timecode runs 0.1% slow against the clock, as in
every NLE). A variable-frame-rate source's frames are counted at its average rate.

Written here rather than with otio-cmx3600-adapter 1.0: the adapter writes no FCM
line and names reels after truncated file names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from worker.export.model import read_timeline
from worker.timecode import frame_of_smpte, is_drop_frame, smpte

RECORD_START, RECORD_START_DF = "01:00:00:00", "01:00:00;00"
REEL_CHARS = 8  # CMX3600 reel name width


def write_edl(doc: Mapping[str, Any]) -> str:
    tl = read_timeline(doc)
    fps = tl.video.fps
    drop = is_drop_frame(fps)
    record = frame_of_smpte(RECORD_START_DF if drop else RECORD_START, fps)
    reel = reel_name(tl.video.id)
    clip_name = _ascii(tl.video.filename)
    lines = [
        f"TITLE: {_ascii(_title(tl.video.filename))}",
        f"FCM: {'DROP FRAME' if drop else 'NON-DROP FRAME'}",
        "",
    ]
    for n, shot in enumerate(tl.shots, start=1):
        src_in, src_out = shot.start_frame, shot.end_frame + 1
        rec_in, rec_out = record, record + shot.frames
        record = rec_out
        codes = " ".join(smpte(f, fps) for f in (src_in, src_out, rec_in, rec_out))
        lines.append(f"{n:03d}  {reel:<{REEL_CHARS}} V     C        {codes}")
        lines.append(f"* FROM CLIP NAME: {clip_name}")
        lines.append(f"* VIDX SHOT {shot.index}")
        lines.append("")
    return "\n".join(lines)


def reel_name(video_id: str) -> str:
    """The video id's first 8 characters (ids are hex, so always a legal reel name)."""
    reel = re.sub(r"[^A-Za-z0-9_]", "", video_id)[:REEL_CHARS]
    return reel or "AX"  # AX: CMX's name for an auxiliary source


def _title(filename: str) -> str:
    return filename.rsplit(".", 1)[0] if "." in filename[1:] else filename


def _ascii(text: str) -> str:
    # EDL readers expect single-line ASCII
    flat = " ".join(text.split())
    return flat.encode("ascii", "replace").decode("ascii") or "untitled"
