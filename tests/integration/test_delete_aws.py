"""`vidx delete` of videos analysed by the aws engine, on moto and the fake Rekognition
(tests/fake_aws.py), on SQLite and PostgreSQL: a forced delete of a video whose job runs
frees its slot, and the job's late notification, a collect and the reconciler change
nothing; `remote` removes that video's S3 objects and no other's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models import AnalysisJob, Detection, JobState, Video
from tests.conftest import MEDIA
from tests.fake_aws import BUCKET, Flow, aws_flow
from tests.integration.test_rekognition_flow import recorded
from worker.aws.s3 import video_folder
from worker.engines.port import Feature
from worker.errors import ConflictError
from worker.media.hashing import sha256_file
from worker.service import delete_video, submit

pytestmark = pytest.mark.integration

SMALL = MEDIA / "synthetic" / "no_audio.mp4"
OTHER = MEDIA / "real" / "bikes.mp4"


@pytest.fixture
def flow(
    aws_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db_url: str
) -> Iterator[Flow]:
    if not SMALL.is_file() or not OTHER.is_file():
        pytest.skip(f"test media not found at {MEDIA}")
    with aws_flow(monkeypatch, tmp_path / "data", db_url) as f:
        yield f


def objects(flow: Flow) -> set[str]:
    pages = flow.ctx.aws.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
    return {o["Key"] for page in pages for o in page.get("Contents", [])}


def rows(flow: Flow) -> dict[str, int]:
    with flow.ctx.db.session() as s:
        return {
            m.__tablename__: int(s.scalar(select(func.count()).select_from(m)) or 0)
            for m in (Video, AnalysisJob, Detection)
        }


def test_forced_delete_while_the_job_runs_then_late_messages_change_nothing(
    flow: Flow,
) -> None:
    from worker.tasks import collect_job, reconcile

    flow.fake.configure(auto_complete=False)
    flow.plant(Feature.LABELS, SMALL, recorded(Feature.LABELS))
    vid = flow.submit(SMALL).video_id
    [job] = flow.jobs(vid)
    slots = flow.ctx.slots("aws")
    assert slots is not None
    assert job.state == JobState.IN_PROGRESS and slots.in_use() == 1
    with pytest.raises(ConflictError, match="labels IN_PROGRESS"):
        delete_video(flow.ctx, vid)

    done = delete_video(flow.ctx, vid, force=True, remote=True)
    assert slots.in_use() == 0  # the slot its job held is free at once
    assert done.s3_objects == [f"s3://{BUCKET}/{flow.key_for(SMALL)}"] and not objects(flow)
    assert rows(flow) == {"videos": 0, "analysis_jobs": 0, "detections": 0}

    # the job finishes at Rekognition after the delete: its notification, a stray collect
    # task for it and the reconciler all leave nothing behind, and nothing fails
    calls = flow.fake.record()["calls"].get("GetLabelDetection", 0)
    flow.finish_running()
    stats = flow.poll()
    assert (stats.received, stats.handled, stats.failed, stats.dead_lettered) == (1, 1, 0, 0)
    collect_job.delay(job.id)
    counts = reconcile.delay().get()
    assert counts["to_collect"] == counts["failed"] == counts["requeued"] == 0
    assert rows(flow) == {"videos": 0, "analysis_jobs": 0, "detections": 0}
    assert flow.fake.record()["calls"].get("GetLabelDetection", 0) == calls  # never asked
    assert flow.queued() == {"visible": 0, "hidden": 0} and slots.in_use() == 0
    assert not objects(flow)


def test_remote_removes_that_videos_objects_only(flow: Flow) -> None:
    ctx = flow.ctx
    # A: analysed on AWS with its shot clips uploaded next to it; B: another video
    a = submit(ctx, SMALL, [Feature.SEGMENTS], "aws", ["shots"], "copy").video_id
    b = submit(ctx, OTHER, [Feature.SEGMENTS], "aws", ["shots"], "copy").video_id
    before = objects(flow)
    folder_a = video_folder(ctx.settings.s3_prefix, sha256_file(SMALL))
    of_a = {k for k in before if k.startswith(folder_a)}
    assert flow.key_for(SMALL) in of_a and any("/clips/" in k for k in of_a)
    assert len(before - of_a) > 1  # B's video and clips

    done = delete_video(ctx, a, remote=True)

    assert objects(flow) == before - of_a
    assert sorted(done.s3_objects) == sorted(f"s3://{BUCKET}/{k}" for k in of_a)
    with ctx.db.session() as s:
        assert s.get(Video, a) is None and s.get(Video, b) is not None


def test_a_folder_another_video_reads_from_is_kept(flow: Flow) -> None:
    ctx = flow.ctx
    a = flow.submit(SMALL, [Feature.SEGMENTS]).video_id
    key = flow.key_for(SMALL)
    # C: named by the s3:// URI of A's uploaded object (a user pointing at it)
    c = submit(ctx, f"s3://{BUCKET}/{key}", [Feature.SEGMENTS], "aws", [], "copy").video_id
    before = objects(flow)

    done = delete_video(ctx, a, remote=True)
    folder = video_folder(ctx.settings.s3_prefix, sha256_file(SMALL))
    assert done.s3_objects == [] and objects(flow) == before
    assert f"s3://{BUCKET}/{folder} (video {c} reads from it)" in done.kept

    done = delete_video(ctx, c, remote=True)  # C's object is the user's: never removed
    assert done.kept == [f"s3://{BUCKET}/{key} (the video's own object)"]
    assert objects(flow) == before
