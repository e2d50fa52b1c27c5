"""Merge a job's parsed detections into timeline ranges (shots, cues, label and text runs).

Built from the parsed items while collecting, so the rows just written are not read back."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

from worker.read_model import Range
from worker.results import ParsedDetection
from worker.timecode import frame_to_ms

# Label/moderation/face detections closer than this belong to one continuous range;
# Rekognition samples stored video about twice a second.
DEFAULT_MERGE_GAP_MS = 1500


@dataclass(frozen=True)
class VideoClock:
    duration_ms: int
    frame_count: int
    fps: Fraction


def build_ranges(
    kind_rows: Sequence[ParsedDetection],
    clock: VideoClock,
    merge_gap_ms: int = DEFAULT_MERGE_GAP_MS,
) -> list[Range]:
    segments = [d for d in kind_rows if d.kind in ("shot", "cue")]
    # decode errors stay detections: notes on the timeline, not ranges to search; text
    # ranges are runs of one LINE (its WORDs are searchable through the line)
    others = [
        d
        for d in kind_rows
        if d.kind in ("label", "moderation", "face")
        or (d.kind == "text" and d.data.get("Type") == "LINE")
    ]
    return _segment_ranges(segments, clock) + _merged_ranges(others, clock, merge_gap_ms)


def _segment_ranges(rows: Sequence[ParsedDetection], clock: VideoClock) -> list[Range]:
    # A segment ends where the segment starting at its last frame + 1 begins: exact for
    # VFR too, since boundaries share frames. Otherwise fall back to the parsed end.
    starts = {d.start_frame: d.start_ms for d in rows if d.start_frame is not None}
    out: list[Range] = []
    seq_by_kind: dict[str, int] = defaultdict(int)
    for d in sorted(rows, key=lambda r: (r.kind, r.start_ms)):
        end = d.end_ms if d.end_ms is not None else d.start_ms
        if d.end_frame is not None:
            if d.end_frame + 1 in starts:
                end = starts[d.end_frame + 1]
            elif d.end_frame >= clock.frame_count - 1:
                end = clock.duration_ms
        end = min(max(end, d.start_ms + 1), max(clock.duration_ms, d.start_ms + 1))
        seq = (
            int(d.data.get("index", seq_by_kind[d.kind]))
            if d.kind == "shot"
            else seq_by_kind[d.kind]
        )
        seq_by_kind[d.kind] += 1
        out.append(
            Range(
                kind=d.kind,
                name=d.name,
                parent=None,
                seq=seq,
                start_ms=d.start_ms,
                end_ms=end,
                start_frame=d.start_frame,
                end_frame=d.end_frame,
                max_confidence=d.confidence,
                detections=1,
            )
        )
    return out


def _merged_ranges(rows: Sequence[ParsedDetection], clock: VideoClock, gap_ms: int) -> list[Range]:
    frame_ms = max(1, frame_to_ms(1, clock.fps)) if clock.fps > 0 else 1
    groups: dict[tuple[str, str, str | None], list[ParsedDetection]] = defaultdict(list)
    for d in rows:
        groups[(d.kind, d.name, d.parent)].append(d)
    out: list[Range] = []
    for (kind, name, parent), items in sorted(groups.items(), key=lambda kv: kv[0][:2]):
        items.sort(key=lambda r: r.start_ms)
        run: list[ParsedDetection] = []
        for d in items:
            if run and d.start_ms - _end(run[-1], frame_ms) > gap_ms:
                out.append(_range(kind, name, parent, run, frame_ms))
                run = []
            run.append(d)
        if run:
            out.append(_range(kind, name, parent, run, frame_ms))
    # numbered within each kind in time order; the list keeps its (name) order
    order = sorted(range(len(out)), key=lambda i: (out[i].kind, out[i].start_ms))
    for seq, i in enumerate(order):
        out[i] = replace(out[i], seq=seq)
    return out


def _end(d: ParsedDetection, frame_ms: int) -> int:
    return d.end_ms if d.end_ms is not None and d.end_ms > d.start_ms else d.start_ms + frame_ms


def _range(
    kind: str, name: str, parent: str | None, run: Sequence[ParsedDetection], frame_ms: int
) -> Range:
    confidences = [d.confidence for d in run if d.confidence is not None]
    return Range(
        kind=kind,
        name=name,
        parent=parent,
        seq=0,
        start_ms=run[0].start_ms,
        end_ms=max(_end(d, frame_ms) for d in run),
        start_frame=None,
        end_frame=None,
        max_confidence=max(confidences) if confidences else None,
        detections=len(run),
        parents=tuple(run[0].data.get("Parents") or ()) if kind == "label" else None,
    )
