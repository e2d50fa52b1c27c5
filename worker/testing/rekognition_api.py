"""Static facts about the ten Rekognition Video operations the fake serves.

The modelled error codes come from botocore's own service model, so the fake can only
be told to raise what the real service is documented to raise for that operation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from moto.core.exceptions import JsonRESTError

from worker.engines.port import Feature


@dataclass(frozen=True)
class VideoOp:
    feature: Feature
    start: str  # "StartLabelDetection": also the notification's API value
    get: str  # "GetLabelDetection"
    items_key: str  # the list the Get* response pages over
    model_version_key: str | None  # e.g. LabelModelVersion (faces have none)


VIDEO_OPS = (
    VideoOp(
        Feature.LABELS, "StartLabelDetection", "GetLabelDetection", "Labels", "LabelModelVersion"
    ),
    VideoOp(
        Feature.MODERATION,
        "StartContentModeration",
        "GetContentModeration",
        "ModerationLabels",
        "ModerationModelVersion",
    ),
    VideoOp(Feature.FACES, "StartFaceDetection", "GetFaceDetection", "Faces", None),
    VideoOp(Feature.SEGMENTS, "StartSegmentDetection", "GetSegmentDetection", "Segments", None),
    VideoOp(
        Feature.TEXT, "StartTextDetection", "GetTextDetection", "TextDetections", "TextModelVersion"
    ),
)
BY_FEATURE = {op.feature: op for op in VIDEO_OPS}
BY_START = {op.start: op for op in VIDEO_OPS}
BY_GET = {op.get: op for op in VIDEO_OPS}
OPERATIONS = tuple(name for op in VIDEO_OPS for name in (op.start, op.get))

JOB_ID = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")


def snake_case(operation: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()


def operation_name(name: str) -> str:
    """'StartLabelDetection' or 'start_label_detection' -> 'StartLabelDetection'."""
    for op in OPERATIONS:
        if name in (op, snake_case(op)):
            return op
    raise ValueError(f"not one of the fake's operations: {name!r} (known: {', '.join(OPERATIONS)})")


def feature_of(name: str | Feature) -> Feature:
    """A Feature from its value ('labels') or either of its operation names."""
    if isinstance(name, Feature):
        return name
    try:
        return Feature(name)
    except ValueError:
        op = operation_name(name)
        return (BY_START.get(op) or BY_GET[op]).feature


@cache
def modelled_errors(operation: str) -> frozenset[str]:
    """The error codes botocore's service model lists for `operation`."""
    import botocore.session  # only needed when a fault is configured

    model = botocore.session.get_session().get_service_model("rekognition")
    return frozenset(shape.name for shape in model.operation_model(operation).error_shapes)


def service_error(code: str, message: str) -> JsonRESTError:
    """The modelled error as moto serialises it (botocore raises it by `code`)."""
    error = JsonRESTError(code, message)
    if code == "InternalServerError":
        error.code = 500  # the one server fault among Rekognition's errors
    return error


def invalid(message: str) -> JsonRESTError:
    return service_error("InvalidParameterException", message)
