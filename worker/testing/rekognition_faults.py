"""Faults the fake injects on request: errors on calls and misbehaving notifications.

Error faults only accept codes botocore's model lists for the operation, so a test
cannot make the fake raise something the real service never would.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from dataclasses import dataclass

from moto.core.exceptions import JsonRESTError

from worker.testing.rekognition_api import (
    OPERATIONS,
    modelled_errors,
    operation_name,
    service_error,
)


@dataclass(frozen=True)
class NotificationFault:
    """How one job's completion notification misbehaves (all may combine)."""

    drop: bool = False  # never published (the reconciler must find the job)
    duplicate: int = 0  # published 1 + duplicate times
    delay_s: float = 0.0  # published this long after the job finished
    early: bool = False  # the job finishes and notifies before Start* returns
    fail: str | None = None  # the job finishes FAILED with this StatusMessage

    def __post_init__(self) -> None:
        if self.duplicate < 0 or self.delay_s < 0:
            raise ValueError("duplicate and delay_s must not be negative")


NO_FAULT = NotificationFault()


def _check_code(operation: str, error_code: str) -> None:
    if error_code not in modelled_errors(operation):
        allowed = ", ".join(sorted(modelled_errors(operation)))
        raise ValueError(f"{operation} does not raise {error_code} (it raises: {allowed})")


class Faults:
    """Pending error and notification faults of one fake; safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next: dict[str, deque[tuple[str, str]]] = {}
        self._ratio = 0.0
        self._rng = random.Random()
        self._ratio_ops: frozenset[str] = frozenset(OPERATIONS)
        self._ratio_code = "ThrottlingException"
        self._notify_next: deque[NotificationFault] = deque()

    def fail_next(
        self, operation: str, error_code: str, count: int = 1, message: str | None = None
    ) -> None:
        op = operation_name(operation)
        _check_code(op, error_code)
        text = message or f"{error_code} injected by the vidx fake"
        with self._lock:
            self._next.setdefault(op, deque()).extend([(error_code, text)] * count)

    def throttle_ratio(
        self,
        p: float,
        seed: int | None = None,
        operations: list[str] | None = None,
        error_code: str = "ThrottlingException",
    ) -> None:
        """Refuse a random fraction p of calls (0 switches it off); a seed repeats the run."""
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p must be between 0 and 1, got {p}")
        ops = frozenset(operation_name(o) for o in operations or OPERATIONS)
        for op in ops:
            _check_code(op, error_code)
        with self._lock:
            self._ratio, self._rng = p, random.Random(seed)
            self._ratio_ops, self._ratio_code = ops, error_code

    def error_for(self, operation: str) -> JsonRESTError | None:
        """The error this call must fail with, if any (consumes a fail_next entry)."""
        with self._lock:
            queue = self._next.get(operation)
            if queue:
                code, message = queue.popleft()
                return service_error(code, message)
            if self._ratio and operation in self._ratio_ops and self._rng.random() < self._ratio:
                return service_error(self._ratio_code, "Rate exceeded")
        return None

    def notify_next_jobs(self, fault: NotificationFault, count: int = 1) -> None:
        with self._lock:
            self._notify_next.extend([fault] * count)

    def take_notification_fault(self) -> NotificationFault:
        """The fault for a job being created now (NO_FAULT when none is queued)."""
        with self._lock:
            return self._notify_next.popleft() if self._notify_next else NO_FAULT

    def clear(self) -> None:
        with self._lock:
            self._next.clear()
            self._notify_next.clear()
            self._ratio = 0.0
