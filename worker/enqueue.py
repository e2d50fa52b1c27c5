"""The enqueue port: where the next pipeline step is sent.

Use cases (submit, `vidx run`'s wait, the poller's hand-off, the reconciler's follow-up)
say *what* should happen next through an `Enqueue`; the context chooses *how*
(`AppContext.enqueue`), so nothing above the tasks imports Celery:

- `CeleryEnqueue` sends each step as its Celery task, to the broker's queue; `check()`
  raises VidxError when the broker does not take a connection.
- `EagerEnqueue` is the in-process mode (no broker: `vidx run`, the embedded default):
  Celery's eager mode (`task_always_eager`, worker/celery_app.py) runs each sent task
  at once on the caller's thread, its arguments round-tripped through JSON as a broker
  would, and the tasks retry in-process (tasks.with_retries). Nothing to check.

`celery_enqueue()` picks the one matching the Celery app's configuration at the time of
the call, so `reconfigure()` (`vidx run` goes in-process; tests switch brokers) is
followed.
"""

from __future__ import annotations

from typing import Protocol


class Enqueue(Protocol):
    @property
    def in_process(self) -> bool:
        """True when a sent step runs at once, on the caller's thread."""
        ...

    def check(self) -> None:
        """Raise VidxError unless steps can be sent now (a broker that answers)."""
        ...

    def analyze(self, video_id: str, job_ids: list[int]) -> None: ...

    def start_job(self, job_id: int) -> None: ...

    def collect_job(self, job_id: int) -> None: ...

    def after_job(self, job_id: int) -> None:
        """A job ended: start what the backlog can, and the clips once the video is done."""
        ...

    def drain_backlog(self) -> None: ...


class CeleryEnqueue:
    """Each step as its Celery task, sent to the broker (worker/tasks.py)."""

    @property
    def in_process(self) -> bool:
        return False

    def check(self) -> None:
        from worker.celery_app import check_broker

        check_broker()

    def analyze(self, video_id: str, job_ids: list[int]) -> None:
        from worker.tasks import analyze

        analyze.delay(video_id, job_ids)

    def start_job(self, job_id: int) -> None:
        from worker.tasks import start_job

        start_job.delay(job_id)

    def collect_job(self, job_id: int) -> None:
        from worker.tasks import collect_job

        collect_job.delay(job_id)

    def after_job(self, job_id: int) -> None:
        from worker.tasks import after_job

        after_job(job_id)  # not a task: it sends the start and clip tasks itself

    def drain_backlog(self) -> None:
        from worker.tasks import drain_backlog

        drain_backlog.delay()


class EagerEnqueue(CeleryEnqueue):
    """No broker: the same tasks, run at once on this thread by Celery's eager mode."""

    @property
    def in_process(self) -> bool:
        return True

    def check(self) -> None:
        return None  # no broker to reach


def celery_enqueue() -> Enqueue:
    """The port for the Celery app as it is configured now: eager without a broker."""
    from worker.celery_app import app

    return EagerEnqueue() if app.conf.task_always_eager else CeleryEnqueue()
