"""The enqueue port: which implementation the context hands out, and what a reconcile
report is turned into (the one dispatcher the `reconcile` task and `vidx run` share)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import make_context
from worker.celery_app import app as celery_app
from worker.celery_app import reconfigure
from worker.context import AppContext, use_context
from worker.enqueue import CeleryEnqueue, EagerEnqueue, Enqueue
from worker.errors import VidxError
from worker.pipeline.reconcile import ReconcileReport, follow_up

NOBODY = "redis://127.0.0.1:1/0"  # nothing listens there


@dataclass
class Recorded:
    """An Enqueue that keeps what it was sent, in order."""

    sent: list[tuple[str, object]] = field(default_factory=list)
    in_process: bool = True

    def check(self) -> None:
        self.sent.append(("check", None))

    def analyze(self, video_id: str, job_ids: list[int]) -> None:
        self.sent.append(("analyze", (video_id, job_ids)))

    def start_job(self, job_id: int) -> None:
        self.sent.append(("start_job", job_id))

    def collect_job(self, job_id: int) -> None:
        self.sent.append(("collect_job", job_id))

    def after_job(self, job_id: int) -> None:
        self.sent.append(("after_job", job_id))

    def drain_backlog(self) -> None:
        self.sent.append(("drain_backlog", None))


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[AppContext]:
    context = make_context(tmp_path)
    with use_context(context):
        _ = celery_app.conf.task_serializer  # configured (eager) before any reconfigure
        try:
            yield context
        finally:
            reconfigure(None)


def test_recorded_is_an_enqueue() -> None:
    port: Enqueue = Recorded()  # (mypy checks the protocol here)
    assert port.in_process


def test_follow_up_collects_ends_failed_jobs_then_drains_the_backlog() -> None:
    port = Recorded()
    report = ReconcileReport(to_collect=[3, 1], failed=[7], still_running=2, requeued=1)
    follow_up(report, port)
    assert port.sent == [
        ("collect_job", 3),
        ("collect_job", 1),
        ("after_job", 7),
        ("drain_backlog", None),
    ]


def test_follow_up_of_a_quiet_run_still_drains_the_backlog() -> None:
    # a slot freed by the run (a lost release) lets a waiting job start
    port = Recorded()
    follow_up(ReconcileReport(slots_freed=1), port)
    assert port.sent == [("drain_backlog", None)]


def test_without_a_broker_the_context_runs_steps_in_process(ctx: AppContext) -> None:
    reconfigure(None)
    port = ctx.enqueue
    assert isinstance(port, EagerEnqueue) and port.in_process
    port.check()  # nothing to reach: never raises


def test_with_a_broker_the_context_sends_tasks_and_checks_the_broker(ctx: AppContext) -> None:
    reconfigure(NOBODY)
    port = ctx.enqueue
    assert type(port) is CeleryEnqueue and not port.in_process
    with pytest.raises(VidxError, match=r"cannot reach the broker at redis://.*127\.0\.0\.1:1"):
        port.check()


def test_the_context_follows_a_reconfigure_made_after_it_was_built(ctx: AppContext) -> None:
    reconfigure(NOBODY)
    assert not ctx.enqueue.in_process
    reconfigure(None)  # `vidx run`: in-process whatever the settings say
    assert ctx.enqueue.in_process


def test_a_port_given_to_the_context_is_the_one_used(tmp_path: Path) -> None:
    port = Recorded()
    context = AppContext(make_context(tmp_path).settings, _enqueue=port)
    assert context.enqueue is port
