"""The jobs of one fake: ids, ClientRequestTokens, planted results and paging.

Everything here happens under one lock and never waits on I/O, so the threaded moto
server can call in from many requests and timers at once.
"""

from __future__ import annotations

import copy
import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from worker.engines.port import Feature
from worker.testing.rekognition_api import VideoOp, service_error
from worker.testing.rekognition_faults import NotificationFault
from worker.testing.rekognition_jobs import IN_PROGRESS, SUCCEEDED, Job
from worker.testing.rekognition_results import cut_page


class JobTable:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.max_in_flight = 0
        self._jobs: dict[str, Job] = {}
        self._tokens: dict[str, tuple[str, str]] = {}  # ClientRequestToken -> (request, JobId)
        self._planted: dict[tuple[Feature, str], dict[str, Any]] = {}

    @property
    def in_flight(self) -> int:
        with self.lock:
            return sum(job.status == IN_PROGRESS for job in self._jobs.values())

    def all(self) -> list[Job]:
        with self.lock:
            return list(self._jobs.values())

    def job(self, job_id: str) -> Job:
        with self.lock:
            try:
                return self._jobs[job_id]
            except KeyError:
                raise ValueError(f"no job {job_id!r}") from None

    def create(
        self,
        op: VideoOp,
        body: Mapping[str, Any],
        job_limit: int | None,
        fault: Callable[[], NotificationFault],
    ) -> Job | str:
        """A new job, or the JobId an earlier request with the same token started."""
        params = json.loads(json.dumps(body))  # a private copy, JSON values only
        token = params.pop("ClientRequestToken", None)
        request = json.dumps([op.start, params], sort_keys=True)
        with self.lock:
            if token is not None and token in self._tokens:
                seen, job_id = self._tokens[token]
                if seen != request:
                    raise service_error(
                        "IdempotentParameterMismatchException",
                        f"ClientRequestToken {token} was used with different parameters",
                    )
                return job_id
            if job_limit is not None and self.in_flight >= job_limit:
                raise service_error(
                    "LimitExceededException",
                    f"{self.in_flight} jobs in progress: the limit is {job_limit}",
                )
            # 64 hex characters, like the service's job ids
            job = Job(secrets.token_hex(32), op, params, fault(), time.time())
            planted = self._planted.get((op.feature, job.s3_object["Name"]))
            if planted is not None:
                job.result, job.result_source = copy.deepcopy(planted), "planted"
            self._jobs[job.job_id] = job
            if token is not None:
                self._tokens[token] = (request, job.job_id)
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            return job

    def plant_job(self, job_id: str, whole: dict[str, Any]) -> None:
        with self.lock:
            job = self.job(job_id)
            job.result, job.result_source = whole, "planted"
            job.tokens.clear()  # tokens into the old results are stale now

    def plant_object(self, feature: Feature, key: str, whole: dict[str, Any]) -> None:
        with self.lock:
            self._planted[(feature, key)] = whole

    def page(self, op: VideoOp, job_id: str, max_results: int, token: str | None) -> dict[str, Any]:
        """The Get* response for one page (or the job's state while it has no results)."""
        with self.lock:
            job = self._jobs.get(job_id)
            if job is None or job.op is not op:
                raise service_error(
                    "ResourceNotFoundException", f"{op.start} job {job_id} not found"
                )
            if job.status != SUCCEEDED or job.result is None:
                return {**job.head(), **job.tail()}
            offset = 0
            if token is not None:
                if token not in job.tokens:
                    raise service_error(
                        "InvalidPaginationTokenException", "Invalid pagination token"
                    )
                offset = job.tokens[token]
            page, next_offset = cut_page(job.result, op.items_key, offset, max_results)
            if next_offset is not None:
                # opaque, like the service's; the table remembers where it points
                next_token = secrets.token_urlsafe(48)
                job.tokens[next_token] = next_offset
                page["NextToken"] = next_token
            return {**job.head(), **page, **job.tail()}

    def expire(self, job_id: str) -> Job:
        """Forget the job and its ClientRequestToken (a restart starts a new job)."""
        with self.lock:
            job = self._jobs.pop(self.job(job_id).job_id)
            self._tokens = {t: v for t, v in self._tokens.items() if v[1] != job_id}
            return job

    def expire_tokens(self, job_id: str | None) -> None:
        with self.lock:
            for job in [self.job(job_id)] if job_id else self._jobs.values():
                job.tokens.clear()
