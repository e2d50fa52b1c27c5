"""The read model's JSON: the documented shapes, key order included, and reading one back."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.export_support import RATES, contiguous, make_doc
from worker.read_json import (
    query_row_json,
    status_json,
    summary_json,
    thumbnails_json,
    timeline_from_json,
    timeline_json,
)
from worker.read_model import (
    CueRange,
    FaceRange,
    FeatureRun,
    LabelRange,
    ModerationRange,
    Note,
    ShotRange,
    ShotThumbnail,
    SpriteSheet,
    StepState,
    TextRange,
    Thumbnails,
    Timeline,
    TimelineClip,
    VideoFacts,
    VideoStatus,
    VideoSummary,
)
from worker.search import QueryRow


def full_timeline() -> Timeline:
    return Timeline(
        video=VideoFacts("abc", "/m/film.mp4", 60000, "25/1", 1500, 1280, 720, "10:00:00:00", 2),
        features={
            "segments": FeatureRun("SUCCEEDED", "local", "1.0"),
            "labels": FeatureRun("FAILED", "aws", None),
        },
        shots=(ShotRange(0, 0, 3000, 0, 74, 99.2), ShotRange(1, 3000, 60000, 75, 1499, None)),
        technical_cues=(CueRange("ColorBars", 0, 3000, 98.0),),
        labels=(LabelRange("Car", ("Vehicle", "Transport"), 0, 4200, 97.1, 12),),
        moderation=(ModerationRange("Violence", "", 100, 200, 88.5, 2),),
        faces=(FaceRange(0, 500, 99.9, 3, {"smile": True}),),
        text=(TextRange("NO PARKING", 1000, 2500, 96.5, 4),),
        content_range_ms=(6000, 52000),
        notes=(Note("DecodeErrors", 12000, 12040, 5, "5 decode errors"),),
        clips=(
            TimelineClip("shot", 0, 0, 3000, "/c/s0.mp4", "accurate", "h264", "fell back"),
            TimelineClip("content", 0, 6000, 52000, "/c/c.mp4", "smart", "h264", None),
        ),
    )


def test_timeline_json_is_the_documented_shape_in_order() -> None:
    doc = timeline_json(full_timeline())
    assert list(doc) == [
        "schema",
        "video",
        "features",
        "shots",
        "technical_cues",
        "labels",
        "moderation",
        "faces",
        "text",
        "content_range_ms",
        "notes",
        "clips",
    ]
    assert doc["schema"] == "vidx.timeline/1"
    assert doc["video"] == {
        "id": "abc",
        "source": "/m/film.mp4",
        "duration_ms": 60000,
        "fps": "25/1",
        "frame_count": 1500,
        "width": 1280,
        "height": 720,
        "start_timecode": "10:00:00:00",
        "audio_channels": 2,
    }
    assert list(doc["features"]) == ["segments", "labels"]  # the order the query gave
    assert doc["features"]["labels"] == {"status": "FAILED", "engine": "aws", "model_version": None}
    assert list(doc["shots"][0]) == [
        "index",
        "start_ms",
        "end_ms",
        "start_frame",
        "end_frame",
        "confidence",
    ]
    assert doc["technical_cues"] == [
        {"type": "ColorBars", "start_ms": 0, "end_ms": 3000, "confidence": 98.0}
    ]
    label = doc["labels"][0]
    assert list(label) == ["name", "parents", "start_ms", "end_ms", "max_confidence", "detections"]
    assert label["parents"] == ["Vehicle", "Transport"]  # a JSON list, not a tuple
    assert list(doc["moderation"][0]) == [
        "name",
        "parent",
        "start_ms",
        "end_ms",
        "max_confidence",
        "detections",
    ]
    assert doc["text"] == [
        {
            "name": "NO PARKING",
            "type": "LINE",
            "start_ms": 1000,
            "end_ms": 2500,
            "max_confidence": 96.5,
            "detections": 4,
        }
    ]
    assert doc["faces"] == [
        {
            "start_ms": 0,
            "end_ms": 500,
            "max_confidence": 99.9,
            "detections": 3,
            "attributes": {"smile": True},
        }
    ]
    assert doc["content_range_ms"] == [6000, 52000]
    assert list(doc["notes"][0]) == ["type", "start_ms", "end_ms", "errors", "message"]
    assert list(doc["clips"][0]) == [
        "kind",
        "index",
        "start_ms",
        "end_ms",
        "path",
        "mode",
        "codec",
        "note",
    ]
    assert json.loads(json.dumps(doc)) == doc  # plain JSON values only


def test_no_content_range_is_null() -> None:
    tl = full_timeline()
    doc = timeline_json(replace(tl, content_range_ms=None))
    assert doc["content_range_ms"] is None


def test_a_document_reads_back_to_the_same_timeline_and_text() -> None:
    tl = full_timeline()
    doc = timeline_json(tl)
    assert timeline_from_json(doc) == tl
    text = json.dumps(doc, indent=2)
    assert json.dumps(timeline_json(timeline_from_json(json.loads(text))), indent=2) == text


def test_a_hand_built_document_round_trips() -> None:
    doc = make_doc(
        RATES["29.97"],
        contiguous([30, 45]),
        labels=[("Dog", 40, 3000, 97.1)],
        cues=[("BlackFrames", 0, 500, 99.0)],
        moderation=[("Violence", 3000, 4000, 88.0)],
        faces=[(0, 40, 99.5)],
        text=[("NO PARKING", 500, 2500, 96.0)],
    )
    assert json.dumps(timeline_json(timeline_from_json(doc))) == json.dumps(doc)
    # a document written before the text feature reads as one with no text
    old = {k: v for k, v in doc.items() if k != "text"}
    assert timeline_from_json(old).text == ()


def test_reading_names_what_is_wrong() -> None:
    doc: dict[str, Any] = timeline_json(full_timeline())
    with pytest.raises(ValueError, match=r"schema is 'x', expected 'vidx\.timeline/1'"):
        timeline_from_json(doc | {"schema": "x"})
    with pytest.raises(KeyError, match="technical_cues"):
        timeline_from_json({k: v for k, v in doc.items() if k != "technical_cues"})
    # fields from before they existed may be absent
    old = {k: v for k, v in doc.items() if k != "notes"}
    old["video"] = {k: v for k, v in doc["video"].items() if k != "start_timecode"}
    read = timeline_from_json(old)
    assert read.notes == () and read.video.start_timecode is None


def test_status_says_clips_and_thumbnails_only_when_they_failed() -> None:
    ok = VideoStatus("v1", "INDEXED", {"segments": StepState("SUCCEEDED", None)})
    assert status_json(ok) == {
        "video_id": "v1",
        "status": "INDEXED",
        "features": {"segments": {"status": "SUCCEEDED", "message": None}},
    }
    failed = VideoStatus(
        "v1",
        "FAILED",
        {},
        clips=StepState("FAILED", "cut failed"),
        thumbnails=StepState("FAILED", "gone"),
    )
    assert status_json(failed) == {
        "video_id": "v1",
        "status": "FAILED",
        "features": {},
        "clips": {"status": "FAILED", "message": "cut failed"},
        "thumbnails": {"status": "FAILED", "message": "gone"},
    }


def test_a_video_list_item_adds_the_file_facts_after_the_status() -> None:
    st = VideoStatus("v1", "PROCESSING", {}, thumbnails=StepState("FAILED", "x"))
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    item = summary_json(VideoSummary(st, "a.mp4", 1000, at))
    assert list(item) == [
        "video_id",
        "status",
        "features",
        "thumbnails",
        "filename",
        "duration_ms",
        "created_at",
    ]
    assert item["created_at"] == "2026-01-02T03:04:05+00:00"


def test_thumbnails_and_search_rows() -> None:
    th = Thumbnails(
        "v1",
        SpriteSheet("/t/sprite.jpg", "/t/sprite.json", 1600, 90),
        (ShotThumbnail(0, "/t/shot_0000.jpg", 640, 360, 1500),),
    )
    assert thumbnails_json(th) == {
        "video_id": "v1",
        "sprite": {"path": "/t/sprite.jpg", "index": "/t/sprite.json", "width": 1600, "height": 90},
        "shots": [
            {"index": 0, "path": "/t/shot_0000.jpg", "width": 640, "height": 360, "at_ms": 1500}
        ],
    }
    assert thumbnails_json(Thumbnails("v1", None, ()))["sprite"] is None
    row = QueryRow("v1", "label", "Dog", "Animal", 0, 500, 97.0, 2)
    assert list(query_row_json(row).items()) == [
        ("video_id", "v1"),
        ("kind", "label"),
        ("name", "Dog"),
        ("parent", "Animal"),
        ("start_ms", 0),
        ("end_ms", 500),
        ("confidence", 97.0),
        ("detections", 2),
    ]
