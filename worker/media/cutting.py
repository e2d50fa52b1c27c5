"""One entry point for the three ways of cutting a clip.

- copy: stream copy from the keyframe at or before the cut (fast; starts early by the
  reported drift), see cut_copy.py
- accurate: re-encode the range, first and last frames exactly the range's, cut.py
- smart: frame-exact like accurate, re-encoding only the partial GOPs at the ends and
  stream-copying the rest; falls back to accurate where the source's encoding cannot
  be matched and says so in the result's note, cut_smart.py

`codec` is what the clips are written in (cut_codec.resolve: h264 or prores; copy
mode: the source's own). smart copies H.264 only: asked for ProRes it cuts as accurate,
with a note.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from worker.media.cut import CutResult, cut_accurate
from worker.media.cut_codec import resolve
from worker.media.cut_copy import cut_copy_many
from worker.media.cut_smart import cut_smart_many
from worker.media.info import MediaInfo

MODES: Final = ("copy", "accurate", "smart")
FALLBACK = "smart: fell back to accurate"


def cut_clip(
    src: Path,
    info: MediaInfo,
    start_ms: int,
    end_ms: int,
    out: Path,
    mode: str,
    codec: str | None = None,
) -> CutResult:
    """Cut [start_ms, end_ms) (ms from the first frame) of `src` into `out`."""
    return cut_spans(src, info, [(start_ms, end_ms, out)], mode, codec=codec)[0]


def cut_spans(
    src: Path,
    info: MediaInfo,
    cuts: Sequence[tuple[int, int, Path]],
    mode: str,
    may_lose: Sequence[int] | None = None,
    codec: str | None = None,
) -> list[CutResult]:
    """cut_clip for several (start_ms, end_ms, out) of one video, results in order.

    copy and smart share ffmpeg runs between clips (each run's start-up is most of a
    short copied clip's time; measured in benchmarks/README.md, "Clips"); a failed run
    keeps none of its clips, clips of earlier runs stay. accurate cuts one by one.

    `may_lose[k]`: frames of cut k's range the source may fail to decode (it had decode
    errors there). accurate allows the clip that many frames short; smart cuts such a
    range as accurate does (its pieces must join frame for frame), with a note; copy
    copies the damaged packets as they are. `codec` None: as `--codec auto` resolves."""
    if mode not in MODES:
        raise ValueError(f"unknown cut mode {mode!r}: use one of {', '.join(MODES)}")
    codec = codec or resolve("auto", info.video_codec, mode)
    lose = list(may_lose or [0] * len(cuts))
    if mode == "copy":
        if codec != info.video_codec:
            raise ValueError(f"copy mode keeps {info.video_codec}; it cannot write {codec}")
        return cut_copy_many(src, info, cuts)
    if mode == "smart" and codec != "h264":
        why = (
            f"video is {info.video_codec}, not H.264"
            if info.video_codec != "h264"
            else "ProRes clips are encoded whole (smart copies H.264 only)"
        )
        return [_fallback(src, info, cut, n, codec, why) for cut, n in zip(cuts, lose, strict=True)]
    if mode == "smart" and not any(lose):
        return cut_smart_many(src, info, cuts)
    if mode == "smart":
        whole = [cut for cut, n in zip(cuts, lose, strict=True) if not n]
        smart = iter(cut_smart_many(src, info, whole) if whole else [])
        damaged = "the source does not decode cleanly here"
        return [
            next(smart) if not n else _fallback(src, info, cut, n, codec, damaged)
            for cut, n in zip(cuts, lose, strict=True)
        ]
    return [
        cut_accurate(src, info, start_ms, end_ms, out, may_lose=n, codec=codec)
        for (start_ms, end_ms, out), n in zip(cuts, lose, strict=True)
    ]


def _fallback(
    src: Path,
    info: MediaInfo,
    cut: tuple[int, int, Path],
    may_lose: int,
    codec: str,
    why: str,
) -> CutResult:
    """An accurate cut standing in for a smart one: mode accurate, the reason in its note."""
    start_ms, end_ms, out = cut
    result = cut_accurate(src, info, start_ms, end_ms, out, may_lose=may_lose, codec=codec)
    note = f"{FALLBACK}: {why}"
    if result.note:
        note += f" ({result.note})"
    return dataclasses.replace(result, mode="accurate", note=note)
