"""FakeRekognition: the jobs, faults and record of one account and region.

The fake lives on moto's own Rekognition backend object, so moto's reset (entering
`mock_aws`, or POST /moto-api/reset on the server) starts every test from a clean
fake; timers of a reset fake see they are orphaned and do nothing.
"""

from __future__ import annotations

import copy
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.rekognition.models import rekognition_backends

from worker.engines.port import Feature
from worker.errors import VidxError
from worker.testing import rekognition_validate as validate
from worker.testing.rekognition_api import (
    BY_FEATURE,
    BY_GET,
    BY_START,
    VideoOp,
    feature_of,
)
from worker.testing.rekognition_faults import Faults, NotificationFault
from worker.testing.rekognition_jobs import DEFAULTS, FAILED, IN_PROGRESS, SUCCEEDED, Job
from worker.testing.rekognition_notify import deliver, message, publish
from worker.testing.rekognition_results import computed_response, planted_response, s3_key
from worker.testing.rekognition_table import JobTable

DEFAULT_ACCOUNT = "123456789012"  # moto's default account
_ATTR = "_vidx_fake"
_create_lock = threading.Lock()
Planted = Mapping[str, Any] | Sequence[Mapping[str, Any]]


def fake_rekognition(
    account_id: str = DEFAULT_ACCOUNT, region: str = "us-east-1"
) -> FakeRekognition:
    """The fake of one account and region (made on first use, gone at moto's reset)."""
    backend = rekognition_backends[account_id][region]
    with _create_lock:
        fake = backend.__dict__.get(_ATTR)
        if not isinstance(fake, FakeRekognition):
            fake = FakeRekognition(account_id, region)
            backend.__dict__[_ATTR] = fake
    return fake


