"""Faults vidx already survives, with real processes (issue 10, "what held").

One stack for the module (tests/reliability/stack.py): the fake AWS, a private Redis,
a PostgreSQL schema, `vidx worker --concurrency 2`, `vidx poll`, `vidx beat`, at most
3 jobs in flight. Each test submits fresh videos with planted results, injects one
fault, and checks what was recorded: every video INDEXED, per job exactly the items the
fake's Get* served stored once (no loss, no duplicates), never more jobs running at the
fake than the limit, no job started twice.

beat runs the reconciler every 5 s here (VIDX_RECONCILE_EVERY_S; 60 s by default) and
the poller hides a notification whose hand-off failed for 2 s (VIDX_SQS_RETRY_S; 30 s),
so recoveries take seconds, not minutes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

import pytest

from tests.reliability.stack import Outcome, Stack, StackOptions, VideoFactory

pytestmark = pytest.mark.integration

LIMIT = 3
STACK_OPTIONS = StackOptions(limit=LIMIT, job_seconds=1.0, reconcile_after_s=5, label="held")
FEATURES = ("segments", "labels")
LABELS = 1500  # two Get* pages of labels per video (1000 a page)
COLLECT_KILLED = 20_000  # 20 pages: a collect long enough to be killed half-way
RECONCILED_S = 90  # collect lease 10 s + reconcile_after_s + a worker restart, with margin


@pytest.fixture(autouse=True)
def no_faults(stack: Stack) -> Iterator[None]:
    stack.fake.clear_faults()
    yield
    stack.fake.clear_faults()


def submit_planted(
    stack: Stack,
    videos: VideoFactory,
    n: int,
    labels: int = LABELS,
    features: Sequence[str] = FEATURES,
) -> list[str]:
    ids = []
    for video in videos.make(n):
        stack.plant_labels(video, labels, videos.duration_ms)
        ids.append(stack.submit(video, features)[0])
    return ids


def assert_held(stack: Stack, ids: list[str], timeout_s: float = 90) -> Outcome:
    statuses = stack.wait_done(ids, timeout_s)
    got = stack.outcome(ids)
    assert got.failed == {}, got.failed
    assert set(statuses.values()) == {"INDEXED"}, statuses
    cli = stack.cli_statuses()
    assert {v: cli[v] for v in ids} == statuses  # vidx status says the same
    assert all(n is not None for n in got.served.values()), got.served
    assert got.wrong_counts() == {}, "job: (stored, served)"
    assert got.duplicate_rows() == 0
    assert got.max_in_flight <= LIMIT, got.max_in_flight
    assert got.twice_started() == 0, got.fake_jobs_started
    return got


def assert_quiet(stack: Stack, ids: list[str], before: Outcome) -> None:
    """Every notification handled and nothing changed since `before`."""
    stack.wait_until(lambda: stack.queue_depth() == 0, 60, "notifications handled")
    after = stack.outcome(ids)
    assert (after.rows, after.statuses) == (before.rows, before.statuses)


def test_worker_sigkilled_mid_collect_then_restarted(stack: Stack, videos: VideoFactory) -> None:
    """The collector dies with part of the pages stored; once its lease lapses beat's
    reconciler has the job collected again (idempotently) by the restarted worker."""
    [video_id] = submit_planted(stack, videos, 1, labels=COLLECT_KILLED, features=["labels"])

    def mid_collect() -> bool:
        [job] = stack.jobs([video_id])
        rows, _ = stack.detection_counts()
        return job.state == "COLLECTING" and rows.get(job.id, 0) > 0

    stack.wait_until(mid_collect, 60, "collecting", every_s=0.05)
    stack.kill_worker()
    [job] = stack.jobs([video_id])
    rows, _ = stack.detection_counts()
    assert job.state == "COLLECTING" and 0 < rows[job.id] < COLLECT_KILLED, (job, rows)
    stack.start_worker()
    assert_held(stack, [video_id], RECONCILED_S)


def test_dropped_notifications_found_by_the_reconciler(stack: Stack, videos: VideoFactory) -> None:
    """beat's reconciler asks Get* about jobs nobody told vidx about."""
    stack.fake.notification_fault(drop=True, next_jobs=len(FEATURES))
    ids = submit_planted(stack, videos, 1)
    done = assert_held(stack, ids, RECONCILED_S)
    record = stack.fake.record()
    engine_ids = {j.engine_job_id for j in done.jobs}
    deliveries = [n["Delivery"] for n in record["notifications"] if n["JobId"] in engine_ids]
    assert deliveries == ["dropped"] * len(FEATURES)


def test_redis_restart_while_jobs_run(stack: Stack, videos: VideoFactory) -> None:
    """Broker and slot store gone for 5 s (SIGKILL, append-only file kept) while jobs
    are in flight: the processes reconnect and every video is indexed."""
    # the fake's jobs wait to be told to finish, so the outage surely meets them in flight
    # (with 1 s jobs a loaded machine could see them done before it looked); at most LIMIT
    # run, the rest wait in the backlog until these finish
    stack.fake.configure(auto_complete=False)
    try:
        ids = submit_planted(stack, videos, 3)
        stack.wait_until(lambda: stack.states(ids)["IN_PROGRESS"] == LIMIT, 60, "jobs in flight")
        stack.redis_outage(5)
    finally:
        stack.fake.configure(auto_complete=True)  # jobs started from now on finish alone
    for job in stack.jobs(ids):
        if job.state == "IN_PROGRESS":
            assert job.engine_job_id is not None
            stack.fake.finish(job.engine_job_id)
    assert_held(stack, ids, RECONCILED_S)
    assert stack.alive() == {"aws": None, "worker": None, "poll": None, "beat": None}


def test_late_notifications(stack: Stack, videos: VideoFactory) -> None:
    """Notifications 4 s after the jobs finished, and again long after they were
    collected: the late ones change nothing."""
    stack.fake.notification_fault(delay_s=4, next_jobs=2 * len(FEATURES))
    ids = submit_planted(stack, videos, 2)
    done = assert_held(stack, ids)
    for job in done.jobs:
        assert job.engine_job_id is not None
        stack.fake.renotify(job.engine_job_id)
    assert_quiet(stack, ids, done)


def test_early_notifications(stack: Stack, videos: VideoFactory) -> None:
    """Jobs that finish and notify before Start* has returned their JobId."""
    stack.fake.notification_fault(early=True, next_jobs=2 * len(FEATURES))
    ids = submit_planted(stack, videos, 2)
    done = assert_held(stack, ids)
    assert_quiet(stack, ids, done)


def test_throttling_30_percent(stack: Stack, videos: VideoFactory) -> None:
    """Three in ten Start*/Get* calls refused with ThrottlingException."""
    calls_before = stack.fake.record()["errors"]
    stack.fake.throttle_ratio(0.3, seed=10)
    started = time.monotonic()
    ids = submit_planted(stack, videos, 3)
    assert_held(stack, ids, 120)
    errors = stack.fake.record()["errors"]
    throttled = sum(e.get("ThrottlingException", 0) for e in errors.values()) - sum(
        e.get("ThrottlingException", 0) for e in calls_before.values()
    )
    assert throttled >= 3, (errors, time.monotonic() - started)
