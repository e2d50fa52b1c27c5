"""With the Rekognition engine, clips also go to S3 under the video's prefix: in-process,
on moto and the fake Rekognition (tests/fake_aws.py), Celery eager."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from models import Clip, Thumbnail
from tests.conftest import MEDIA
from tests.fake_aws import Flow, aws_flow
from worker.engines.port import Feature
from worker.media.hashing import sha256_file
from worker.pipeline import clips
from worker.pipeline.clip_request import ClipRequest
from worker.query import video_status
from worker.read_json import status_json
from worker.service import submit

pytestmark = pytest.mark.integration

SMALL = MEDIA / "synthetic" / "no_audio.mp4"  # 10 s, 4 shots


@pytest.fixture
def flow(aws_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Flow]:
    if not SMALL.is_file():
        pytest.skip(f"test media not found at {MEDIA}")
    with aws_flow(monkeypatch, tmp_path / "data", f"sqlite:///{tmp_path / 'vidx.db'}") as f:
        yield f


def clip_rows(flow: Flow, video_id: str) -> list[Clip]:
    with flow.ctx.db.session() as s:
        return list(s.scalars(select(Clip).where(Clip.video_id == video_id).order_by(Clip.seq)))


def uploads(flow: Flow) -> list[str]:
    """Count S3 writes from now on (single and multipart uploads)."""
    calls: list[str] = []

    def seen(event_name: str, **_: Any) -> None:
        calls.append(event_name.rsplit(".", 1)[-1])

    for op in ("PutObject", "CreateMultipartUpload"):
        flow.ctx.aws.s3.meta.events.register(f"before-call.s3.{op}", seen)
    return calls


def test_clips_of_an_aws_video_are_uploaded_next_to_it(flow: Flow) -> None:
    done = submit(flow.ctx, SMALL, [Feature.SEGMENTS], "aws", ["shots"], "accurate")
    sha = sha256_file(SMALL)
    rows = clip_rows(flow, done.video_id)
    assert len(rows) == 4
    for clip in rows:
        name = Path(clip.path).name
        key = f"vidx/{sha}/clips/{name}"
        assert clip.s3_uri == f"s3://{flow.prov.bucket}/{key}"
        got = flow.ctx.aws.s3.get_object(Bucket=flow.prov.bucket, Key=key)
        assert got["Body"].read() == Path(clip.path).read_bytes()
        assert got["Metadata"] == {"sha256": sha256_file(Path(clip.path))}
    with flow.ctx.db.session() as s:
        assert status_json(video_status(s, done.video_id))["status"] == "INDEXED"
        # the clips step made the thumbnails too: one per shot and the sprite
        kinds = s.scalars(select(Thumbnail.kind).where(Thumbnail.video_id == done.video_id))
        assert sorted(kinds) == ["shot"] * 4 + ["sprite"]

    # a re-run keeps the verified clips and uploads nothing again
    writes = uploads(flow)
    mtimes = [Path(c.path).stat().st_mtime_ns for c in rows]
    again = clips.make_clips(flow.ctx, done.video_id, ClipRequest(("shots",), "accurate"))
    assert [c.s3_uri for c in again] == [c.s3_uri for c in rows] and writes == []

    # an upload that failed last time (no URI recorded, object missing) is made now,
    # without cutting the clip again
    lost = rows[2]
    with flow.ctx.db.session() as s:
        s.get_one(Clip, lost.id).s3_uri = None
    key = lost.s3_uri.removeprefix(f"s3://{flow.prov.bucket}/") if lost.s3_uri else ""
    flow.ctx.aws.s3.delete_object(Bucket=flow.prov.bucket, Key=key)
    clips.make_clips(flow.ctx, done.video_id, ClipRequest(("shots",), "accurate"))
    assert writes == ["PutObject"]
    assert clip_rows(flow, done.video_id)[2].s3_uri == lost.s3_uri
    assert [Path(c.path).stat().st_mtime_ns for c in rows] == mtimes
    assert flow.ctx.aws.s3.head_object(Bucket=flow.prov.bucket, Key=key)["ContentLength"] > 0


def test_clips_of_a_local_engine_video_stay_local(flow: Flow, tmp_path: Path) -> None:
    """VIDX_S3_BUCKET is set (the flow's settings), but the video was analysed locally."""
    video = tmp_path / "local.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
         "-i", "testsrc2=size=160x90:rate=25:duration=1", "-c:v", "libx264",
         "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(video)],
        check=True,
    )  # fmt: skip
    writes = uploads(flow)
    done = submit(flow.ctx, video, [Feature.SEGMENTS], "local", ["shots"], "accurate")
    rows = clip_rows(flow, done.video_id)
    assert rows and all(c.s3_uri is None and Path(c.path).is_file() for c in rows)
    assert writes == []
    assert flow.ctx.aws.s3.list_objects_v2(Bucket=flow.prov.bucket)["KeyCount"] == 0
