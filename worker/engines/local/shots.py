"""Hard-cut detection from per-frame change scores of tiny YUV frames.

Two cues, chosen by measuring cut F1 on the shared test media (see
benchmarks/README.md, "Segments"):

1. Content jump: `score` is the mean absolute difference to the previous frame,
   summed over Y, U and V (0..765). A cut is a frame whose score is both large in
   absolute terms and large against its neighbours (an adaptive ratio, as
   PySceneDetect's AdaptiveDetector does): fast motion (a van crossing the frame,
   24 fps game of life) raises the neighbours as much as the frame itself, while a
   cut is a one-frame spike. Chroma is summed in because a colour change of equal
   brightness (counter.mp4) is invisible to luma.
2. Black toggle: a frame whose black-ness (the BlackFrames criterion) differs from
   the previous frame's, when some pixels also jump strongly. This finds the
   low-contrast cuts between mostly black shots (end credits -> black, fade-out ->
   credits) that a difference score cannot separate from rolling text, while a fade
   (every pixel changes by a few levels per frame) never has a strong jump.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from worker.engines.local.evidence import against, confidence

F64 = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class CutParams:
    # Measured on the test media: cuts score >= 52 (weakest: counter.mp4's colour
    # change), motion inside shots <= 45; cut/neighbour ratios >= 3.7, motion <= 1.4.
    min_score: float = 24.0
    min_ratio: float = 2.5
    window: int = 2  # neighbours on each side for the adaptive baseline
    strong_delta: int = 48  # a pixel "jumps" when a channel changes by more than this
    toggle_min_strong: float = 0.03  # fades: 0; credits <-> black: >= 0.13


@dataclass(frozen=True)
class Cut:
    frame: int  # first frame of the new shot
    confidence: float  # 50..100


@dataclass(frozen=True)
class Shot:
    index: int
    start: int
    end: int  # inclusive
    confidence: float


class ChangeScores:
    """Accumulates per-frame change scores batch by batch (keeps only the last frame)."""

    def __init__(self, strong_delta: int = CutParams.strong_delta) -> None:
        self._strong_delta = strong_delta
        self._prev: npt.NDArray[np.int16] | None = None
        self._score: list[F64] = []
        self._strong: list[F64] = []

    def add(self, planes: npt.NDArray[np.uint8]) -> None:
        """`planes`: (n, 3, h, w) consecutive frames."""
        frames = planes.astype(np.int16)
        first = frames[:1] if self._prev is None else self._prev[None]
        previous = np.concatenate([first, frames[:-1]])
        delta = np.abs(frames - previous)
        self._score.append(delta.mean(axis=(2, 3), dtype=np.float64).sum(axis=1))
        jumped = (delta > self._strong_delta).any(axis=1)
        self._strong.append(jumped.mean(axis=(1, 2), dtype=np.float64))
        self._prev = frames[-1]

    def arrays(self) -> tuple[F64, F64]:
        """(score, strong): score 0..765, strong = fraction of pixels that jumped."""
        if not self._score:
            return np.zeros(0), np.zeros(0)
        return np.concatenate(self._score), np.concatenate(self._strong)


def _neighbour_mean(score: F64, window: int) -> F64:
    """Mean score of frames i-window..i+window except i (frame 0 has no score)."""
    n = len(score)
    valid = np.ones(n)
    valid[:1] = 0.0
    values = np.where(valid > 0, score, 0.0)
    csum = np.concatenate([[0.0], np.cumsum(values)])
    ccount = np.concatenate([[0.0], np.cumsum(valid)])
    idx = np.arange(n)
    lo = np.clip(idx - window, 0, n)
    hi = np.clip(idx + window + 1, 0, n)
    total = csum[hi] - csum[lo] - values
    count = ccount[hi] - ccount[lo] - valid
    mean: F64 = np.divide(total, count, out=np.zeros(n), where=count > 0)
    return mean


def _rules(score: F64, strong: F64, black: Bools, p: CutParams) -> tuple[Bools, Bools, F64, F64]:
    """Per frame: (jump, toggle, jump strength, toggle strength); strengths are the
    measures over their thresholds (evidence.py), >= 1 where the rule's tests pass."""
    n = len(score)
    baseline = _neighbour_mean(score, p.window)
    ratio = score / np.maximum(baseline, 1e-3)
    jump = (score >= p.min_score) & (ratio >= p.min_ratio)
    left = np.concatenate([[0.0], score[:-1]])
    right = np.concatenate([score[1:], [0.0]])
    # one cut per spike: the frame that is a local maximum (first of equal pairs)
    jump &= (score > left) & (score >= right)
    jump[0] = False
    toggled = np.zeros(n, dtype=bool)
    toggled[1:] = black[1:] != black[:-1]
    toggle = toggled & (strong >= p.toggle_min_strong)
    jump_s: F64 = np.minimum(score / p.min_score, ratio / p.min_ratio)
    jump_s[:1] = 0.0
    toggle_s: F64 = np.where(toggled, strong / p.toggle_min_strong, 0.0)
    return jump, toggle, jump_s, toggle_s


def detect_cuts(
    score: F64, strong: F64, black: Bools, params: CutParams | None = None
) -> list[Cut]:
    """Cuts (first frames of new shots) from per-frame scores and black flags."""
    p = params or CutParams()
    if len(score) < 2:
        return []
    jump, toggle, jump_s, toggle_s = _rules(score, strong, black, p)
    cuts: list[Cut] = []
    for i in np.flatnonzero(jump | toggle):
        strength = float(jump_s[i] if jump[i] else toggle_s[i])
        if cuts and cuts[-1].frame == i - 1:  # a jump next to a toggle: one cut
            if strength <= 1.0 or confidence(strength) <= cuts[-1].confidence:
                continue
            cuts.pop()
        cuts.append(Cut(int(i), confidence(strength)))
    return cuts


def near_misses(score: F64, strong: F64, black: Bools, params: CutParams | None = None) -> F64:
    """Per frame, how close it came to being a cut (the stronger rule's strength; 0 for
    frame 0 and for the frames detect_cuts considered, whether kept, merged or ignored)."""
    p = params or CutParams()
    if len(score) < 2:
        return np.zeros(len(score))
    jump, toggle, jump_s, toggle_s = _rules(score, strong, black, p)
    near: F64 = np.maximum(jump_s, toggle_s)
    near[jump | toggle] = 0.0
    return near


def shots_from_cuts(
    n_frames: int, cuts: list[Cut], min_confidence: float = 50.0, near: F64 | None = None
) -> list[Shot]:
    """Contiguous shots covering every frame; cuts below `min_confidence` are ignored.

    A shot's confidence is the weakest of its two boundaries (file edges are certain)
    and, given `near` (near_misses), the evidence that no cut was missed inside it:
    100 - 50 x the strongest change inside, as a share of the cut thresholds.
    """
    kept = [c for c in cuts if 0 < c.frame < n_frames and c.confidence >= min_confidence]
    starts = [0, *(c.frame for c in kept)]
    confs = [100.0, *(c.confidence for c in kept), 100.0]
    shots: list[Shot] = []
    for k, start in enumerate(starts):
        end = starts[k + 1] - 1 if k + 1 < len(starts) else n_frames - 1
        conf = min(confs[k], confs[k + 1])
        if near is not None and end > start:
            conf = min(conf, confidence(against(float(near[start + 1 : end + 1].max()))))
        shots.append(Shot(k, start, end, conf))
    return shots if n_frames > 0 else []
