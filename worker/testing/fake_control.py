"""FakeControl: drive the fake Rekognition inside a running aws_server from any process.

Standard library only, so a process that never imports moto (a worker under test, a
shell script via `python -c`) can plant results, inject faults and read the record.
Each method mirrors the FakeRekognition method of the same name.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

PREFIX = "/_vidx/fake/"
DEFAULT_ACCOUNT = "123456789012"  # moto's default account (kept here: no moto import)


class FakeControlError(RuntimeError):
    """The server refused a control call (bad arguments, unknown job, ...)."""


class FakeControl:
    def __init__(
        self,
        endpoint_url: str,
        account_id: str = DEFAULT_ACCOUNT,
        region: str = "us-east-1",
        timeout: float = 30.0,
    ) -> None:
        self.endpoint_url = endpoint_url.rstrip("/")
        self.account_id, self.region, self.timeout = account_id, region, timeout
        # the server is local: an HTTP(S)_PROXY in the environment must not be used
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def _post(self, path: str, payload: dict[str, Any]) -> Any:
        request = urllib.request.Request(
            self.endpoint_url + path,
            data=json.dumps(payload).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            raise FakeControlError(f"{path}: HTTP {exc.code}: {detail}") from None
        return json.loads(text).get("result") if text else None

    def _call(self, action: str, **arguments: Any) -> Any:
        scope = {"account_id": self.account_id, "region": self.region}
        return self._post(PREFIX + action, {**scope, "arguments": arguments})

    def configure(self, **settings: Any) -> None:
        self._call("configure", **settings)

    def plant(self, target: str | tuple[str, str], response: Any) -> None:
        """target: a JobId, or (feature, S3 key) for jobs started later."""
        self._call(
            "plant", target=target if isinstance(target, str) else list(target), response=response
        )

    def finish(
        self,
        job_id: str,
        status: str = "SUCCEEDED",
        message: str | None = None,
        notification_status: str | None = None,
    ) -> None:
        self._call(
            "finish",
            job_id=job_id,
            status=status,
            message=message,
            notification_status=notification_status,
        )

    def expire(self, job_id: str) -> None:
        self._call("expire", job_id=job_id)

    def expire_tokens(self, job_id: str | None = None) -> None:
        self._call("expire_tokens", job_id=job_id)

    def fail_next(
        self, operation: str, error_code: str, count: int = 1, message: str | None = None
    ) -> None:
        self._call(
            "fail_next", operation=operation, error_code=error_code, count=count, message=message
        )

    def throttle_ratio(
        self,
        p: float,
        seed: int | None = None,
        operations: list[str] | None = None,
        error_code: str = "ThrottlingException",
    ) -> None:
        self._call("throttle_ratio", p=p, seed=seed, operations=operations, error_code=error_code)

    def notification_fault(
        self, job_id: str | None = None, *, next_jobs: int = 1, **fault: Any
    ) -> None:
        self._call("notification_fault", job_id=job_id, next_jobs=next_jobs, **fault)

    def clear_faults(self) -> None:
        self._call("clear_faults")

    def renotify(self, job_id: str) -> None:
        self._call("renotify", job_id=job_id)

    def announce(self, job_id: str, status: str = "SUCCEEDED") -> None:
        self._call("announce", job_id=job_id, status=status)

    def wait_idle(self, timeout: float = 10.0) -> None:
        self._call("wait_idle", timeout=timeout)

    def record(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("record")
        return result

    def reset(self) -> None:
        """moto's own reset: every backend, and with them every fake, starts empty."""
        self._post("/moto-api/reset", {})
