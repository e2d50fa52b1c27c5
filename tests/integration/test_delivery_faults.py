"""At-least-once delivery, blips and drops on the Rekognition path (issue 10, items 1 and 3-6).

In-process on the fake AWS (tests/fake_aws.py), on SQLite and PostgreSQL, each case
arranged so that it is decided by what happened, not by timing: twin collects meet
through an engine wrapper that runs the twin between two pages, a Redis blip is a cut
TCP link to the real Redis (its data stays), a PostgreSQL drop is pg_terminate_backend
of the very connection a collect is writing on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import event, update

from models import AnalysisJob, JobState, utcnow
from tests.fake_aws import Flow, aws_flow
from tests.integration.test_rekognition_flow import (
    flow as flow,
)
from tests.integration.test_rekognition_flow import many_labels
from tests.integration.test_rekognition_flow import (
    sqlite_flow as sqlite_flow,
)
from tests.integration.test_rekognition_flow import (
    tiny_videos as tiny_videos,
)
from tests.tcp_proxy import TcpProxy
from worker.aws.limiter import RedisJobSlots
from worker.engines.port import Engine, Feature, JobRequest, Progress, ResultPage
from worker.engines.port import EngineJobReport as EngineState
from worker.pipeline.collect import collect_job
from worker.pipeline.reconcile import reconcile
from worker.pipeline.start import StartOutcome, slot_key, start_job

pytestmark = pytest.mark.integration

LABELS = 2500  # three Get* pages of at most 1000


class Interleaved:
    """The real engine, with `between_pages` run once after the first page of a collect."""

    def __init__(self, inner: Engine) -> None:
        self.inner = inner
        self.name, self.reads_s3 = inner.name, inner.reads_s3
        self.between_pages: Callable[[], None] | None = None
        self.fail_after_first_page: Exception | None = None

    def supports(self, feature: Feature) -> bool:
        return self.inner.supports(feature)

    def start(self, request: JobRequest, progress: Progress | None = None) -> str:
        return self.inner.start(request, progress)

    def state(self, feature: Feature, job_id: str) -> EngineState:
        return self.inner.state(feature, job_id)

    def pages(self, feature: Feature, job_id: str, max_results: int = 1000) -> Iterator[ResultPage]:
        for n, page in enumerate(self.inner.pages(feature, job_id, max_results)):
            yield page
            if n == 0 and self.between_pages is not None:
                hook, self.between_pages = self.between_pages, None
                hook()
                if self.fail_after_first_page is not None:
                    raise self.fail_after_first_page


def finished_labels_job(flow: Flow, video: Path, n: int = LABELS) -> int:
    """A labels job whose n planted labels are ready at the fake (not yet collected)."""
    flow.fake.configure(auto_complete=False)
    flow.plant(Feature.LABELS, video, many_labels(n))
    done = flow.submit(video)
    flow.finish_running()
    [job] = flow.jobs(done.video_id)
    return job.id


def assert_collected_once(flow: Flow, job_id: int, items: int) -> None:
    """SUCCEEDED with no message, each of the `items` detections stored once."""
    job = the_job(flow, job_id)
    assert (job.state, job.message, job.items_collected) == (JobState.SUCCEEDED, None, items)
    assert flow.rows(job_id) == items


def wrap_engine(flow: Flow) -> Interleaved:
    wrapped = Interleaved(flow.ctx.engine("aws"))
    flow.ctx._engines["aws"] = wrapped
    return wrapped


def the_job(flow: Flow, job_id: int) -> AnalysisJob:
    return next(j for j in flow.jobs() if j.id == job_id)


# --- item 1: duplicate notifications, twin collects -----------------------------------


def test_a_twin_collect_changes_nothing(flow: Flow, tiny_videos: list[Path]) -> None:
    job_id = finished_labels_job(flow, tiny_videos[0])
    engine = wrap_engine(flow)
    twin: list[JobState] = []
    engine.between_pages = lambda: twin.append(collect_job(flow.ctx, job_id, owner="twin"))
    assert collect_job(flow.ctx, job_id, owner="first") is JobState.SUCCEEDED
    assert twin == [JobState.COLLECTING]  # it found the job taken and stopped
    assert_collected_once(flow, job_id, LABELS)


def test_a_failing_run_never_removes_what_another_run_wrote(
    flow: Flow,
    tiny_videos: list[Path],
) -> None:
    """The first collect stalls past its lease; a second takes the job over and finishes
    it; then the first fails (here: the engine errors on its next page). Before leases,
    its failure handler cleared every row: SUCCEEDED with 0 detections."""
    job_id = finished_labels_job(flow, tiny_videos[1])
    engine = wrap_engine(flow)

    def stall_then_twin() -> None:
        with flow.ctx.db.session() as s:  # the first run's lease runs out while it stalls
            s.execute(
                update(AnalysisJob)
                .where(AnalysisJob.id == job_id)
                .values(lease_until=utcnow() - timedelta(seconds=1))
            )
        assert collect_job(flow.ctx, job_id, owner="second") is JobState.SUCCEEDED

    engine.between_pages = stall_then_twin
    engine.fail_after_first_page = RuntimeError("the first run's page fetch blew up")
    with pytest.raises(RuntimeError):
        collect_job(flow.ctx, job_id, owner="first")
    assert_collected_once(flow, job_id, LABELS)


def test_twin_collects_at_the_same_moment_store_each_detection_once(
    flow: Flow,
    tiny_videos: list[Path],
) -> None:
    """Two threads run the collect task of one job at once, as two pool processes do with
    a notification delivered twice. On PostgreSQL the loser used to hit
    uq_detections_item, and its failure handler wiped the winner's rows."""
    from worker import tasks

    for video in tiny_videos[2:6]:
        job_id = finished_labels_job(flow, video, 2100)
        gate = threading.Barrier(2)
        errors: list[BaseException] = []

        def run(
            job_id: int = job_id,
            gate: threading.Barrier = gate,
            errors: list[BaseException] = errors,
        ) -> None:
            gate.wait()
            try:
                tasks.collect_job.apply(args=[job_id])
            except Exception as exc:  # recorded: the assertion below shows it
                errors.append(exc)

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert errors == []
        assert_collected_once(flow, job_id, 2100)


