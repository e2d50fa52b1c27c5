"""Minimum clip length: short shots merged into a neighbour; the content clip's start."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from hypothesis import given
from hypothesis import strategies as st

from worker.clip_plan import Span, content_clip_range, content_range, merge_short_shots

# programme_720p25.mp4's truth: shot lengths (ms) and technical cues
PROGRAMME = [
    3000,
    1000,
    2000,
    4000,
    5000,
    3200,
    6000,
    2400,
    520,
    4000,
    8400,
    3000,
    6000,
    8000,
    2000,
]
PROGRAMME_CUES = [
    ("ColorBars", 0, 3000),
    ("BlackFrames", 3000, 4000),
    ("Slate", 4000, 6000),
    ("OpeningCredits", 6000, 10000),
    ("Content", 10000, 26600),
    ("BlackFrames", 26600, 27120),
    ("Content", 27120, 48520),
    ("EndCredits", 48520, 56520),
    ("BlackFrames", 56520, 58520),
]


def spans(lengths: list[int], start: int = 0) -> list[Span]:
    out, t = [], start
    for i, n in enumerate(lengths):
        out.append(Span(i, t, t + n))
        t += n
    return out


def members(
    lengths: list[int], min_ms: int, cues: Sequence[tuple[str, int, int]] = ()
) -> list[tuple[int, ...]]:
    return [m.shots for m in merge_short_shots(spans(lengths), min_ms, cues)]


def test_off_keeps_one_clip_per_shot() -> None:
    assert members([100, 5, 3000], 0) == [(0,), (1,), (2,)]


def test_short_shot_joins_the_shorter_neighbour() -> None:
    assert members([4000, 500, 2000], 1000) == [(0,), (1, 2)]
    assert members([2000, 500, 4000], 1000) == [(0, 1), (2,)]


def test_equal_neighbours_the_previous_one_wins() -> None:
    assert members([2000, 500, 2000], 1000) == [(0, 1), (2,)]


def test_first_and_last_shots_have_one_neighbour() -> None:
    assert members([300, 5000, 5000, 300], 1000) == [(0, 1), (2, 3)]


def test_merged_clip_spans_both_shots() -> None:
    [a, b] = merge_short_shots(spans([4000, 500, 2000]), 1000)
    assert (a.seq, a.start_ms, a.end_ms) == (0, 0, 4000)
    assert (b.seq, b.start_ms, b.end_ms) == (1, 4000, 6500)


def test_programme_merges_stay_inside_their_cue() -> None:
    got = members(PROGRAMME, 3500, PROGRAMME_CUES)
    # 7 (2400) has one neighbour in its Content run: 6; then 5 (3200) joins 4 (5000,
    # shorter than 6+7); 11 (3000) joins 12 (6000) rather than 10 (8400). Bars, black,
    # slate and the 520 ms black gap are under 3.5 s but each is a cue of its own.
    assert got == [
        (0,),
        (1,),
        (2,),
        (3,),
        (4, 5),
        (6, 7),
        (8,),
        (9,),
        (10,),
        (11, 12),
        (13,),
        (14,),
    ]


def test_without_cues_everything_may_merge() -> None:
    got = members(PROGRAMME, 3500)
    assert all(sum(PROGRAMME[i] for i in m) >= 3500 for m in got)
    assert (8,) not in got  # the black gap joined a neighbour


def test_content_clip_starts_at_the_opening_credits_when_kept() -> None:
    content = (10000, 48520)
    assert content_clip_range(PROGRAMME_CUES, content, False) == content
    assert content_clip_range(PROGRAMME_CUES, content, True) == (6000, 48520)
    no_credits = [c for c in PROGRAMME_CUES if c[0] != "OpeningCredits"]
    assert content_clip_range(no_credits, content, True) == content
    assert content_clip_range(PROGRAMME_CUES, None, True) is None


def test_opening_credits_run_crosses_black_but_not_bars() -> None:
    cues = [
        ("OpeningCredits", 0, 1000),  # a card before the bars: not part of the run
        ("ColorBars", 1000, 2000),
        ("OpeningCredits", 2000, 4000),
        ("BlackFrames", 4000, 4500),
        ("OpeningCredits", 4500, 6000),
        ("Content", 6000, 9000),
        ("OpeningCredits", 9000, 9500),  # mid-programme: already inside the range
    ]
    assert content_clip_range(cues, (6000, 9000), True) == (2000, 9000)


lengths_st = st.lists(st.integers(1, 10_000), min_size=1, max_size=60)


@given(lengths_st, st.integers(0, 20_000))
def test_merging_keeps_range_and_order_and_reaches_the_minimum(
    lengths: list[int], min_ms: int
) -> None:
    got = merge_short_shots(spans(lengths, start=40), min_ms)
    # same total range, contiguous, in order, every shot exactly once
    assert got[0].start_ms == 40 and got[-1].end_ms == 40 + sum(lengths)
    assert all(a.end_ms == b.start_ms for a, b in itertools.pairwise(got))
    assert [i for m in got for i in m.shots] == list(range(len(lengths)))
    assert all(m.seq == m.shots[0] for m in got)
    assert all(m.end_ms - m.start_ms == sum(lengths[i] for i in m.shots) for m in got)
    if sum(lengths) < min_ms:
        assert len(got) == 1
    else:
        assert all(m.length_ms >= min_ms for m in got)
    if min_ms <= min(lengths):
        assert len(got) == len(lengths)


cue_names = st.sampled_from(["Content", "BlackFrames", "ColorBars", "EndCredits", "Slate"])


@given(lengths_st, st.integers(0, 20_000), st.lists(st.tuples(cue_names, st.integers(1, 30))))
def test_merges_never_cross_a_non_content_cue(
    lengths: list[int], min_ms: int, cue_shots: list[tuple[str, int]]
) -> None:
    shots = spans(lengths)
    # cues over runs of whole shots, as a segment detector reports them
    cues, k = [], 0
    for name, count in cue_shots:
        run = shots[k : k + count]
        if not run:
            break
        cues.append((name, run[0].start_ms, run[-1].end_ms))
        k += count
    bounds = {t for name, s, e in cues if name != "Content" for t in (s, e)}
    got = merge_short_shots(shots, min_ms, cues)
    assert [i for m in got for i in m.shots] == list(range(len(lengths)))
    for m in got:  # no merged clip holds a cue boundary inside it
        assert not any(m.start_ms < b < m.end_ms for b in bounds), (m, bounds)
    for prev, m, nxt in zip([None, *got[:-1]], got, [*got[1:], None], strict=True):
        if m.length_ms < min_ms:  # short only when boxed in by boundaries on both sides
            assert prev is None or m.start_ms in bounds
            assert nxt is None or m.end_ms in bounds


def test_content_range_spans_the_content_cues() -> None:
    cues = [("ColorBars", 0, 3000), ("Content", 3000, 20000), ("BlackFrames", 20000, 21000)]
    cues += [("Content", 21000, 52000), ("EndCredits", 52000, 60000)]
    assert content_range(cues) == (3000, 52000)
    assert content_range([("ColorBars", 0, 3000)]) is None
