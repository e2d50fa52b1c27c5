"""The technical cues' text rules (cues.classify with a TextEvidence), on constructed shots.

Every shot has the per-frame statistics of plain content (the pixel rules see no bars,
slate or credits), so what each test changes is what the text read says: the studio logo,
titles over a moving picture, a cold open, end cards and rolls; lower thirds, signs and
overlays that are none of these.
"""

from __future__ import annotations

import numpy as np

from worker.engines.local.cues import Cue, classify
from worker.engines.local.shots import Shot
from worker.engines.local.text_evidence import TextEvidence, TextLine

FPS_MS = 40  # 25 fps
CONTENT = {
    "nonblack": 0.9, "luma": 120.0, "sat": 80.0, "dark": 0.1, "white": 0.01,
    "stroke": 0.2, "textrows": 0.9, "smooth": 0.5, "edge": 0.1, "vertical": 1.0,
}  # fmt: skip
CREDITS_PIXELS = {"white": 0.09, "stroke": 0.83, "dark": 0.82, "sat": 0.0, "nonblack": 0.16}

# a card: lines (text, top); a picture a second shows the card of its second
Card = list[tuple[str, float]]


def programme(
    seconds: list[int],
    text: dict[int, Card | list[Card]],
    pixels: dict[int, dict[str, float]] | None = None,
) -> list[tuple[str, int, int]]:
    """classify over shots of `seconds` each; `text[k]` is shown in every picture of shot k
    (a list of cards per second when it is a list of lists); (type, start s, end s)."""
    frames = [s * 1000 // FPS_MS for s in seconds]
    starts = np.cumsum([0, *frames])
    n = int(starts[-1])
    features = {k: np.full(n, v) for k, v in CONTENT.items()}
    for k, values in (pixels or {}).items():
        for name, value in values.items():
            features[name][starts[k] : starts[k + 1]] = value
    layout = [Shot(k, int(starts[k]), int(starts[k + 1]) - 1, 90.0) for k in range(len(frames))]
    lines = []
    picture_ms = list(range(0, n * FPS_MS, 1000))
    for at in picture_ms:
        k = int(np.searchsorted(starts, at // FPS_MS, side="right")) - 1
        shown = text.get(k)
        if shown is None:
            continue
        cards = [shown] if isinstance(shown[0], tuple) else shown
        card: Card = cards[(at // 1000) % len(cards)]
        for words, top in card:
            width = 0.025 * len(words)  # centred, as wide as its text
            lines.append(TextLine(at, words, top, 0.5 - width / 2, width, 0.05, 98.0))
    black = np.zeros(n, dtype=bool)
    cues = classify(
        layout,
        features,
        black,
        np.full(n, 100.0),
        np.full(n, 10.0),
        [i * FPS_MS for i in range(n)],
        None,
        TextEvidence(lines, picture_ms),
    )
    return [(c.type, c.start * FPS_MS // 1000, (c.end + 1) * FPS_MS // 1000) for c in cues]


def confidences(cues: list[Cue]) -> dict[str, float]:
    return {c.type: c.confidence for c in cues}


LOGO: Card = [("NORTHLIGHT PICTURES", 0.45)]
TITLES = [
    [("Directed by", 0.40), ("MARGOT ELLISON", 0.46)],
    [("Written by", 0.40), ("TOBIAS RENFREW", 0.46)],
    [("Music by", 0.40), ("ANNA KOVAC", 0.46)],
]
ROLL = [[(f"Crew member {k + j}", 0.9 - 0.1 * j) for j in range(6)] for k in range(0, 20, 2)]


def roll_text() -> list[Card]:
    """A roll: each second the lines are the last second's, moved up one line and a half."""
    return [
        [
            (f"Name {s + j} ROLE {s + j}", round(0.85 - 0.1 * j - 0.02 * (s % 2), 3))
            for j in range(6)
        ]
        for s in range(10)
    ]


def test_logo_then_titles_over_a_moving_picture_then_the_programme_then_a_roll() -> None:
    got = programme([3, 6, 20, 10], {0: LOGO, 1: TITLES, 3: roll_text()})
    assert got == [
        ("StudioLogo", 0, 3),
        ("OpeningCredits", 3, 9),
        ("Content", 9, 29),
        ("EndCredits", 29, 39),
    ]


def test_a_cold_open_before_the_titles() -> None:
    got = programme([3, 8, 6, 20, 8], {0: LOGO, 2: TITLES, 4: TITLES})
    assert [c[0] for c in got] == [
        "StudioLogo",
        "Content",
        "OpeningCredits",
        "Content",
        "EndCredits",
    ]


def test_lower_thirds_and_signs_are_content() -> None:
    lower_third: Card = [("JANE DOE", 0.80), ("Harbour master", 0.86)]
    sign: Card = [("EXIT", 0.3)]
    got = programme([10, 6, 6, 10], {1: lower_third, 2: sign})
    assert [c[0] for c in got] == ["Content"]
    # first of all, where a title card would open the credits
    assert [c[0] for c in programme([6, 10, 10], {0: lower_third})] == ["Content"]
    title: Card = [("HARBOUR LIGHTS", 0.40), ("Episode 4: The Night Ferry", 0.52)]
    assert [c[0] for c in programme([6, 10, 10], {0: title})] == ["OpeningCredits", "Content"]


def test_a_burnt_in_caption_on_every_shot_is_no_logo_or_title() -> None:
    caption: Card = [("CAM 2", 0.05)]
    titled: Card = [("CAM 2", 0.05), ("REC", 0.12)]
    got = programme([3, 6, 6], {0: caption, 1: caption, 2: caption})
    assert [c[0] for c in got] == ["Content"]
    got = programme([4, 6, 6], {0: titled, 1: titled, 2: titled})
    assert [c[0] for c in got] == ["Content"]


def test_little_text_vetoes_the_pixel_rules_credits() -> None:
    """White strokes on dark at the end (the pixel rule's credits) showing one word: a logo
    or a sign on a dark picture, not end credits."""
    got = programme([10, 10, 4], {2: [("Linux", 0.5)]}, pixels={2: CREDITS_PIXELS})
    assert [c[0] for c in got] == ["Content"]
    got = programme([10, 10, 4], {2: TITLES[0]}, pixels={2: CREDITS_PIXELS})
    assert [c[0] for c in got] == ["Content", "EndCredits"]  # two lines: a credit card


def test_one_still_card_of_many_lines_ends_a_programme_but_not_its_middle() -> None:
    page: Card = [(f"Line {k}", 0.2 + 0.1 * k) for k in range(6)]
    assert [c[0] for c in programme([10, 10, 5], {2: page})] == ["Content", "EndCredits"]
    assert [c[0] for c in programme([10, 5, 10], {1: page})] == ["Content"]


def test_a_logo_needs_something_after_it_and_few_words() -> None:
    assert [c[0] for c in programme([3], {0: LOGO})] == ["Content"]
    wordy: Card = [("A NORTHLIGHT PICTURES FILM PRODUCTION", 0.45)]
    assert [c[0] for c in programme([3, 10], {0: wordy})] == ["Content"]
