"""Store and collect on SQLite and PostgreSQL: bulk, idempotent, queryable."""

from __future__ import annotations

import json
from fractions import Fraction
from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models import AnalysisJob, Detection, JobState, TimelineRange, Video
from tests.conftest import FIXTURES
from worker.context import AppContext
from worker.engines.port import Feature
from worker.media.decode_errors import DecodeReport
from worker.media.info import MediaInfo
from worker.pipeline import ingest, jobs
from worker.pipeline.collect import collect_job
from worker.query import QueryFilter, run_query, timeline, video_status
from worker.read_json import status_json, timeline_json
from worker.timecode import Millis

pytestmark = pytest.mark.integration

SEGMENTS_PAGE = FIXTURES / "netflix_93f8" / "GetSegmentDetection.page1.json"


def _fake_video(ctx: AppContext, tmp_path: Path) -> str:
    # a registered video whose facts match the recorded Netflix result (640x360, 25 fps)
    src = tmp_path / "netflix.mov"
    src.write_bytes(b"not read by this test")
    with ctx.db.session() as s:
        video = ingest.register(
            s, ingest.Inspected(_info_of(src), "ab" * 32), ["segments"], [], "accurate"
        )
        return video.id


def _info_of(src: Path) -> MediaInfo:
    return MediaInfo(
        path=src,
        size_bytes=21,
        container="mov",
        duration_ms=Millis(260040),
        fps=Fraction(25),
        cfr=True,
        frame_count=6501,
        width=640,
        height=360,
        rotation=0,
        video_codec="h264",
        pix_fmt="yuv420p",
        audio_codec="aac",
        audio_channels=2,
        audio_sample_rate=44100,
        start_pts_ms=Millis(0),
    )


def _plant(ctx: AppContext, job_id: int) -> int:
    """Put the recorded page where the local engine keeps results; mark the job started."""
    page = json.loads(SEGMENTS_PAGE.read_text())
    with ctx.db.session() as s:
        job = s.get_one(AnalysisJob, job_id)
        token = job.client_token
        job.engine_job_id = token
        job.state = JobState.IN_PROGRESS
    target = ctx.settings.results_dir / "local" / f"{token}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(page))
    return len(page["Segments"])


def _counts(ctx: AppContext) -> tuple[int, int, int]:
    with ctx.db.session() as s:
        return (
            s.scalar(select(func.count()).select_from(Detection)) or 0,
            s.scalar(select(func.count()).select_from(TimelineRange)) or 0,
            s.scalar(select(func.count()).select_from(AnalysisJob)) or 0,
        )


def test_collect_pages_every_item_and_is_idempotent(ctx: AppContext, tmp_path: Path) -> None:
    video_id = _fake_video(ctx, tmp_path)
    (job_id,) = jobs.create_jobs(ctx, video_id, [Feature.SEGMENTS], "local")
    items = _plant(ctx, job_id)
    engine = ctx.engine("local")
    # page small, so the 116 items cross NextToken several times
    pages = list(engine.pages(Feature.SEGMENTS, _token(ctx, job_id), max_results=50))
    assert [len(p["Segments"]) for p in pages] == [50, 50, 16]
    assert "NextToken" in pages[0] and "NextToken" not in pages[-1]

    assert collect_job(ctx, job_id) is JobState.SUCCEEDED
    first = _counts(ctx)
    assert first[0] == items
    # a redelivered collect task (at-least-once) finds the job collected: nothing changes
    assert collect_job(ctx, job_id) is JobState.SUCCEEDED
    assert _counts(ctx) == first
    # and one that really runs again (the first died after writing) rewrites the same rows
    with ctx.db.session() as s:
        s.get_one(AnalysisJob, job_id).state = JobState.IN_PROGRESS
    assert collect_job(ctx, job_id) is JobState.SUCCEEDED
    assert _counts(ctx) == first

    with ctx.db.session() as s:
        job = s.get_one(AnalysisJob, job_id)
        assert job.items_collected == items and job.model_version == "1.0"
        doc = timeline_json(timeline(s, video_id))
        assert status_json(video_status(s, video_id))["status"] == "INDEXED"
    assert len(doc["shots"]) == items
    shots = doc["shots"]
    # contiguous, half-open: each shot ends where the next begins
    assert all(a["end_ms"] <= b["start_ms"] for a, b in pairwise(shots))
    assert shots[0]["end_ms"] == shots[1]["start_ms"]
    assert doc["schema"] == "vidx.timeline/1"
    assert doc["video"]["fps"] == "25/1"
    assert doc["content_range_ms"] is None  # the recording has SHOT segments only


def _token(ctx: AppContext, job_id: int) -> str:
    with ctx.db.session() as s:
        return s.get_one(AnalysisJob, job_id).client_token


def test_query_filters_overlap_window(ctx: AppContext, tmp_path: Path) -> None:
    video_id = _fake_video(ctx, tmp_path)
    (job_id,) = jobs.create_jobs(ctx, video_id, [Feature.SEGMENTS], "local")
    _plant(ctx, job_id)
    collect_job(ctx, job_id)
    with ctx.db.session() as s:
        rows = run_query(
            s, QueryFilter(video_id=video_id, kind="shot", from_ms=10_000, to_ms=30_000)
        )
        all_shots = run_query(s, QueryFilter(video_id=video_id, kind="shot"))
        high = run_query(s, QueryFilter(kind="shot", min_confidence=99.9))
    expected = [r for r in all_shots if r.end_ms > 10_000 and r.start_ms < 30_000]
    assert rows == expected and 0 < len(rows) < len(all_shots)
    assert all(r.confidence is not None and r.confidence >= 99.9 for r in high)
    assert len(high) < len(all_shots)


def test_job_rows_unique_per_video_feature_params(ctx: AppContext, tmp_path: Path) -> None:
    video_id = _fake_video(ctx, tmp_path)
    a = jobs.create_jobs(ctx, video_id, [Feature.SEGMENTS], "local")
    b = jobs.create_jobs(ctx, video_id, [Feature.SEGMENTS], "local")
    assert a == b
    with ctx.db.session() as s:
        token = s.get_one(AnalysisJob, a[0]).client_token
        video = s.get_one(Video, video_id)
    assert len(token) <= 64 and token.replace("-", "").replace("_", "").isalnum()
    assert video.fps_text == "25/1"


def test_a_resubmission_with_a_check_decode_adds_what_it_asks_for(
    ctx: AppContext, tmp_path: Path
) -> None:
    # the aws engine's check decode comes with every submission; it must not stop the
    # second request's features and clips from being added (it once took their branch)
    video_id = _fake_video(ctx, tmp_path)
    src = tmp_path / "netflix.mov"
    again = ingest.Inspected(
        _info_of(src), "ab" * 32, decode=DecodeReport(errors=0, damaged_frames=0, frame_count=6501)
    )
    with ctx.db.session() as s:
        video = ingest.register(s, again, ["labels"], ["shots"], "smart")
        assert video.id == video_id
    with ctx.db.session() as s:
        video = s.get(Video, video_id)
        assert video is not None
        assert video.requested_features == ["labels", "segments"]
        assert video.requested_clips == ["shots"]
        assert video.clip_mode == "smart"
        assert video.extra is not None and ingest.CHECK_KEY in video.extra
