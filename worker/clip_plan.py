"""What each clip spans: the programme (content range), short shots merged into a
neighbour, the content clip's start.

Pure functions over (start_ms, end_ms) spans and technical cues (no database), so the
planner, the worker tasks and the read side's `status` all derive the same clips from
the same stored timeline.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Sequence
from dataclasses import dataclass

Cue = tuple[str, int, int]  # (type, start_ms, end_ms), Rekognition's cue names

# Cues that may sit between the opening credits and the first Content shot (a fade to
# black, a logo) without ending the credits run the content clip keeps.
_INSIDE_OPENING = {"OpeningCredits", "BlackFrames", "StudioLogo"}


@dataclass(frozen=True)
class Span:
    seq: int  # the shot's index in the timeline
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class MergedSpan:
    seq: int  # the first merged shot's index: the clip is named and numbered after it
    start_ms: int
    end_ms: int
    shots: tuple[int, ...]  # the shot indices it holds, in order

    @property
    def length_ms(self) -> int:
        return self.end_ms - self.start_ms


def merge_short_shots(
    shots: Sequence[Span], min_length_ms: int, cues: Sequence[Cue] = ()
) -> list[MergedSpan]:
    """Merge every shot shorter than `min_length_ms` into a neighbour, shortest first.

    A short clip joins the shorter of its two neighbours (the previous one on a tie), and
    the result spans both. Clips never merge across a boundary of a non-Content technical
    cue: a shot belongs to the stretch between cue boundaries that holds its midpoint,
    and only clips of the same stretch merge. So bars, slate, a black gap or the end
    credits stay clips of their own (even when shorter than the minimum) instead of
    leaking into the programme. `min_length_ms <= 0` keeps one clip per shot.
    """
    ordered = sorted(shots, key=lambda s: (s.start_ms, s.seq))
    groups = [MergedSpan(s.seq, s.start_ms, s.end_ms, (s.seq,)) for s in ordered]
    if min_length_ms <= 0 or len(groups) < 2:
        return groups
    labels = _stretches(ordered, cues)
    prev = [i - 1 for i in range(len(groups))]
    nxt = [i + 1 if i + 1 < len(groups) else -1 for i in range(len(groups))]
    alive = [True] * len(groups)
    # (length, start, index): the shortest clip is merged first, ties in time order.
    # Stale entries (merged away or grown since) are skipped when popped.
    heap = [
        (g.length_ms, g.start_ms, i) for i, g in enumerate(groups) if g.length_ms < min_length_ms
    ]
    heapq.heapify(heap)
    while heap:
        length, _, i = heapq.heappop(heap)
        if not alive[i] or groups[i].length_ms != length:
            continue
        options = [n for n in (prev[i], nxt[i]) if n >= 0 and labels[n] == labels[i]]
        if not options:
            continue  # alone in its stretch: stays short rather than cross a cue
        # min() keeps the first of equal lengths, and the previous neighbour comes first
        j = min(options, key=lambda n: groups[n].length_ms)
        a, b = (j, i) if j == prev[i] else (i, j)
        groups[a] = MergedSpan(
            groups[a].seq,
            groups[a].start_ms,
            max(groups[a].end_ms, groups[b].end_ms),
            groups[a].shots + groups[b].shots,
        )
        alive[b] = False
        nxt[a] = nxt[b]
        if nxt[b] >= 0:
            prev[nxt[b]] = a
        if groups[a].length_ms < min_length_ms:
            heapq.heappush(heap, (groups[a].length_ms, groups[a].start_ms, a))
    return [g for g, keep in zip(groups, alive, strict=True) if keep]


def _stretches(shots: Sequence[Span], cues: Sequence[Cue]) -> list[int]:
    """For each shot, which stretch between non-Content cue boundaries holds its middle."""
    # boundaries and midpoints doubled: integer maths, no half milliseconds
    bounds = sorted({2 * t for name, s, e in cues if name != "Content" for t in (s, e)})
    return [bisect.bisect_right(bounds, s.start_ms + s.end_ms) for s in shots]


def content_range(cues: Sequence[Cue]) -> tuple[int, int] | None:
    """First Content cue start to last Content cue end; None without Content cues."""
    content = [(s, e) for name, s, e in cues if name == "Content"]
    if not content:
        return None
    return min(s for s, _ in content), max(e for _, e in content)


def content_clip_range(
    cues: Sequence[Cue], content: tuple[int, int] | None, keep_opening_credits: bool
) -> tuple[int, int] | None:
    """The content clip: the content range, or from the opening credits on when kept.

    The credits kept are the run of OpeningCredits cues just before the programme
    (black or a logo between two credit cards do not end it); anything else before
    them, such as bars or a slate, stays trimmed.
    """
    if content is None or not keep_opening_credits:
        return content
    start = content[0]
    before = sorted((c for c in cues if c[1] < content[0]), key=lambda c: c[1], reverse=True)
    for name, cue_start, _ in before:
        if name not in _INSIDE_OPENING:
            break
        if name == "OpeningCredits":
            start = min(start, cue_start)
    return start, content[1]
