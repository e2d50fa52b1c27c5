"""The same cases over every engine and both databases.

Every engine must answer in Get* page shapes the one parser accepts, page with
NextToken/MaxResults, be idempotent by client token, and refuse what it cannot do.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from worker.context import AppContext
from worker.engines.port import Feature, JobRequest, VideoSource
from worker.errors import FeatureNotSupportedError
from worker.pipeline import ingest, jobs
from worker.pipeline.collect import collect_job
from worker.pipeline.start import StartOutcome, start_job
from worker.query import QueryFilter, run_query, timeline, video_status
from worker.read_json import status_json, timeline_json
from worker.results import parse_page

pytestmark = pytest.mark.integration

ENGINES = ["local", "aws"]  # aws: the Rekognition adapter against moto + worker/testing
VIDEO = "synthetic/no_audio.mp4"


@dataclass
class Staging:
    """Where an engine reads the video: the file itself, or (aws) its S3 copy."""

    bucket: str | None = None

    def prepare(self, ctx: AppContext) -> None:
        """Settings the pipeline needs to stage videos for this engine."""
        if self.bucket:
            ctx.settings = ctx.settings.model_copy(update={"s3_bucket": self.bucket})

    def source(self, ctx: AppContext, inspected: ingest.Inspected, path: Path) -> VideoSource:
        if not self.bucket:
            return VideoSource(inspected.video_id, inspected.sha256, path=path)
        from worker.aws.s3 import ensure_uploaded

        loc = ensure_uploaded(ctx.aws.s3, path, inspected.sha256, self.bucket, "contract")
        return VideoSource(
            inspected.video_id, inspected.sha256, path=path, s3_bucket=loc.bucket, s3_key=loc.key
        )


@pytest.fixture
def staging(
    engine_name: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Staging]:
    """aws: moto under mock_aws with the fake Rekognition video operations (completing
    at once, segments computed by the local detector from the S3 object) and a bucket."""
    if engine_name != "aws":
        yield Staging()
        return
    from tests.fake_aws import BUCKET, REGION, mocked_aws

    request.getfixturevalue("aws_env")
    with mocked_aws(monkeypatch):
        import boto3

        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        yield Staging(BUCKET)


def _index(
    ctx: AppContext, staging: Staging, path: Path, feature: Feature, engine_name: str
) -> tuple[str, int, dict]:  # type: ignore[type-arg]
    """`path` registered, its one `feature` job started and collected through the pipeline
    (SUCCEEDED, the video INDEXED): (video id, job id, timeline JSON)."""
    staging.prepare(ctx)
    inspected = ingest.inspect(path)
    with ctx.db.session() as s:
        video_id = ingest.register(s, inspected, [feature.value], [], "accurate").id
    (job_id,) = jobs.create_jobs(ctx, video_id, [feature], engine_name)
    assert start_job(ctx, job_id) is StartOutcome.COLLECT_NOW
    assert collect_job(ctx, job_id) == "SUCCEEDED"
    with ctx.db.session() as s:
        doc = timeline_json(timeline(s, video_id))
        assert status_json(video_status(s, video_id))["status"] == "INDEXED"
    return video_id, job_id, doc


def _truth(media: Path) -> dict:
    return json.loads((media / "synthetic" / "no_audio.truth.json").read_text())


@pytest.mark.parametrize("engine_name", ENGINES)
def test_engine_pages_parse_and_repeat(
    engine_name: str, sqlite_ctx: AppContext, media: Path, staging: Staging
) -> None:
    engine = sqlite_ctx.engine(engine_name)
    src = media / VIDEO
    inspected = ingest.inspect(src)
    request = JobRequest(
        Feature.SEGMENTS,
        staging.source(sqlite_ctx, inspected, src),
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


class _SegmentsOnly:
    """An engine that detects segments only (both real engines now detect every feature):
    what a feature an engine lacks meets."""

    def supports(self, feature: Feature) -> bool:
        return feature is Feature.SEGMENTS


@pytest.mark.parametrize("engine_name", ENGINES)
def test_every_engine_detects_every_feature(
    engine_name: str, sqlite_ctx: AppContext, staging: Staging
) -> None:
    jobs.check_supported(sqlite_ctx, list(Feature), engine_name)  # refused: FeatureNotSupported


@pytest.mark.parametrize("engine_name", ENGINES)
@pytest.mark.parametrize("feature", [Feature.LABELS, Feature.MODERATION, Feature.FACES])
def test_engine_refuses_what_it_cannot_detect(
    engine_name: str, feature: Feature, sqlite_ctx: AppContext, staging: Staging
) -> None:
    lacking = f"{engine_name}-segments-only"
    sqlite_ctx._engines[lacking] = _SegmentsOnly()  # type: ignore[assignment]
    with pytest.raises(FeatureNotSupportedError, match=feature.value):
        jobs.check_supported(sqlite_ctx, [feature], lacking)


@pytest.mark.parametrize("engine_name", ENGINES)
def test_pipeline_on_each_database(
    engine_name: str, ctx: AppContext, media: Path, staging: Staging
) -> None:
    """ingest -> start -> collect -> timeline, on SQLite and PostgreSQL alike."""
    _, job_id, doc = _index(ctx, staging, media / VIDEO, Feature.SEGMENTS, engine_name)
    truth = _truth(media)
    assert [s["start_ms"] for s in doc["shots"]] == [s["start_ms"] for s in truth["shots"]]
    assert [s["end_ms"] for s in doc["shots"]] == [s["end_ms"] for s in truth["shots"]]
    assert doc["content_range_ms"] == truth["content_range_ms"]
    # starting again is a no-op: the job already SUCCEEDED
    assert start_job(ctx, job_id) is StartOutcome.DONE


@pytest.mark.parametrize("engine_name", ENGINES)
def test_moderation_pages_parse_and_stay_clean_on_safe_media(
    engine_name: str, ctx: AppContext, media: Path, staging: Staging
) -> None:
    """Moderation through the pipeline on both databases: a safe video gets a SUCCEEDED job
    named by its model, pages the parser reads, and no label (the fake Rekognition runs
    the local model on the S3 object, so both engines answer alike)."""
    _, job_id, doc = _index(ctx, staging, media / VIDEO, Feature.MODERATION, engine_name)
    assert doc["moderation"] == []
    assert "open_nsfw" in doc["features"]["moderation"]["model_version"]
    assert start_job(ctx, job_id) is StartOutcome.DONE


@pytest.mark.parametrize("engine_name", ENGINES)
def test_faces_pages_parse_and_find_the_dev_sets_face(
    engine_name: str, ctx: AppContext, media: Path, staging: Staging
) -> None:
    """Faces through the pipeline on both databases: the astronaut of the dev set's first
    shot becomes face ranges in its first 3 s (the fake Rekognition runs the local models on
    the S3 object, so both engines answer alike; only the local one names its models)."""
    _, job_id, doc = _index(
        ctx, staging, media / "ml" / "objects_dev_720p25.mp4", Feature.FACES, engine_name
    )
    assert doc["faces"] and any(f["start_ms"] < 3000 for f in doc["faces"])
    assert all(not 3000 <= f["start_ms"] < 15000 for f in doc["faces"])  # shots 1-4: no face
    version = doc["features"]["faces"]["model_version"]
    assert (engine_name == "aws" and version is None) or "mediapipe 0.10.21" in version
    assert start_job(ctx, job_id) is StartOutcome.DONE


@pytest.mark.parametrize("engine_name", ENGINES)
def test_labels_pages_parse_and_name_the_dev_sets_cat(
    engine_name: str, ctx: AppContext, media: Path, staging: Staging
) -> None:
    """Labels through the pipeline on both databases: the cat of the dev set's second shot
    becomes `Cat` ranges within 3-6 s (the fake Rekognition runs the local models on the S3
    object, so both engines answer alike, model version included)."""
    _, job_id, doc = _index(
        ctx, staging, media / "ml" / "objects_dev_720p25.mp4", Feature.LABELS, engine_name
    )
    cats = [r for r in doc["labels"] if r["name"] == "Cat"]
    assert cats and all(r["start_ms"] >= 3000 and r["end_ms"] <= 6000 for r in cats), cats
    assert all(r["max_confidence"] >= 50 for r in doc["labels"])  # MinConfidence 50
    assert "efficientnet-lite0" in doc["features"]["labels"]["model_version"]
    assert start_job(ctx, job_id) is StartOutcome.DONE


@pytest.mark.parametrize("engine_name", ENGINES)
def test_text_pages_parse_and_read_the_dev_sets_signs(
    engine_name: str, ctx: AppContext, media: Path, staging: Staging
) -> None:
    """Text through the pipeline on both databases: the dev set's signs (shots 8-11) become
    text ranges found by their words (the fake Rekognition runs the local OCR on the S3
    object, so both engines answer alike, model version included)."""
    video_id, job_id, doc = _index(
        ctx, staging, media / "ml" / "objects_dev_720p25.mp4", Feature.TEXT, engine_name
    )
    with ctx.db.session() as s:
        found = run_query(s, QueryFilter(video_id=video_id, kind="text", name="parking"))
    assert doc["text"] and all(r["start_ms"] >= 24000 for r in doc["text"]), doc["text"]
    assert all(r["max_confidence"] >= 80 for r in doc["text"])  # MinConfidence 80
    assert found and all(24000 <= r.start_ms < 33000 for r in found)
    assert "rapidocr" in doc["features"]["text"]["model_version"]
    assert start_job(ctx, job_id) is StartOutcome.DONE
