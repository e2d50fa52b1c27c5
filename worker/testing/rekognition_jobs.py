"""One fake Rekognition job and the defaults new fakes start with."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from worker.testing.rekognition_api import VideoOp
from worker.testing.rekognition_faults import NotificationFault

IN_PROGRESS, SUCCEEDED, FAILED = "IN_PROGRESS", "SUCCEEDED", "FAILED"


@dataclass
class Defaults:
    """Settings every new FakeRekognition copies (the server sets them from its flags;
    moto's reset makes new fakes, so per-fake `configure` does not survive a reset)."""

    complete_after_s: float = 0.0  # 0: the job completes inside Start*
    auto_complete: bool = True  # False: jobs wait for finish()
    job_limit: int | None = 20  # Rekognition's default concurrent-job quota


DEFAULTS = Defaults()


def set_defaults(
    *,
    complete_after_s: float | None = None,
    auto_complete: bool | None = None,
    job_limit: int | None = -1,
) -> None:
    """Change what new fakes start with; job_limit=None means unlimited (-1: unchanged)."""
    if complete_after_s is not None:
        DEFAULTS.complete_after_s = complete_after_s
    if auto_complete is not None:
        DEFAULTS.auto_complete = auto_complete
    if job_limit is None or job_limit >= 0:
        DEFAULTS.job_limit = job_limit


@dataclass
class Job:
    job_id: str
    op: VideoOp
    params: dict[str, Any]  # the Start* request as received
    fault: NotificationFault
    started_s: float
    status: str = IN_PROGRESS
    status_message: str | None = None
    finishing: bool = False  # claimed by one completer (timer and finish() may race)
    finished_s: float | None = None
    notification_status: str | None = None  # overrides Status in the notification
    result: dict[str, Any] | None = None  # the complete response, every item
    result_source: str | None = None  # planted | computed
    tokens: dict[str, int] = field(default_factory=dict)  # NextToken -> item offset
    timers: list[threading.Timer] = field(default_factory=list)

    @property
    def s3_object(self) -> dict[str, Any]:
        s3: dict[str, Any] = self.params["Video"]["S3Object"]
        return s3

    @property
    def topic_arn(self) -> str | None:
        channel = self.params.get("NotificationChannel") or {}
        arn: str | None = channel.get("SNSTopicArn")
        return arn

    def head(self) -> dict[str, Any]:
        """The job members every Get* response carries (newer API fields included)."""
        head: dict[str, Any] = {"JobStatus": self.status}
        if self.status == FAILED:
            head["StatusMessage"] = self.status_message or "The job failed"
        return head

    def tail(self) -> dict[str, Any]:
        tail: dict[str, Any] = {"JobId": self.job_id, "Video": {"S3Object": dict(self.s3_object)}}
        if self.params.get("JobTag"):
            tail["JobTag"] = self.params["JobTag"]
        return tail

    def cancel_timers(self) -> None:
        for timer in self.timers:
            timer.cancel()

    def items_served(self) -> int | None:
        if self.status != SUCCEEDED or self.result is None:
            return None
        return len(self.result.get(self.op.items_key, []))

    def view(self) -> dict[str, Any]:
        """A JSON-able summary for the record."""
        return {
            "JobId": self.job_id,
            "API": self.op.start,
            "Feature": self.op.feature.value,
            "Status": self.status,
            "StatusMessage": self.status_message,
            "Params": self.params,
            "StartedAt": self.started_s,
            "FinishedAt": self.finished_s,
            "ResultSource": self.result_source,
            # how many items Get* serves in all (None unless SUCCEEDED): what a collect must
            # store, whether the results were planted or computed
            "Items": self.items_served(),
            "Fault": {
                "drop": self.fault.drop,
                "duplicate": self.fault.duplicate,
                "delay_s": self.fault.delay_s,
                "early": self.fault.early,
                "fail": self.fault.fail,
            },
        }
