"""Clip planning: safe names, batches that bound each task's work."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.pipeline.clips import ClipPlan, batches, safe_stem


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd.mp4", "my 'clip' \"x\".mp4", "..", "/abs/path/v.mov", "a\nb.mp4", ""],
)
def test_safe_stem_stays_a_plain_name(name: str) -> None:
    stem = safe_stem(name)
    assert stem and "/" not in stem and not stem.startswith(".")
    assert Path(stem).name == stem
    assert all(c.isalnum() or c in "._-" for c in stem)


def _plans(lengths: list[int]) -> list[ClipPlan]:
    out, t = [], 0
    for i, n in enumerate(lengths):
        out.append(ClipPlan("shot", i, t, t + n, f"s{i}.mp4"))
        t += n
    return out


def test_batches_keep_order_and_bound_media() -> None:
    plans = _plans([400, 400, 400, 900, 100])
    got = batches(plans, max_media_ms=1000)
    assert [[p.seq for p in b] for b in got] == [[0, 1], [2], [3, 4]]


def test_batches_split_shots_for_parallel_workers_content_first_and_alone() -> None:
    content = ClipPlan("content", 0, 0, 6000, "c.mp4")
    plans = [content, *_plans([1000] * 6)]
    got = batches(plans, parts=3)
    assert got[0] == [content]
    assert [[p.seq for p in b] for b in got[1:]] == [[0, 1], [2, 3], [4, 5]]


@given(st.lists(st.integers(1, 5000), max_size=40), st.integers(1000, 20000), st.integers(1, 8))
def test_batches_partition(lengths: list[int], limit: int, parts: int) -> None:
    plans = _plans(lengths)
    got = batches(plans, parts=parts, max_media_ms=limit)
    assert [p for b in got for p in b] == plans
    total = sum(lengths)
    for b in got:  # over the bound only when a single clip is longer than it
        media = sum(p.end_ms - p.start_ms for p in b)
        assert len(b) == 1 or media <= min(limit, -(-total // parts))
    # never more tasks than needed: each batch but the last is at least half full
    if len(got) > 1:
        bound = min(limit, -(-total // parts))
        for a, b in itertools.pairwise(got):
            assert sum(p.end_ms - p.start_ms for p in a + b[:1]) > bound
