"""The hard-cut detector and black criterion on synthetic frames and scores (no media)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from worker.engines.local.cues import CueFeatures
from worker.engines.local.shots import (
    ChangeScores,
    CutParams,
    detect_cuts,
    shots_from_cuts,
)

H, W = 18, 32


def flat(y: int, u: int = 128, v: int = 128, n: int = 1) -> npt.NDArray[np.uint8]:
    frames = np.empty((n, 3, H, W), dtype=np.uint8)
    frames[:, 0], frames[:, 1], frames[:, 2] = y, u, v
    return frames


def scores_of(frames: npt.NDArray[np.uint8], batch: int = 7) -> tuple[np.ndarray, np.ndarray]:
    acc = ChangeScores()
    for i in range(0, len(frames), batch):  # batch edges must not create or hide changes
        acc.add(frames[i : i + batch])
    return acc.arrays()


def no_black(n: int) -> npt.NDArray[np.bool_]:
    return np.zeros(n, dtype=bool)


def test_change_score_sums_channels_and_spans_batches() -> None:
    frames = np.concatenate([flat(100, n=10), flat(100, 160, 90, n=10)])
    score, strong = scores_of(frames)
    assert score.shape == (20,)
    assert score[0] == 0.0 and np.all(score[1:10] == 0) and np.all(score[11:] == 0)
    assert score[10] == pytest.approx(32 + 38)  # a colour change at equal brightness
    assert strong[10] == 0.0  # no channel moved by more than 48 levels


def test_single_spike_is_one_cut_with_its_frame() -> None:
    rng = np.random.default_rng(1)
    score = rng.uniform(2, 6, 100)
    score[0] = 0
    score[40] = 80.0
    cuts = detect_cuts(score, np.zeros(100), no_black(100))
    assert [c.frame for c in cuts] == [40]
    assert 50 <= cuts[0].confidence <= 100


def test_sustained_fast_motion_is_not_a_cut() -> None:
    # a van crossing the frame: big scores, but as big as the neighbours'
    score = np.full(100, 3.0)
    score[0] = 0
    score[30:60] = np.linspace(30, 45, 30)
    assert detect_cuts(score, np.zeros(100), no_black(100)) == []


def test_weak_spike_below_absolute_minimum_is_ignored() -> None:
    score = np.full(50, 0.2)
    score[0] = 0
    score[25] = CutParams().min_score - 1  # a huge ratio against a still picture
    assert detect_cuts(score, np.zeros(50), no_black(50)) == []


def test_fade_is_not_a_cut() -> None:
    # flat field fading black -> white -> black: every frame changes a little
    levels = np.concatenate([np.linspace(0, 255, 42), np.linspace(255, 0, 42)]).astype(int)
    frames = np.concatenate([flat(int(y)) for y in levels])
    score, strong = scores_of(frames)
    features = CueFeatures(0.2, 99.0)
    features.add(frames)
    black = features.black()
    assert black[0] and not black.all()  # black-ness toggles twice ...
    assert detect_cuts(score, strong, black) == []  # ... without a strong jump


def test_low_contrast_cut_to_black_found_by_black_toggle() -> None:
    credits = flat(16, n=20)
    credits[:, 0, 8:10, 4:28] = 235  # one line of white text over black: 8% of pixels
    black = flat(16, n=20)
    frames = np.concatenate([credits, black])
    score, strong = scores_of(frames)
    features = CueFeatures(0.2, 99.0)
    features.add(frames)
    is_black = features.black()
    assert not is_black[19] and is_black[20]
    plain = detect_cuts(score, strong, no_black(len(frames)))
    assert plain == []  # the difference alone (17 of 765) is too weak to call
    cuts = detect_cuts(score, strong, is_black)
    assert [c.frame for c in cuts] == [20]


def test_adjacent_jump_and_toggle_give_one_cut() -> None:
    score = np.full(40, 1.0)
    score[0] = 0
    score[20] = 100.0
    strong = np.zeros(40)
    strong[20] = strong[21] = 0.5
    black = np.zeros(40, dtype=bool)
    black[21:] = True
    cuts = detect_cuts(score, strong, black)
    assert len(cuts) == 1 and cuts[0].frame in (20, 21)


def test_black_criterion_threshold_and_coverage() -> None:
    frame = flat(40, n=1)  # 40 <= 0.2 * 255: black
    frame[0, 0, 0, :2] = 200  # 2 lit pixels of 576: 0.35 %
    strict = CueFeatures(0.2, 100.0)
    strict.add(frame)
    default = CueFeatures(0.2, 99.0)
    default.add(frame)
    darker = CueFeatures(0.1, 99.0)  # 40 > 25.5: not black
    darker.add(frame)
    assert default.black().tolist() == [True]
    assert strict.black().tolist() == [False]
    assert darker.black().tolist() == [False]
    assert 50 <= default.black_confidence()[0] < 100


def test_shots_cover_every_frame() -> None:
    score = np.full(100, 1.0)
    score[0] = 0
    score[[10, 50]] = 90.0
    cuts = detect_cuts(score, np.zeros(100), no_black(100))
    shots = shots_from_cuts(100, cuts)
    assert [(s.index, s.start, s.end) for s in shots] == [(0, 0, 9), (1, 10, 49), (2, 50, 99)]
    assert all(50 <= s.confidence <= 100 for s in shots)


def test_min_confidence_merges_shots_instead_of_leaving_gaps() -> None:
    score = np.full(100, 1.0)
    score[0] = 0
    score[10] = 25.0  # just over the thresholds: low confidence
    score[50] = 400.0
    cuts = detect_cuts(score, np.zeros(100), no_black(100))
    assert [c.frame for c in cuts] == [10, 50]
    shots = shots_from_cuts(100, cuts, min_confidence=cuts[1].confidence)
    assert [(s.start, s.end) for s in shots] == [(0, 49), (50, 99)]


def test_empty_and_single_frame_inputs() -> None:
    assert detect_cuts(np.zeros(0), np.zeros(0), no_black(0)) == []
    assert detect_cuts(np.zeros(1), np.zeros(1), no_black(1)) == []
    assert shots_from_cuts(0, []) == []
    assert [(s.start, s.end) for s in shots_from_cuts(1, [])] == [(0, 0)]
