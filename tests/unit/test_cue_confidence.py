"""Confidences of the local engine's cues and shots follow their evidence (no media).

A constructed programme of per-frame statistics (the CueFeatures arrays) runs through
classify: bars, slate, opening credits, two content shots, end credits, black. Each test
changes one statistic of one shot and checks the confidence moves with the evidence
while the cue types and boundaries stay.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from worker.engines.local.cues import Cue, classify
from worker.engines.local.evidence import against, confidence, over, under
from worker.engines.local.shots import Cut, Shot, shots_from_cuts

FRAMES = 50  # per shot: 2 s at 25 fps
CONTENT = {
    "nonblack": 0.9, "luma": 120.0, "sat": 80.0, "dark": 0.1, "white": 0.01,
    "stroke": 0.2, "textrows": 0.9, "smooth": 0.5, "edge": 0.1, "vertical": 1.0,
}  # fmt: skip
SHOTS: list[tuple[dict[str, float], float]] = [  # (statistics, motion)
    (CONTENT | {"vertical": 7.5, "sat": 54.0, "luma": 102.0, "smooth": 0.78}, 0.0),  # bars
    (CONTENT | {"sat": 0.0, "luma": 95.0, "smooth": 0.78, "textrows": 0.63}, 0.0),  # slate
    (CONTENT | {"white": 0.09, "stroke": 0.83, "dark": 0.82, "sat": 0.0, "nonblack": 0.16}, 5.0),
    (CONTENT, 10.0),
    (CONTENT | {"vertical": 0.5}, 10.0),
    (CONTENT | {"white": 0.09, "stroke": 0.83, "dark": 0.82, "sat": 0.0, "nonblack": 0.16}, 5.0),
    (CONTENT | {"nonblack": 0.0, "luma": 0.0}, 0.0),  # black
]
TYPES = ["ColorBars", "Slate", "OpeningCredits", "Content", "EndCredits", "BlackFrames"]


def run(change: Callable[[list[dict[str, Any]]], None] | None = None) -> list[Cue]:
    """classify on the programme; `change` edits the per-shot arrays first."""
    shots = [
        {"stats": {k: np.full(FRAMES, v) for k, v in stats.items()}, "motion": motion}
        for stats, motion in SHOTS
    ]
    if change:
        change(shots)
    features = {k: np.concatenate([s["stats"][k] for s in shots]) for k in CONTENT}
    motion = np.concatenate([np.full(FRAMES, s["motion"]) for s in shots])
    n = len(motion)
    nonblack = features["nonblack"]
    black = nonblack <= 0.01
    black_conf = np.clip(100 - 50 * nonblack / 0.01, 50, 100)
    lit_conf = np.clip(100 - 50 / np.maximum(nonblack / 0.01, 1.0), 50, 100)
    layout = [Shot(k, k * FRAMES, (k + 1) * FRAMES - 1, 90.0) for k in range(len(shots))]
    return classify(
        layout, features, black, black_conf, motion, [40 * i for i in range(n)], lit_conf
    )


def conf(cues: list[Cue], kind: str, nth: int = 0) -> float:
    """The nth cue of a type, after checking the cue types and boundaries did not move."""
    assert [c.type for c in cues] == TYPES
    assert [c.start for c in cues] == [0, 50, 100, 150, 250, 300]
    return [c.confidence for c in cues if c.type == kind][nth]


def shot(k: int, **values: float) -> Callable[[list[dict[str, Any]]], None]:
    def change(shots: list[dict[str, Any]]) -> None:
        for name, value in values.items():
            if name == "motion":
                shots[k]["motion"] = value
            else:
                shots[k]["stats"][name][:] = value

    return change


def test_the_scale() -> None:
    assert confidence(1.0) == 50.0 and confidence(0.3) == 50.0 and confidence(math.nan) == 50
    assert confidence(2.0) == 75.0 and confidence(4.0) == 87.5 and confidence(math.inf) == 100
    assert over(9.0, 4.5) == 2.0 and under(1.5, 3.0) == 2.0 and under(0.0, 3.0) == math.inf
    assert against(0.5, 0.25) == 2.0 and against() == math.inf


@pytest.mark.parametrize(
    ("kind", "weaker", "stronger"),
    [
        # bars: the stripes' vertical structure, their saturation
        ("ColorBars", shot(0, vertical=5.0), shot(0, vertical=9.0)),
        ("ColorBars", shot(0, sat=24.0), shot(0, sat=60.0)),
        # slate: a smoother, greyer card
        ("Slate", shot(1, smooth=0.55), shot(1, smooth=0.95)),
        ("Slate", shot(1, sat=2.5), shot(1, sat=0.5)),
        # credits: clearer strokes, a darker background
        ("OpeningCredits", shot(2, stroke=0.55), shot(2, stroke=0.95)),
        ("EndCredits", shot(5, dark=0.55), shot(5, dark=0.95)),
        # content: farther from looking like bars / a slate / a text card
        ("Content", shot(3, motion=0.4, vertical=4.0), shot(3, motion=0.4, vertical=0.5)),
        ("Content", shot(4, motion=0.6, sat=3.5), shot(4, motion=10.0, sat=80.0)),
        ("Content", shot(3, stroke=0.6, white=0.02, dark=0.6, sat=10.0), shot(3, stroke=0.1)),
        # content frames close to black (a fade) are less sure than lit ones
        ("Content", shot(3, nonblack=0.03), shot(3, nonblack=0.9)),
        # black: fewer lit pixels
        ("BlackFrames", shot(6, nonblack=0.006), shot(6, nonblack=0.001)),
    ],
)
def test_stronger_evidence_higher_confidence(
    kind: str,
    weaker: Callable[[list[dict[str, Any]]], None],
    stronger: Callable[[list[dict[str, Any]]], None],
) -> None:
    low, high = conf(run(weaker), kind), conf(run(stronger), kind)
    assert 50.0 <= low < high <= 100.0, (low, high)


def test_credits_share_of_text_frames() -> None:
    def half_text(shots: list[dict[str, Any]]) -> None:
        shots[5]["stats"]["stroke"][::2] = 0.1  # every other frame shows no text

    assert conf(run(half_text), "EndCredits") < conf(run(), "EndCredits")


def test_all_title_cards_is_weak_content() -> None:
    """A clip that is all credits-like cards is content, but barely."""

    def cards(shots: list[dict[str, Any]]) -> None:
        for s in shots:
            s["stats"] = {k: np.full(FRAMES, v) for k, v in SHOTS[2][0].items()}
            s["motion"] = 5.0

    cues = run(cards)
    assert [c.type for c in cues] == ["Content"] and cues[0].confidence == 50.0


def test_a_near_miss_inside_a_shot_lowers_it() -> None:
    cuts = [Cut(40, 95.0)]
    near = np.zeros(100)
    clean = shots_from_cuts(100, cuts, near=near)
    near[70] = 0.8  # a change at 80 % of the cut thresholds in the second shot
    doubtful = shots_from_cuts(100, cuts, near=near)
    assert [(s.start, s.end) for s in clean] == [(s.start, s.end) for s in doubtful]
    assert clean[0].confidence == doubtful[0].confidence == 95.0
    assert clean[1].confidence == 95.0 and doubtful[1].confidence == pytest.approx(60.0)
    near[70] = 0.2
    assert shots_from_cuts(100, cuts, near=near)[1].confidence == pytest.approx(90.0)
    # one shot, no cut: the evidence is what did not happen inside it
    assert shots_from_cuts(100, [], near=near)[0].confidence == pytest.approx(90.0)
