"""No long I/O inside a database session (issue 12): staging (probe, check decode,
transcode, S3 upload), Start*/Get*, the reconciler's Get* and the job-slot store (Redis)
are used while the process holds no database connection, and the API sends a file after
its request's session ended, so a multi-GB upload or download or a slow answer never
keeps a PostgreSQL connection (or SQLite's write lock) for minutes.

Decided by recorded events, never by timing: every AWS call (a botocore `before-call`
hook on the context's clients), every external process (ffprobe, ffmpeg) and every call
of the slot store records how many connections the SQLAlchemy pool had checked out at
that moment; it must be none.
In-process on the fake AWS (tests/fake_aws.py), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.pool import QueuePool

from models import AnalysisJob, JobState, utcnow
from tests.conftest import MEDIA
from tests.fake_aws import BUCKET, Flow
from tests.integration.test_delete import DeleteAtStep
from tests.integration.test_rekognition_flow import SMALL, recorded
from tests.integration.test_rekognition_flow import flow as flow
from worker.api import files as api_files
from worker.context import AppContext
from worker.engines.port import Feature
from worker.media.hashing import sha256_file
from worker.pipeline.backlog import startable
from worker.pipeline.collect import collect_job
from worker.pipeline.ingest import video_id_for
from worker.pipeline.reconcile import reconcile
from worker.pipeline.stage import transcode_path
from worker.progress import reporting
from worker.service import delete_video, submit

pytestmark = pytest.mark.integration

PRORES = MEDIA / "synthetic" / "programme_prores.mov"  # transcoded before the upload


@dataclass
class IoWatch:
    """What ran (AWS operation, or program), with the connections checked out then."""

    pool: QueuePool
    seen: list[tuple[str, int]] = field(default_factory=list)
    on_call: dict[str, Callable[[], None]] = field(default_factory=dict)  # run once, by name

    def record(self, what: str) -> None:
        self.seen.append((what, self.pool.checkedout()))
        action = self.on_call.pop(what, None)
        if action is not None:
            action()

    def names(self) -> set[str]:
        return {what for what, _ in self.seen}

    def held(self) -> list[tuple[str, int]]:
        """The calls made while a connection was checked out (a session open)."""
        return [(what, n) for what, n in self.seen if n]


def watch_io(flow: Flow, monkeypatch: pytest.MonkeyPatch) -> IoWatch:
    pool = flow.ctx.db.engine.pool
    assert isinstance(pool, QueuePool)  # (file SQLite and PostgreSQL alike)
    watch = IoWatch(pool)

    def on_aws(model: Any, **_: Any) -> None:
        watch.record(model.name)

    for client, service in ((flow.ctx.aws.s3, "s3"), (flow.ctx.aws.rekognition, "rekognition")):
        client.meta.events.register(f"before-call.{service}", on_aws)

    class Recorded(subprocess.Popen[bytes]):
        def __init__(self, args: Any, *rest: Any, **kwargs: Any) -> None:
            watch.record(Path(str(args[0] if isinstance(args, list) else args)).name)
            super().__init__(args, *rest, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", Recorded)
    monkeypatch.setattr(flow.ctx, "_slots", RecordedSlots(flow.ctx.job_slots(), watch))
    return watch


class RecordedSlots:
    """The job-slot store (Redis in production), each call recorded as `slots.<method>`."""

    def __init__(self, inner: Any, watch: IoWatch) -> None:
        self.inner, self.watch = inner, watch

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self.watch.record(f"slots.{name}")
            return method(*args, **kwargs)

        return call


def make_stale(flow: Flow, job_id: int) -> None:
    """Looked at long ago: the reconciler asks about it (instead of waiting for it)."""
    long_ago = utcnow() - timedelta(seconds=10 * flow.ctx.settings.reconcile_after_s + 60)
    with flow.ctx.db.session() as s:
        s.execute(
            update(AnalysisJob)
            .where(AnalysisJob.id == job_id)
            .values(checked_at=long_ago, started_at=long_ago)
        )


def lost_finished_job(flow: Flow) -> int:
    """A labels job finished at the fake whose notification was lost, due for the reconciler."""
    flow.fake.configure(auto_complete=False)
    flow.plant(Feature.LABELS, SMALL, recorded(Feature.LABELS))
    done = flow.submit(SMALL)
    [job] = flow.jobs(done.video_id)
    flow.fake.notification_fault(flow.fake.jobs[0].job_id, drop=True)
    flow.finish_running()
    assert flow.poll().received == 0
    make_stale(flow, job.id)
    return job.id


def test_staging_start_and_collect_hold_no_connection(
    flow: Flow, monkeypatch: pytest.MonkeyPatch
) -> None:
    watch = watch_io(flow, monkeypatch)
    done = flow.submit(PRORES, [Feature.LABELS])  # probe, transcode, upload, Start*, Get*
    [job] = flow.jobs(done.video_id)
    assert job.state == JobState.SUCCEEDED
    assert {"ffprobe", "ffmpeg", "HeadObject", "PutObject"} <= watch.names()
    assert {"StartLabelDetection", "GetLabelDetection"} <= watch.names()
    assert {"slots.acquire", "slots.release"} <= watch.names()
    assert watch.held() == []


def test_the_reconcilers_get_holds_no_connection(
    flow: Flow, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = lost_finished_job(flow)
    watch = watch_io(flow, monkeypatch)
    report = reconcile(flow.ctx)
    assert report.to_collect == [job_id]
    assert {"GetLabelDetection", "slots.renew", "slots.holders"} <= watch.names()
    assert watch.held() == []


def test_the_backlog_asks_the_slot_store_with_no_connection(
    flow: Flow, monkeypatch: pytest.MonkeyPatch
) -> None:
    queued = submit(flow.ctx, SMALL, [Feature.LABELS], "aws", [], "accurate", enqueue=no_tasks)
    watch = watch_io(flow, monkeypatch)
    assert startable(flow.ctx) == queued.job_ids
    assert watch.names() == {"slots.in_use"} and watch.held() == []


def no_tasks(video_id: str, job_ids: list[int]) -> None:
    """Submitted, not started: its jobs wait PENDING."""


@pytest.mark.parametrize("meanwhile", ["collected", "deleted"])
def test_a_job_that_moved_on_while_the_reconciler_asked_is_left_as_it_is(
    flow: Flow, monkeypatch: pytest.MonkeyPatch, meanwhile: str
) -> None:
    """Its notification's collect (or a forced delete) runs while Get* is answered: the
    reconciler records nothing over it and queues no collect."""
    job_id = lost_finished_job(flow)
    [job] = flow.jobs()
    watch = watch_io(flow, monkeypatch)
    if meanwhile == "collected":
        watch.on_call["GetLabelDetection"] = lambda: collect_job(flow.ctx, job_id)
    else:
        watch.on_call["GetLabelDetection"] = lambda: delete_video(
            flow.ctx, job.video_id, force=True, remote=True
        )
    report = reconcile(flow.ctx)
    assert (report.to_collect, report.failed, report.still_running) == ([], [], 0)
    if meanwhile == "collected":
        [after] = flow.jobs()
        assert (after.state, after.message) == (JobState.SUCCEEDED, None)
        assert flow.rows(job_id) == len(recorded(Feature.LABELS)["Labels"])
    else:
        assert flow.jobs() == [] and flow.rows() == 0
    assert watch.held() == []


@pytest.mark.parametrize(("path", "step"), [(SMALL, "upload"), (PRORES, "transcode")])
def test_a_video_deleted_while_it_is_staged_leaves_nothing(
    flow: Flow, path: Path, step: str
) -> None:
    """The delete finds nothing to remove yet; the transcode and the upload made after it
    are removed by the start itself, which records nothing and starts nothing."""
    sha = sha256_file(path)
    # a forced delete (the job is STARTING) of its S3 objects too
    rep = DeleteAtStep(flow.ctx, video_id_for(sha), step, force=True, remote=True)
    with reporting(rep):
        flow.submit(path)
    assert rep.deleted
    assert flow.jobs() == [] and flow.rows() == 0
    assert "StartLabelDetection" not in flow.fake.record()["calls"]
    listed = flow.ctx.aws.s3.list_objects_v2(Bucket=BUCKET)
    assert listed.get("Contents", []) == []
    assert not transcode_path(flow.ctx, sha).exists()
    slots = flow.ctx.slots("aws")
    assert slots is None or slots.in_use() == 0


@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
def test_the_api_sends_a_file_with_no_connection_held(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from worker.api import create_app

    video_id = submit(ctx, SMALL, [Feature.SEGMENTS], "local", [], "copy").video_id
    held: list[int] = []
    send = api_files.RangeFileResponse.__call__

    async def sending(self: Any, scope: Any, receive: Any, send_: Any) -> None:
        held.append(ctx.db.engine.pool.checkedout())  # type: ignore[attr-defined]
        await send(self, scope, receive, send_)

    monkeypatch.setattr(api_files.RangeFileResponse, "__call__", sending)
    with TestClient(create_app(ctx)) as client:
        answer = client.get(f"/videos/{video_id}/media")
    assert answer.status_code == 200 and answer.content == SMALL.read_bytes()
    assert held == [0]  # the route read the video, then its session ended before sending
