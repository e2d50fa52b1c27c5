"""WebVTT: a chapter-style cue per shot plus a cue per technical cue, label, moderation
label, face range and line of text.

Every cue has an identifier `<kind>-<n>` (`shot-3`, `cue-0`, `label-12`, `moderation-1`,
`face-4`, `text-2`; n is the position in the timeline document's list of that kind) so a
player or script can pick the kinds it wants; the text is the name and the confidence,
e.g. `Dog (97.1%)`, `Shot 3 (99.2%)`, `ColorBars (98.0%)`, `Face (99.9%)`, and for a line
of text the words read, `NO PARKING (96.0%)`.
Cues are sorted by start time; a range with no duration (a single detection) is
given one frame, since a WebVTT cue must end after it starts.
"""

from __future__ import annotations

from collections.abc import Collection
from fractions import Fraction

from worker.export.model import DETECTION_KINDS, ExportError, export_view
from worker.read_model import Timeline
from worker.timecode import format_hms, round_half_up

VTT_KINDS = ("shot", *DETECTION_KINDS)


def write_vtt(timeline: Timeline, kinds: Collection[str] | None = None) -> str:
    """The timeline as WebVTT; `kinds` limits the cues to those kinds (default: all)."""
    wanted = set(VTT_KINDS if kinds is None else kinds)
    if wanted - set(VTT_KINDS):
        raise ExportError(f"unknown WebVTT cue kind(s): {sorted(wanted - set(VTT_KINDS))}")
    tl = export_view(timeline)
    fps = tl.video.fps
    # (start, kind order, end, identifier, text)
    cues: list[tuple[int, int, int, str, str]] = []
    if "shot" in wanted:
        for s in tl.shots:
            text = _text(f"Shot {s.index}", s.confidence)
            cues.append((s.start_ms, 0, s.end_ms, f"shot-{s.index}", text))
    for d in tl.detections:
        if d.kind in wanted:
            end = _visible_end(d.start_ms, d.end_ms, fps)
            order = 1 + DETECTION_KINDS.index(d.kind)
            cues.append((d.start_ms, order, end, f"{d.kind}-{d.seq}", _text(d.name, d.confidence)))
    cues.sort()
    lines = ["WEBVTT", "", _note(tl.video.id, tl.video.source), ""]
    for start, _, end, ident, text in cues:
        lines += [ident, f"{format_hms(start)} --> {format_hms(end)}", text, ""]
    return "\n".join(lines)


def _visible_end(start_ms: int, end_ms: int, fps: Fraction) -> int:
    if end_ms > start_ms:
        return end_ms
    return start_ms + max(1, round_half_up(1000 / fps))


def _text(name: str, confidence: float | None) -> str:
    label = _escape(name)
    return label if confidence is None else f"{label} ({confidence:.1f}%)"


def _escape(text: str) -> str:
    # cue text is markup: &, < and > are escaped; a line break would end the cue
    flat = " ".join(text.split())
    return flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _note(video_id: str, source: str) -> str:
    # a NOTE may not contain "-->" and ends at the first blank line
    text = " ".join(f"vidx.timeline/1 video {video_id} source {source}".split())
    return "NOTE " + text.replace("-->", "->")