# --- item 6: a notification while Get* still says IN_PROGRESS -------------------------


def test_a_notification_ahead_of_get_leaves_the_job_in_flight(
    flow: Flow,
    tiny_videos: list[Path],
) -> None:
    flow.fake.configure(auto_complete=False)
    flow.plant(Feature.LABELS, tiny_videos[6], many_labels(30))
    done = flow.submit(tiny_videos[6])
    [running] = [j.job_id for j in flow.fake.jobs if j.status == "IN_PROGRESS"]
    flow.fake.announce(running)  # SNS says SUCCEEDED, Get* still says IN_PROGRESS
    assert flow.poll().handled == 1
    [job] = flow.jobs(done.video_id)
    assert job.state == JobState.IN_PROGRESS, job.message  # not FAILED for good
    assert "still reports the job IN_PROGRESS" in (job.message or "")
    assert flow.rows(job.id) == 0
    # the real completion 60 s later is collected, not ignored as "late or repeated"
    flow.finish_running()
    assert flow.poll().handled == 1
    [job] = flow.jobs(done.video_id)
    assert (job.state, job.items_collected) == (JobState.SUCCEEDED, 30)


# --- item 4: a throttled status check right after Start* ------------------------------


def test_a_started_job_keeps_its_slot_when_the_status_check_is_throttled(
    flow: Flow,
    tiny_videos: list[Path],
) -> None:
    from worker.pipeline import ingest, jobs

    flow.fake.configure(auto_complete=False)
    inspected = ingest.inspect(tiny_videos[7])
    with flow.ctx.db.session() as s:
        video_id = ingest.register(s, inspected, ["labels"], [], "accurate").id
    (job_id,) = jobs.create_jobs(flow.ctx, video_id, [Feature.LABELS], "aws")
    flow.fake.fail_next("GetLabelDetection", "ThrottlingException")
    assert start_job(flow.ctx, job_id) is StartOutcome.WAITING
    assert flow.fake.in_flight == 1
    slots = flow.ctx.job_slots()
    assert slot_key(job_id) in slots.holders()  # counted while Rekognition runs it
    assert the_job(flow, job_id).state == JobState.IN_PROGRESS


# --- item 3: a Redis blip while releasing a slot --------------------------------------


@pytest.fixture
def redis_via_proxy() -> Iterator[tuple[TcpProxy, redis.Redis]]:
    proxy = TcpProxy("127.0.0.1", 6379)
    # no client-side retries: a cut link fails each call at once (the pipeline retries)
    client = redis.Redis(
        host="127.0.0.1", port=proxy.port, db=13, socket_timeout=5, retry=Retry(NoBackoff(), 0)
    )
    name = f"vidx-test:slots:{proxy.port}"
    client.delete(name)
    try:
        yield proxy, client
    finally:
        proxy.up()
        client.delete(name)
        client.close()
        proxy.close()


def one_slot_two_videos(
    flow: Flow, proxy: TcpProxy, client: redis.Redis, videos: list[Path]
) -> tuple[RedisJobSlots, str, str]:
    """Slots in the real Redis through `proxy`, limit 1; the first video's labels job
    finished at the fake (not collected), the second's waiting in the backlog."""
    slots = RedisJobSlots(client, 1, 3600, name=f"vidx-test:slots:{proxy.port}")
    flow.ctx._slots = slots
    flow.fake.configure(auto_complete=False)
    for video in videos:
        flow.plant(Feature.LABELS, video, many_labels(5))
    one, two = (flow.submit(video).video_id for video in videos)
    assert flow.states() == ["IN_PROGRESS", "PENDING"]  # limit 1: the second waits
    flow.finish_running()
    return slots, one, two


