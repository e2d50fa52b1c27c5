"""Video ids as users give them: whole, or a unique prefix (worker/video_ids.py); one
wording for an unknown video in the store, the pipeline and the API."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from models import Video
from worker.api import create_app
from worker.context import AppContext
from worker.errors import AmbiguousIdError, NotFoundError, VideoNotFoundError
from worker.pipeline.clips import plan_clips
from worker.query import timeline
from worker.video_ids import resolve

pytestmark = pytest.mark.integration

IDS = ["abcd1111aaaa0000", "abcd2222bbbb0000", "abce3333cccc0000", "ab_d4444dddd0000"]


def _video(video_id: str) -> Video:
    return Video(
        id=video_id, source=f"{video_id}.mp4", filename=f"{video_id}.mp4", duration_ms=1000,
        fps_num=25, fps_den=1, frame_count=25, width=64, height=64,
    )  # fmt: skip


@pytest.fixture
def videos(ctx: AppContext) -> AppContext:
    with ctx.db.session() as s:
        s.add_all(_video(i) for i in IDS)
    return ctx


def test_whole_ids_and_unique_prefixes(videos: AppContext) -> None:
    with videos.db.session() as s:
        assert [resolve(s, i) for i in IDS] == IDS
        assert resolve(s, "abcd1") == IDS[0]
        assert resolve(s, "abce") == IDS[2]
        assert resolve(s, "ab_d") == IDS[3]  # `_` is a character here, not a wildcard


def test_ambiguous_and_unknown_prefixes(videos: AppContext) -> None:
    with videos.db.session() as s:
        with pytest.raises(AmbiguousIdError) as ambiguous:
            resolve(s, "abcd")
        assert str(ambiguous.value) == (
            f"id prefix abcd matches 2 videos: {IDS[0]}, {IDS[1]} (give more characters)"
        )
        with pytest.raises(VideoNotFoundError, match=r"^no video with id 'abcf'$"):
            resolve(s, "abcf")
        with pytest.raises(NotFoundError, match="4 or more characters"):
            resolve(s, "abc")  # too short to be taken as a prefix
        with pytest.raises(VideoNotFoundError):
            resolve(s, "ab%d")  # `%` matches nothing either


def test_one_wording_for_an_unknown_video(sqlite_ctx: AppContext) -> None:
    expected = "no video with id 'feedbeef'"
    with sqlite_ctx.db.session() as s, pytest.raises(NotFoundError) as in_store:
        timeline(s, "feedbeef")
    with pytest.raises(NotFoundError) as in_pipeline:
        plan_clips(sqlite_ctx, "feedbeef", ["shots"])
    assert str(in_store.value) == str(in_pipeline.value) == expected
    api = TestClient(create_app(sqlite_ctx)).get("/videos/feedbeef")
    assert api.status_code == 404 and api.json()["detail"] == expected
