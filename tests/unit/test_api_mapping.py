"""The API's bodies built from the read side's values (worker/api/mapping.py), and the
typed OpenAPI response documents (worker/api/openapi.py): the same fields, in the same
order, as the JSON the CLI prints; failed steps only when they failed; urls of this API."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

from models import AnalysisJob, Clip, Video
from worker.api import mapping
from worker.api.openapi import ResponseDoc, responses
from worker.api.problems import MEDIA_TYPE, documented
from worker.deletion import Deleted
from worker.read_json import query_row_json, status_json, summary_json
from worker.read_model import (
    ShotThumbnail,
    SpriteSheet,
    StepState,
    Thumbnails,
    VideoStatus,
    VideoSummary,
)
from worker.search import QueryRow
from worker.service import Submitted

AT = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
OK = StepState("SUCCEEDED", None)
INDEXED = VideoStatus("v1", "INDEXED", {"segments": OK, "labels": StepState("FAILED", "no")})
FAILED = VideoStatus(
    "v2",
    "FAILED",
    {"segments": OK},
    clips=StepState("FAILED", "cut failed"),
    thumbnails=StepState("FAILED", "gone.mp4: no such file"),
)


def _video(**facts: object) -> Video:
    fields: dict[str, object] = {
        "id": "v2",
        "filename": "a.mp4",
        "duration_ms": 10_000,
        "created_at": AT,
        "fps_num": 30000,
        "fps_den": 1001,
        "frame_count": 300,
        "width": 640,
        "height": 360,
    }
    return Video(**(fields | facts))


def test_summary_is_the_clis_item_with_failed_steps_only_when_they_failed() -> None:
    for st in (INDEXED, FAILED):
        item = VideoSummary(st, "a.mp4", 10_000, AT)
        body = mapping.video_summary(item).model_dump(exclude_unset=True)
        assert body == summary_json(item)
        assert list(body) == list(summary_json(item))  # the same key order
    unset = mapping.video_summary(VideoSummary(INDEXED, "a.mp4", 1, AT))
    assert unset.model_fields_set.isdisjoint({"clips", "thumbnails"})


def test_video_list_keeps_order_and_cursor() -> None:
    items = [VideoSummary(INDEXED, "a.mp4", 1, AT), VideoSummary(FAILED, "b.mp4", 2, AT)]
    page = mapping.video_list(items, "next")
    assert [v.video_id for v in page.items] == ["v1", "v2"] and page.next_cursor == "next"
    assert mapping.video_list([], None).model_dump() == {"items": [], "next_cursor": None}


def test_video_detail_is_the_status_plus_the_files_facts() -> None:
    for st in (INDEXED, FAILED):
        body = mapping.video_detail(st, _video()).model_dump(exclude_unset=True)
        assert body == status_json(st) | {
            "filename": "a.mp4",
            "duration_ms": 10_000,
            "created_at": "2024-05-01T12:30:00+00:00",
            "fps": "30000/1001",
            "frame_count": 300,
            "width": 640,
            "height": 360,
        }


def _clip(kind: str, seq: int, requested: str, codec: str = "h264") -> Clip:
    return Clip(
        kind=kind,
        seq=seq,
        mode="accurate",
        requested_mode=requested,
        codec=codec,
        note=None if requested != "smart" else "fell back",
        start_ms=seq * 1000,
        end_ms=seq * 1000 + 1000,
        drift_ms=None,
    )


def test_clip_urls_name_a_request_other_than_the_current_one() -> None:
    preferred = ("smart", "h264")
    clips = [
        _clip("shot", 0, "smart"),
        _clip("shot", 1, "copy"),
        _clip("content", 0, "smart", "prores"),
        _clip("shot", 2, "accurate", "prores"),
    ]
    body = mapping.clip_list("v1", clips, preferred).model_dump()
    assert [c["url"] for c in body["items"]] == [
        "/videos/v1/clips/shot/0",
        "/videos/v1/clips/shot/1?mode=copy",
        "/videos/v1/clips/content/0?codec=prores",
        "/videos/v1/clips/shot/2?mode=accurate&codec=prores",
    ]
    assert list(body["items"][0]) == [
        "kind", "index", "start_ms", "end_ms", "mode", "requested_mode", "codec", "note",
        "drift_ms", "url",
    ]  # fmt: skip
    assert body["items"][0]["note"] == "fell back" and body["items"][1]["index"] == 1


def test_thumbnails_are_urls_of_the_api() -> None:
    found = Thumbnails(
        "v1",
        SpriteSheet("/data/thumbs/v1/sprite.jpg", "/data/thumbs/v1/sprite.json", 960, 540),
        (ShotThumbnail(0, "/data/thumbs/v1/0.jpg", 320, 180, 1500),),
    )
    assert mapping.thumbnails(found).model_dump() == {
        "shots": [
            {"index": 0, "at_ms": 1500, "width": 320, "height": 180, "url": _thumb("shots/0.jpg")}
        ],
        "sprite": {
            "url": _thumb("sprite.jpg"),
            "index_url": _thumb("sprite.json"),
            "width": 960,
            "height": 540,
        },
    }
    none = mapping.thumbnails(Thumbnails("v1", None, ()))
    assert none.model_dump() == {"shots": [], "sprite": None}


def _thumb(name: str) -> str:
    return f"/videos/v1/thumbnails/{name}"


def test_range_items_are_the_search_rows() -> None:
    rows = [
        QueryRow("v1", "label", "Dog", None, 0, 900, 97.5, 3),
        QueryRow("v1", "moderation", "Alcohol", "Drugs", 10, 20, None, 1),
    ]
    page = mapping.range_list(rows, None).model_dump()
    assert page == {"items": [query_row_json(r) for r in rows], "next_cursor": None}
    assert [list(i) for i in page["items"]] == [list(query_row_json(r)) for r in rows]


def test_deleted_is_the_delete_report() -> None:
    done = Deleted("v1", {"videos": 1}, ["/data/clips/v1"], [], ["src (kept)"], ["note"])
    assert mapping.deleted_video(done).model_dump() == asdict(done)


def test_submitted_lists_the_jobs() -> None:
    jobs = [AnalysisJob(id=7, feature="segments", state="PENDING")]
    body = mapping.submitted(Submitted("v1", [7], 10_000, ["known"]), jobs).model_dump()
    assert body == {
        "video_id": "v1",
        "jobs": [{"feature": "segments", "job_id": 7, "status": "PENDING"}],
        "notes": ["known"],
    }


def test_responses_merge_in_order_a_later_code_replacing_in_place() -> None:
    first: dict[int, ResponseDoc] = {
        200: {"description": "the file", "content": {"video/mp4": {}}},
        206: {"description": "a range"},
    }
    later: dict[int, ResponseDoc] = {200: {"description": "the clip"}}
    merged = responses(first, documented(404), later)
    assert list(merged) == [200, 206, 404]
    assert merged[200] == {"description": "the clip"}
    ref = {"$ref": "#/components/schemas/Problem"}
    assert merged[404] == {"description": "Not Found", "content": {MEDIA_TYPE: {"schema": ref}}}
    assert responses() == {}
