"""Rekognition Video's stored-video operations for moto, which has none of them but two
canned ones.

    from worker.testing.rekognition import fake_rekognition, install

    install()                      # once per process; importing changes nothing
    with mock_aws():
        fake = fake_rekognition()  # account 123456789012, us-east-1
        fake.plant(("labels", "in/video.mp4"), recorded_get_label_detection_response)
        fake.fail_next("GetLabelDetection", "ThrottlingException", count=2)
        ...                        # boto3 calls as against the real service
        fake.record()["max_in_flight"]

moto routes each Rekognition call to the RekognitionResponse method named after the
operation in snake_case; install() adds the ten, each a thin shim that hands the request
JSON to the account/region's FakeRekognition and returns its JSON. moto's own
StartTextDetection/GetTextDetection are replaced: they answer one hard-coded result
whatever the request (no video read, no job, no notification).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from moto.rekognition.responses import RekognitionResponse

from worker.testing.rekognition_api import OPERATIONS, snake_case
from worker.testing.rekognition_faults import NotificationFault
from worker.testing.rekognition_jobs import Job, set_defaults
from worker.testing.rekognition_state import DEFAULT_ACCOUNT, FakeRekognition, fake_rekognition

_MARK = "_vidx_fake_operation"
# moto's canned operations (moto 5: fixed values, "none of the parameters are taken into
# account"): ours replace them; any other operation moto gains is a reason to review
_CANNED_IN_MOTO = frozenset({"StartTextDetection", "GetTextDetection"})


def _handler(operation: str) -> Callable[[RekognitionResponse], str]:
    def handle(self: RekognitionResponse) -> str:
        raw = self.body
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        body = json.loads(text or "{}")
        fake = fake_rekognition(self.current_account, self.region)
        return json.dumps(fake.handle(operation, body))

    handle.__name__ = snake_case(operation)
    handle.__qualname__ = f"RekognitionResponse.{handle.__name__}"
    setattr(handle, _MARK, operation)
    return handle


def install() -> None:
    """Add the ten operations to moto's RekognitionResponse (idempotent)."""
    for operation in OPERATIONS:
        name = snake_case(operation)
        existing = RekognitionResponse.__dict__.get(name)
        if existing is None or (not hasattr(existing, _MARK) and operation in _CANNED_IN_MOTO):
            setattr(RekognitionResponse, name, _handler(operation))
        elif not hasattr(existing, _MARK):
            # a future moto implementing the operation itself: ours would shadow it
            raise RuntimeError(f"moto already implements {operation}; review the vidx fake")


def installed() -> bool:
    return all(
        hasattr(RekognitionResponse.__dict__.get(snake_case(op)), _MARK) for op in OPERATIONS
    )


__all__ = [
    "DEFAULT_ACCOUNT",
    "FakeRekognition",
    "Job",
    "NotificationFault",
    "fake_rekognition",
    "install",
    "installed",
    "set_defaults",
]
