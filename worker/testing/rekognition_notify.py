"""The completion notification: Rekognition's message, published through moto's SNS.

Under `mock_aws` everything runs in the caller's thread, so a job that completes inside
Start* publishes before Start* returns; no caller in that thread can tell. The moto
server is different: a poller in another process could read the message before the
starter has even seen its JobId. So while the server handles a request, publishing is
deferred until the response has been written (`deferred_delivery`), and only the
`early` fault publishes first, on purpose.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from moto.sns.models import sns_backends

_local = threading.local()


def message(job_id: str, status: str, api: str, params: Mapping[str, Any], finished_ms: int) -> str:
    """The SNS Message string, keys in the service's order (JobTag only when given)."""
    s3 = params["Video"]["S3Object"]
    body: dict[str, Any] = {"JobId": job_id, "Status": status, "API": api}
    if params.get("JobTag"):
        body["JobTag"] = params["JobTag"]
    body["Timestamp"] = finished_ms
    body["Video"] = {"S3ObjectName": s3["Name"], "S3Bucket": s3["Bucket"]}
    return json.dumps(body, separators=(",", ":"))


def publish(topic_arn: str, text: str) -> str | None:
    """Publish to the topic in the ARN's own account and region; the error text if that
    fails (a missing topic loses the message, as with a real misconfigured channel)."""
    parts = topic_arn.split(":")
    try:
        region, account = parts[3], parts[4]
        sns_backends[account][region].publish(message=text, arn=topic_arn)
    except Exception as exc:  # moto raises several types; all mean "not delivered"
        return f"{type(exc).__name__}: {exc}"
    return None


@contextmanager
def deferred_delivery() -> Iterator[list[Callable[[], None]]]:
    """Collect this thread's publications instead of running them (see module doc)."""
    pending: list[Callable[[], None]] = []
    _local.pending = pending
    try:
        yield pending
    finally:
        _local.pending = None


def deliver(send: Callable[[], None], *, early: bool = False) -> None:
    pending: list[Callable[[], None]] | None = getattr(_local, "pending", None)
    if pending is None or early:
        send()
    else:
        pending.append(send)
