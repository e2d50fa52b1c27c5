"""pipeline.failures and gone.video_to_work_on: a step's failure kept on its video, and
the video a step begins on (missing, being deleted, or there)."""

from __future__ import annotations

import pytest

from models import Video
from worker.context import AppContext
from worker.errors import VideoNotFoundError
from worker.pipeline import failures, gone


def _add(ctx: AppContext, video_id: str, **extra: object) -> None:
    with ctx.db.session() as s:
        s.add(
            Video(
                id=video_id, source=f"{video_id}.mp4", filename=f"{video_id}.mp4",
                duration_ms=1000, fps_num=25, fps_den=1, frame_count=25, width=64, height=64,
                extra=dict(extra),
            )
        )  # fmt: skip


def _extra(ctx: AppContext, video_id: str) -> dict[str, object]:
    with ctx.db.session() as s:
        return dict(s.get_one(Video, video_id).extra)


def test_a_failure_is_kept_cut_and_cleared_per_key(sqlite_ctx: AppContext) -> None:
    _add(sqlite_ctx, "v1", other=1)
    assert failures.record(sqlite_ctx, "v1", failures.CLIPS, "x" * 5000)
    assert failures.record(sqlite_ctx, "v1", failures.THUMBS, "no shots")
    extra = _extra(sqlite_ctx, "v1")
    assert extra[failures.CLIPS] == "x" * failures.MESSAGE_MAX
    assert extra[failures.THUMBS] == "no shots"
    with sqlite_ctx.db.session() as s:
        failures.clear(s.get_one(Video, "v1"), failures.CLIPS)
        failures.clear(s.get_one(Video, "v1"), "never_set")
    assert _extra(sqlite_ctx, "v1") == {"other": 1, failures.THUMBS: "no shots"}


def test_no_failure_is_kept_on_a_missing_or_deleting_video(sqlite_ctx: AppContext) -> None:
    _add(sqlite_ctx, "v2", **{gone.DELETING_KEY: True})
    assert not failures.record(sqlite_ctx, "v2", failures.CLIPS, "boom")
    assert not failures.record(sqlite_ctx, "nope", failures.CLIPS, "boom")
    assert _extra(sqlite_ctx, "v2") == {gone.DELETING_KEY: True}


def test_the_video_a_step_begins_on(sqlite_ctx: AppContext) -> None:
    _add(sqlite_ctx, "v3")
    _add(sqlite_ctx, "v4", **{gone.DELETING_KEY: True})
    with sqlite_ctx.db.session() as s:
        assert gone.video_to_work_on(s, "v3").id == "v3"
        with pytest.raises(gone.VideoDeletedError):
            gone.video_to_work_on(s, "v4")
        with pytest.raises(VideoNotFoundError):
            gone.video_to_work_on(s, "nope")
