"""Scoring detections against media truth; shared by the test suite and the benchmarks."""

from __future__ import annotations

from collections.abc import Sequence


def cut_f1(found: Sequence[int], truth: Sequence[int], tolerance: int = 1) -> float:
    """F1 of cut frames: a found cut within `tolerance` frames of a truth cut is a hit,
    each found cut matching at most one truth cut."""
    if not found and not truth:
        return 1.0
    unmatched = list(found)
    hits = 0
    for cut in truth:
        match = next((f for f in unmatched if abs(f - cut) <= tolerance), None)
        if match is not None:
            unmatched.remove(match)
            hits += 1
    return 2 * hits / (len(found) + len(truth))