def test_a_slot_release_lost_to_a_redis_blip_is_retried_and_reconciled(
    sqlite_flow: Flow,
    tiny_videos: list[Path],
    redis_via_proxy: tuple[TcpProxy, redis.Redis],
) -> None:
    flow, (proxy, client) = sqlite_flow, redis_via_proxy
    slots, one, two = one_slot_two_videos(flow, proxy, client, tiny_videos[8:10])

    with proxy.cut():  # the collect stores SUCCEEDED; its release cannot reach Redis
        stats = flow.poll()
    assert stats.failed == 1  # the hand-off raised: the message stays on the queue
    [job] = flow.jobs(one)
    assert job.state == JobState.SUCCEEDED and flow.rows(job.id) == 5
    assert slots.in_use() == 1  # leaked, for now

    # the task's retry (on a broker: Celery runs collect_job again after its backoff)
    # finds the job SUCCEEDED and repeats the release; the backlog then moves on
    from worker import tasks

    tasks.collect_job.apply(args=[job.id])
    assert slot_key(job.id) not in slots.holders()
    assert flow.states(two) == ["IN_PROGRESS"]


def test_the_reconciler_frees_slots_of_jobs_no_longer_in_flight(
    sqlite_flow: Flow,
    tiny_videos: list[Path],
    redis_via_proxy: tuple[TcpProxy, redis.Redis],
) -> None:
    flow, (proxy, client) = sqlite_flow, redis_via_proxy
    slots, one, _ = one_slot_two_videos(flow, proxy, client, tiny_videos[10:12])
    # the release was lost and nothing retried it (e.g. the worker died after the collect)
    with proxy.cut():
        flow.poll()
    _drop_queue(flow)
    [job] = flow.jobs(one)
    assert job.state == JobState.SUCCEEDED and slots.holders().keys() == {slot_key(job.id)}

    report = reconcile(flow.ctx)
    assert report.slots_freed == 1 and slots.in_use() == 0
    from worker.tasks import drain_backlog

    assert drain_backlog.delay().get() == 1  # the waiting job starts now, not in an hour
    assert sorted(flow.states()) == ["IN_PROGRESS", "SUCCEEDED"]


def test_the_reconciler_keeps_a_slot_taken_again_meanwhile(
    redis_via_proxy: tuple[TcpProxy, redis.Redis],
) -> None:
    """Compare-and-release: a lease renewed after the reconciler read it is not freed."""
    proxy, client = redis_via_proxy
    slots = RedisJobSlots(client, 2, 3600, name=f"vidx-test:slots:{proxy.port}")
    assert slots.acquire("job:1")
    seen = slots.holders()
    assert slots.acquire("job:1")  # the job was claimed and started again
    assert not slots.release_if("job:1", seen["job:1"])
    assert slots.release_if("job:1", slots.holders()["job:1"])
    assert slots.in_use() == 0


def _drop_queue(flow: Flow) -> None:
    flow.ctx.aws.sqs.purge_queue(QueueUrl=flow.prov.queue_url)


# --- item 5: a PostgreSQL connection drop in the middle of a collect ------------------


def test_a_dropped_database_connection_is_retried_not_a_failed_job(
    pg_url: str,
    aws_env: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    tiny_videos: list[Path],
) -> None:
    from worker import tasks

    with aws_flow(monkeypatch, tmp_path / "data", pg_url) as flow:
        job_id = finished_labels_job(flow, tiny_videos[12])
        killed: list[int] = []

        def kill_mid_page(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
            # the second page's write: terminate this very backend from another session
            page_write = "DELETE FROM detections" in statement and "page_index" in statement
            if page_write and not killed and _page_param(_) == 1:
                pid = conn.connection.dbapi_connection.info.backend_pid
                with psycopg.connect(_plain(pg_url), autocommit=True) as admin:
                    admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
                killed.append(pid)

        event.listen(flow.ctx.db.engine, "before_cursor_execute", kill_mid_page)
        try:
            tasks.collect_job.delay(job_id)
        finally:
            event.remove(flow.ctx.db.engine, "before_cursor_execute", kill_mid_page)
        assert killed, "the fault was not injected"
        assert_collected_once(flow, job_id, LABELS)


def _page_param(rest: tuple[Any, ...]) -> Any:
    params = rest[0] if rest else None
    if isinstance(params, dict):
        return next((v for k, v in params.items() if "page_index" in k), None)
    if isinstance(params, (list, tuple)) and len(params) >= 2:
        return params[1]
    return None


def _plain(url: str) -> str:
    """A libpq URL (no SQLAlchemy driver suffix, no search_path options)."""
    return url.replace("postgresql+psycopg://", "postgresql://").split("?", 1)[0]
