"""Failures end in a clear FAILED state, never a job or video stuck half-way."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from models import AnalysisJob
from worker.context import AppContext
from worker.engines.port import EngineJobReport, Feature, JobRequest, Progress, ResultPage
from worker.pipeline import ingest, jobs
from worker.pipeline.collect import collect_job
from worker.pipeline.start import StartOutcome, start_job
from worker.query import video_status
from worker.read_json import status_json

pytestmark = pytest.mark.integration


class ExplodingEngine:
    """An engine whose start fails with an unexpected (non-vidx) error."""

    name = "exploding"
    reads_s3 = False

    def supports(self, feature: Feature) -> bool:
        return True

    def start(self, request: JobRequest, progress: Progress | None = None) -> str:
        raise RuntimeError("disk on fire")

    def state(self, feature: Feature, job_id: str) -> EngineJobReport:
        raise AssertionError("not reached")

    def pages(self, feature: Feature, job_id: str, max_results: int = 1000) -> Iterator[ResultPage]:
        raise AssertionError("not reached")


def _register(ctx: AppContext, src: Path, clips: list[str]) -> str:
    inspected = ingest.inspect(src)
    with ctx.db.session() as s:
        return ingest.register(s, inspected, ["segments"], clips, "accurate").id


def test_unexpected_engine_error_fails_the_job(sqlite_ctx: AppContext, media: Path) -> None:
    sqlite_ctx._engines["exploding"] = ExplodingEngine()
    video_id = _register(sqlite_ctx, media / "synthetic" / "no_audio.mp4", [])
    (job_id,) = jobs.create_jobs(sqlite_ctx, video_id, [Feature.SEGMENTS], "exploding")
    with pytest.raises(RuntimeError):
        start_job(sqlite_ctx, job_id)
    with sqlite_ctx.db.session() as s:
        job = s.get_one(AnalysisJob, job_id)
        assert job.state == "FAILED"
        # the kind of error, never its text (which may carry SQL, parameters or paths)
        assert job.message == "internal error (RuntimeError); the worker log has the details"
        assert status_json(video_status(s, video_id))["status"] == "FAILED"


def test_clip_failure_marks_the_video_failed(
    sqlite_ctx: AppContext, media: Path, tmp_path: Path
) -> None:
    from worker import tasks

    src = tmp_path / "moving.mp4"
    shutil.copy(media / "synthetic" / "no_audio.mp4", src)
    video_id = _register(sqlite_ctx, src, ["shots"])
    (job_id,) = jobs.create_jobs(sqlite_ctx, video_id, [Feature.SEGMENTS], "local")
    assert start_job(sqlite_ctx, job_id) is StartOutcome.COLLECT_NOW
    assert collect_job(sqlite_ctx, job_id) == "SUCCEEDED"
    src.unlink()  # the source went away before the clips were cut
    with pytest.raises(Exception, match=r"moving\.mp4"):
        tasks.cut_clips_task.delay(video_id)
    with sqlite_ctx.db.session() as s:
        st = status_json(video_status(s, video_id))
    assert st["status"] == "FAILED"
    assert "moving.mp4" in st["clips"]["message"]
    # putting the file back and cutting again recovers
    shutil.copy(media / "synthetic" / "no_audio.mp4", src)
    tasks.cut_clips_task.delay(video_id)
    with sqlite_ctx.db.session() as s:
        assert status_json(video_status(s, video_id))["status"] == "INDEXED"
