"""FakeControl mirrors FakeRekognition over HTTP, and FakeRekognition hands its error
faults to Faults: the three write the same signatures on purpose (a process without
moto drives the fake through FakeControl), so they must not drift apart."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

from worker.testing.aws_server import ACTIONS
from worker.testing.fake_control import FakeControl
from worker.testing.rekognition_faults import Faults
from worker.testing.rekognition_state import FakeRekognition


def _parameters(method: Callable[..., Any]) -> list[tuple[str, Any, Any]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(method).parameters.values()]


# compared on instances: the fake's error faults are its Faults' bound methods
CONTROL = FakeControl("http://127.0.0.1:1")  # never called
FAKE = FakeRekognition("123456789012", "us-east-1")


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_control_action_has_the_fakes_signature(action: str) -> None:
    assert _parameters(getattr(CONTROL, action)) == _parameters(getattr(FAKE, action))


@pytest.mark.parametrize("method", ["fail_next", "throttle_ratio"])
def test_the_fakes_error_faults_have_the_faults_signature(method: str) -> None:
    assert _parameters(getattr(FAKE, method)) == _parameters(getattr(Faults(), method))
