"""The same cases over every engine and both databases.

Every engine must answer in Get* page shapes the one parser accepts, page with
NextToken/MaxResults, be idempotent by client token, and refuse what it cannot do.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from worker.context import AppContext
from worker.engines.port import Feature, JobRequest, VideoSource
from worker.errors import FeatureNotSupportedError
from worker.pipeline import ingest, jobs
from worker.pipeline.collect import collect_job
from worker.pipeline.start import StartOutcome, start_job
from worker.query import timeline, video_status
from worker.results import parse_page

pytestmark = pytest.mark.integration

ENGINES = ["local"]  # the Rekognition engine joins this list when it exists
VIDEO = "synthetic/no_audio.mp4"


def _truth(media: Path) -> dict:
    return json.loads((media / "synthetic" / "no_audio.truth.json").read_text())


@pytest.mark.parametrize("engine_name", ENGINES)
def test_engine_pages_parse_and_repeat(
    engine_name: str, sqlite_ctx: AppContext, media: Path
) -> None:
    engine = sqlite_ctx.engine(engine_name)
    src = media / VIDEO
    inspected = ingest.inspect(src)
    request = JobRequest(
        Feature.SEGMENTS,
        VideoSource(inspected.video_id, inspected.sha256, path=src),
        client_token="contract-segments-1",
        params=jobs.DEFAULT_PARAMS[Feature.SEGMENTS],
    )
    job_id = engine.start(request)
    assert engine.start(request) == job_id  # same token: same job, not a second one
    assert engine.state(Feature.SEGMENTS, job_id).status == "SUCCEEDED"

    whole = list(engine.pages(Feature.SEGMENTS, job_id))
    small = list(engine.pages(Feature.SEGMENTS, job_id, max_results=2))
    assert len(whole) == 1 and "NextToken" not in whole[0]
    assert all(len(p["Segments"]) <= 2 for p in small) and len(small) > 1
    assert all("NextToken" in p for p in small[:-1]) and "NextToken" not in small[-1]
    assert [s for p in small for s in p["Segments"]] == whole[0]["Segments"]

    parsed = parse_page(Feature.SEGMENTS, whole[0])
    truth = _truth(media)
    shot_starts = sorted(d.start_frame for d in parsed.items if d.kind == "shot")
    assert shot_starts == [0] + [c["frame"] for c in truth["cuts"]]
    assert parsed.video is not None and parsed.video.duration_ms == truth["duration_ms"]


@pytest.mark.parametrize("engine_name", ENGINES)
@pytest.mark.parametrize("feature", [Feature.LABELS, Feature.MODERATION, Feature.FACES])
def test_engine_refuses_what_it_cannot_detect(
    engine_name: str, feature: Feature, sqlite_ctx: AppContext
) -> None:
    engine = sqlite_ctx.engine(engine_name)
    if engine.supports(feature):
        pytest.skip(f"{engine_name} supports {feature.value}")
    with pytest.raises(FeatureNotSupportedError, match=feature.value):
        jobs.check_supported(sqlite_ctx, [feature], engine_name)


@pytest.mark.parametrize("engine_name", ENGINES)
def test_pipeline_on_each_database(engine_name: str, ctx: AppContext, media: Path) -> None:
    """ingest -> start -> collect -> timeline, on SQLite and PostgreSQL alike."""
    inspected = ingest.inspect(media / VIDEO)
    with ctx.db.session() as s:
        video_id = ingest.register(s, inspected, ["segments"], [], "accurate").id
    (job_id,) = jobs.create_jobs(ctx, video_id, [Feature.SEGMENTS], engine_name)
    assert start_job(ctx, job_id) is StartOutcome.COLLECT_NOW
    assert collect_job(ctx, job_id) == "SUCCEEDED"
    with ctx.db.session() as s:
        doc = timeline(s, video_id)
        assert video_status(s, video_id)["status"] == "INDEXED"
    truth = _truth(media)
    assert [s["start_ms"] for s in doc["shots"]] == [s["start_ms"] for s in truth["shots"]]
    assert [s["end_ms"] for s in doc["shots"]] == [s["end_ms"] for s in truth["shots"]]
    assert doc["content_range_ms"] == truth["content_range_ms"]
    # starting again is a no-op: the job already SUCCEEDED
    assert start_job(ctx, job_id) is StartOutcome.DONE
