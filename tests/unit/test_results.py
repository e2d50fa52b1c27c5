"""The one parser against real recorded Rekognition pages and edge cases."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import FIXTURES, RECORDED
from worker.engines.port import Feature
from worker.results import ResultParseError, parse_page, rate_from_float


def _load(rel: str) -> dict:
    path = FIXTURES / rel
    if not path.exists():
        pytest.skip(f"recorded fixture missing: {path}")
    return json.loads(Path(path).read_text())


@pytest.mark.parametrize(("rel", "feature", "key"), RECORDED)
def test_every_recorded_item_becomes_one_detection(rel: str, feature: Feature, key: str) -> None:
    page = _load(rel)
    parsed = parse_page(feature, page)
    assert len(parsed.items) == len(page[key])
    assert parsed.job_status == "SUCCEEDED"
    assert parsed.next_token == page.get("NextToken")
    for item, det in zip(page[key], parsed.items, strict=True):
        ts = item.get("StartTimestampMillis", item.get("Timestamp"))
        assert det.start_ms == ts


def test_segment_ends_become_half_open() -> None:
    page = _load("netflix_93f8/GetSegmentDetection.page1.json")
    parsed = parse_page(Feature.SEGMENTS, page)
    shots = parsed.items
    # Rekognition's EndTimestampMillis is the last frame's start; ours is the next frame's
    assert shots[0].end_ms == page["Segments"][0]["EndTimestampMillis"] + 40
    assert shots[0].end_ms == shots[1].start_ms
    assert parsed.video is not None and parsed.video.fps == 25
    assert parsed.model_version == "1.0"


def test_moderation_keeps_parent_and_confidence() -> None:
    page = _load("netflix_93f8/GetContentModeration.page1.json")
    parsed = parse_page(Feature.MODERATION, page)
    first = page["ModerationLabels"][0]["ModerationLabel"]
    assert parsed.items[0].name == first["Name"]
    assert parsed.items[0].parent == (first["ParentName"] or None)
    assert parsed.items[0].confidence == pytest.approx(first["Confidence"])


def test_face_bounding_box_preserved() -> None:
    page = _load("hawkey999_face/GetFaceDetection.page1.json")
    parsed = parse_page(Feature.FACES, page)
    box = page["Faces"][0]["Face"]["BoundingBox"]
    assert parsed.items[0].bbox is not None
    assert parsed.items[0].bbox.left == pytest.approx(box["Left"])
    assert parsed.items[0].bbox.width == pytest.approx(box["Width"])


def test_ntsc_rates_snap_to_exact_rationals() -> None:
    assert rate_from_float(29.97) == Fraction(30000, 1001)
    assert rate_from_float(29.970029830932617) == Fraction(30000, 1001)
    assert rate_from_float(25.0) == 25


def test_not_a_page_is_refused() -> None:
    with pytest.raises(ResultParseError):
        parse_page(Feature.LABELS, {"Labels": []})
    with pytest.raises(ResultParseError):
        parse_page(Feature.SEGMENTS, {"JobStatus": "SUCCEEDED", "Segments": [{"Type": "SHOT"}]})


@given(
    st.lists(
        st.tuples(st.integers(0, 10_000_000), st.floats(50, 100), st.text(min_size=1, max_size=20)),
        max_size=30,
    )
)
def test_label_pages_round_trip(items: list[tuple[int, float, str]]) -> None:
    page = {
        "JobStatus": "SUCCEEDED",
        "VideoMetadata": {"FrameRate": 25.0, "DurationMillis": 1000},
        "Labels": [
            {"Timestamp": ts, "Label": {"Name": name, "Confidence": conf, "Parents": []}}
            for ts, conf, name in items
        ],
    }
    parsed = parse_page(Feature.LABELS, page)
    assert [(d.start_ms, d.confidence, d.name) for d in parsed.items] == items
