"""Text evidence of a stretch of video: cards, lines, rolls, the lower band."""

from __future__ import annotations

from tests.text_support import frame_items, text_page
from worker.engines.local.text_evidence import TextLine, lines_of, stretch_text


def line(at: int, text: str, top: float, height: float = 0.06) -> TextLine:
    return TextLine(at, text, top, 0.2, 0.5, height, 99.0)


def test_lines_of_reads_the_line_items_only() -> None:
    page = text_page(frame_items(1000, ["NO PARKING", "Mon-Fri"], confidence=90.0))
    got = lines_of(page["TextDetections"])
    assert [(x.at_ms, x.text, x.top) for x in got] == [
        (1000, "NO PARKING", 0.1),
        (1000, "Mon-Fri", 0.2),
    ]
    assert lines_of(page["TextDetections"], min_confidence=95.0) == []


def test_credit_cards_change_words_and_a_picture_without_text_counts() -> None:
    lines = [
        line(0, "Directed by", 0.4),
        line(0, "MARGOT ELLISON", 0.45),
        line(1000, "Directed by", 0.4),
        line(1000, "MARGOT ELLISON", 0.45),
        line(3000, "Written by", 0.4),
        line(3000, "TOBIAS RENFREW", 0.45),
    ]
    e = stretch_text(lines, [0, 1000, 2000, 3000], 0, 4000)
    assert (e.pictures, e.with_text, e.cards, e.lines, e.words) == (4, 3, 2, 2.0, 7)
    assert e.share == 0.75 and not e.rolling and not e.low_band


def test_a_roll_is_one_card_whose_lines_move_up() -> None:
    roll = [
        line(t * 1000, f"Name {k}", 0.9 - 0.1 * t - 0.1 * k) for t in range(4) for k in range(3)
    ]
    e = stretch_text(roll, [0, 1000, 2000, 3000], 0, 4000)
    assert e.rolling and e.cards == 1 and e.lines == 3.0


def test_a_lower_third_is_one_card_in_the_lower_band() -> None:
    strap = [
        x
        for t in (0, 1000, 2000)
        for x in (line(t, "DR. HELEN MARSH", 0.81), line(t, "Marine Biologist", 0.88))
    ]
    e = stretch_text(strap, [0, 1000, 2000, 3000, 4000], 0, 5000)
    assert e.low_band and e.cards == 1 and e.share == 0.6
    # pictures outside the stretch and lines of other times are not counted
    assert stretch_text(strap, [0, 1000, 2000], 1000, 2000).pictures == 1


def test_no_text_is_no_evidence() -> None:
    e = stretch_text([], [0, 1000], 0, 2000)
    assert (e.with_text, e.cards, e.lines, e.words, e.height, e.share) == (0, 0, 0.0, 0, 0.0, 0.0)
    assert not e.low_band and stretch_text([], [], 0, 1000).share == 0.0
