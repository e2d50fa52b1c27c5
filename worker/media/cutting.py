"""One entry point for the three ways of cutting a clip.

- copy: stream copy from the keyframe at or before the cut (fast; starts early by the
  reported drift), see cut_copy.py
- accurate: re-encode the range, first and last frames exactly the range's, cut.py
- smart: frame-exact like accurate, re-encoding only the partial GOPs at the ends and
  stream-copying the rest; falls back to accurate where the source's encoding cannot
  be matched and says so in the result's note, cut_smart.py
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

from worker.media.cut import CutResult, cut_accurate
from worker.media.cut_copy import cut_copy, cut_copy_many
from worker.media.cut_smart import cut_smart, cut_smart_many
from worker.media.info import MediaInfo

MODES: Final = ("copy", "accurate", "smart")

_CUTTERS: dict[str, Callable[[Path, MediaInfo, int, int, Path], CutResult]] = {
    "copy": cut_copy,
    "accurate": cut_accurate,
    "smart": cut_smart,
}


def cut_clip(
    src: Path, info: MediaInfo, start_ms: int, end_ms: int, out: Path, mode: str
) -> CutResult:
    """Cut [start_ms, end_ms) (ms from the first frame) of `src` into `out`."""
    cutter = _CUTTERS.get(mode)
    if cutter is None:
        raise ValueError(f"unknown cut mode {mode!r}: use one of {', '.join(MODES)}")
    return cutter(src, info, start_ms, end_ms, out)


def cut_clips(
    src: Path,
    info: MediaInfo,
    cuts: Sequence[tuple[int, int, Path]],
    mode: str,
    may_lose: Sequence[int] | None = None,
) -> list[CutResult]:
    """cut_clip for several (start_ms, end_ms, out) of one video, results in order.

    copy and smart share ffmpeg runs between clips (each run's start-up is most of a
    short copied clip's time; measured in benchmarks/README.md, "Clips"); a failed run
    keeps none of its clips, clips of earlier runs stay. accurate cuts one by one.

    `may_lose[k]`: frames of cut k's range the source may fail to decode (it had decode
    errors there). accurate allows the clip that many frames short; smart cuts such a
    range as accurate does (its pieces must join frame for frame), with a note; copy
    copies the damaged packets as they are."""
    lose = list(may_lose or [0] * len(cuts))
    if mode == "copy":
        return cut_copy_many(src, info, cuts)
    if mode == "smart" and not any(lose):
        return cut_smart_many(src, info, cuts)
    if mode == "smart":
        whole = [cut for cut, n in zip(cuts, lose, strict=True) if not n]
        smart = iter(cut_smart_many(src, info, whole) if whole else [])
        return [
            next(smart) if not n else _accurate_for_smart(src, info, cut, n)
            for cut, n in zip(cuts, lose, strict=True)
        ]
    if mode != "accurate":
        raise ValueError(f"unknown cut mode {mode!r}: use one of {', '.join(MODES)}")
    return [
        cut_accurate(src, info, start_ms, end_ms, out, may_lose=n)
        for (start_ms, end_ms, out), n in zip(cuts, lose, strict=True)
    ]


def _accurate_for_smart(
    src: Path, info: MediaInfo, cut: tuple[int, int, Path], may_lose: int
) -> CutResult:
    start_ms, end_ms, out = cut
    result = cut_accurate(src, info, start_ms, end_ms, out, may_lose=may_lose)
    note = "smart: fell back to accurate: the source does not decode cleanly here"
    if result.note:
        note += f" ({result.note})"
    return dataclasses.replace(result, mode="accurate", note=note)