class FakeRekognition:
    def __init__(self, account_id: str, region: str) -> None:
        self.account_id, self.region = account_id, region
        self.complete_after_s = DEFAULTS.complete_after_s
        self.auto_complete = DEFAULTS.auto_complete
        self.job_limit = DEFAULTS.job_limit
        self.faults = Faults()
        # the error faults are the Faults' own methods, under the same names as FakeControl's
        self.fail_next = self.faults.fail_next
        self.throttle_ratio = self.faults.throttle_ratio
        self.calls: Counter[str] = Counter()
        self.errors: dict[str, Counter[str]] = {}
        self.notifications: list[dict[str, Any]] = []
        self._table = JobTable()
        self._lock = self._table.lock  # one lock for the table and the record
        self._closed = False

    # --- set-up by tests -------------------------------------------------------------
    def configure(self, **settings: Any) -> None:
        """complete_after_s (float), auto_complete (bool), job_limit (int, None: none)."""
        for name, value in settings.items():
            if name not in ("complete_after_s", "auto_complete", "job_limit"):
                raise ValueError(f"unknown setting {name!r}")
            setattr(self, name, value)

    def plant(self, target: str | tuple[str | Feature, str], response: Planted) -> None:
        """Results for a job id, or for (feature, S3 key) jobs started from now on.
        `response` is a complete Get* response or the recorded pages of one."""
        if isinstance(target, str):
            self._table.plant_job(target, planted_response(self._job(target).op, response))
            return
        feature, key = target
        op = BY_FEATURE[feature_of(feature)]
        self._table.plant_object(op.feature, key, planted_response(op, response))

    def notification_fault(
        self, job_id: str | None = None, *, next_jobs: int = 1, **fault: Any
    ) -> None:
        """drop / duplicate=N / delay_s=S / early / fail="message", for one existing job
        (not finished yet) or for the next `next_jobs` jobs started."""
        spec = NotificationFault(**fault)
        if job_id is None:
            self.faults.notify_next_jobs(spec, next_jobs)
            return
        with self._lock:
            job = self._job(job_id)
            if job.status != IN_PROGRESS:
                raise ValueError(f"job {job_id} has already finished")
            job.fault = spec

    def clear_faults(self) -> None:
        """Forget pending fail_next errors, the throttle ratio and queued notification
        faults (faults already attached to jobs stay)."""
        self.faults.clear()

    # --- driving jobs ----------------------------------------------------------------
    def finish(
        self,
        job_id: str,
        status: str = SUCCEEDED,
        message: str | None = None,
        notification_status: str | None = None,
    ) -> None:
        """Complete an IN_PROGRESS job now (manual mode, or ahead of its timer)."""
        if status not in (SUCCEEDED, FAILED):
            raise ValueError(f"status must be SUCCEEDED or FAILED, got {status!r}")
        with self._lock:
            job = self._job(job_id)
            if job.status != IN_PROGRESS or job.finishing:
                raise ValueError(f"job {job_id} has already finished")
            job.notification_status = notification_status
        job.cancel_timers()
        self._complete(job, status, message)

    def renotify(self, job_id: str) -> None:
        """Publish a finished job's notification once more (a late duplicate)."""
        with self._lock:
            job = self._job(job_id)
            if job.status == IN_PROGRESS:
                raise ValueError(f"job {job_id} has not finished")
        self._send(job, copies=1)

    def announce(self, job_id: str, status: str = SUCCEEDED) -> None:
        """Publish a completion notification for a job Get* still reports IN_PROGRESS: an
        early or stray notification, as when SNS is ahead of an eventually consistent Get*."""
        with self._lock:
            job = self._job(job_id)
            if job.status != IN_PROGRESS:
                raise ValueError(f"job {job_id} has already finished")
            if job.topic_arn is None or not self._alive():
                return
            text = message(job.job_id, status, job.op.start, job.params, int(time.time() * 1000))
        failure = publish(job.topic_arn, text)
        self._log(job, "announced" if failure is None else f"undeliverable: {failure}", text)

    def expire(self, job_id: str) -> None:
        """Forget a job as the service does after 7 days: Get* -> ResourceNotFound, and
        its ClientRequestToken starts a new job again."""
        self._table.expire(job_id).cancel_timers()

    def expire_tokens(self, job_id: str | None = None) -> None:
        """Make the NextTokens handed out so far stale (InvalidPaginationToken)."""
        self._table.expire_tokens(job_id)

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait for pending completion and delayed-notification timers."""
        deadline = time.monotonic() + timeout
        while True:
            timers = [t for j in self._table.all() for t in j.timers if t.is_alive()]
            if not timers:
                return
            timers[0].join(max(0.0, deadline - time.monotonic()))
            if time.monotonic() >= deadline:
                raise TimeoutError("fake Rekognition timers still pending")

    def close(self) -> None:
        self._closed = True
        for job in self._table.all():
            job.cancel_timers()

    # --- the record ------------------------------------------------------------------
    @property
    def in_flight(self) -> int:
        return self._table.in_flight

    @property
    def max_in_flight(self) -> int:
        return self._table.max_in_flight

    @property
    def jobs(self) -> list[Job]:
        return self._table.all()

    def record(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(
                {
                    "account_id": self.account_id,
                    "region": self.region,
                    "max_in_flight": self.max_in_flight,
                    "in_flight": self.in_flight,
                    "calls": dict(self.calls),
                    "errors": {op: dict(c) for op, c in self.errors.items()},
                    "jobs": [job.view() for job in self._table.all()],
                    "notifications": self.notifications,
                }
            )

    # --- the operations --------------------------------------------------------------
    def handle(self, operation: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Serve one call of the ten operations (the Response methods land here)."""
        with self._lock:
            self.calls[operation] += 1
        try:
            error = self.faults.error_for(operation)
            if error is not None:
                raise error
            if operation in BY_START:
                return self._start(BY_START[operation], body)
            return self._get(BY_GET[operation], body)
        except JsonRESTError as exc:
            with self._lock:
                self.errors.setdefault(operation, Counter())[exc.error_type] += 1
            raise

    def _start(self, op: VideoOp, body: Mapping[str, Any]) -> dict[str, Any]:
        validate.start_request(op, body)
        s3_key(self.account_id, self.region, body["Video"]["S3Object"])
        job = self._table.create(op, body, self.job_limit, self.faults.take_notification_fault)
        if isinstance(job, str):  # the same request again: the job it started
            return {"JobId": job}
        self._schedule(job)
        return {"JobId": job.job_id}

    def _get(self, op: VideoOp, body: Mapping[str, Any]) -> dict[str, Any]:
        job_id, max_results, token = validate.get_request(op, body)
        response = self._table.page(op, job_id, max_results, token)
        if op.get in ("GetLabelDetection", "GetContentModeration"):
            # newer responses echo how the items were asked for (planted items are served
            # in their planted order and aggregation whatever is asked)
            response["GetRequestMetadata"] = {
                "SortBy": body.get("SortBy", "TIMESTAMP"),
                "AggregateBy": body.get("AggregateBy", "TIMESTAMPS"),
            }
        return response

    # --- completion ------------------------------------------------------------------
    def _schedule(self, job: Job) -> None:
        if job.fault.early:
            self._complete(job, early=True)
        elif not self.auto_complete:
            return
        elif self.complete_after_s <= 0:
            self._complete(job)
        else:
            self._timer(job, self.complete_after_s, self._complete, job)

    def _timer(self, job: Job, delay: float, fn: Any, *args: Any) -> None:
        timer = threading.Timer(delay, fn, args)
        timer.daemon = True  # a forgotten job must not keep the test process alive
        job.timers.append(timer)
        timer.start()

    def _alive(self) -> bool:
        backend = rekognition_backends[self.account_id][self.region]
        return not self._closed and backend.__dict__.get(_ATTR) is self

    def _complete(
        self, job: Job, status: str = SUCCEEDED, text: str | None = None, early: bool = False
    ) -> None:
        with self._lock:
            if job.finishing or not self._alive():
                return
            job.finishing = True
        if job.fault.fail is not None:
            status, text = FAILED, job.fault.fail
        if status == SUCCEEDED and job.result is None:
            try:  # outside the lock: decoding a video takes a while
                job.result = computed_response(job.op, job.params, self.account_id, self.region)
                job.result_source = "computed"
            except (VidxError, JsonRESTError) as exc:
                status, text = FAILED, str(getattr(exc, "message", exc))
        with self._lock:
            job.status, job.status_message, job.finished_s = status, text, time.time()
        if job.fault.drop:
            self._log(job, "dropped")
        elif job.fault.delay_s > 0:
            copies = 1 + job.fault.duplicate
            self._timer(job, job.fault.delay_s, self._send, job, copies)
        else:
            deliver(lambda: self._send(job, 1 + job.fault.duplicate), early=early)

    def _send(self, job: Job, copies: int) -> None:
        if job.topic_arn is None or not self._alive():
            return
        status = job.notification_status or job.status
        finished_ms = int((job.finished_s or time.time()) * 1000)
        text = message(job.job_id, status, job.op.start, job.params, finished_ms)
        for _ in range(copies):
            failure = publish(job.topic_arn, text)
            self._log(job, "published" if failure is None else f"undeliverable: {failure}", text)

    def _log(self, job: Job, delivery: str, text: str | None = None) -> None:
        with self._lock:
            self.notifications.append(
                {"JobId": job.job_id, "Delivery": delivery, "Message": text, "At": time.time()}
            )

    def _job(self, job_id: str) -> Job:
        try:
            return self._table.job(job_id)
        except ValueError:
            raise ValueError(f"no job {job_id!r} in {self.account_id}/{self.region}") from None
