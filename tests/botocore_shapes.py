"""Check a JSON value against a shape of botocore's service model: the members it may have,
their types, required members and enums, recursively. Our engines' pages and the pages tests
build must be what the real service could send."""

from __future__ import annotations

from typing import Any

import botocore.session
from botocore.model import Shape

_REKOGNITION = botocore.session.get_session().get_service_model("rekognition")


def output_shape(operation: str) -> Shape:
    shape = _REKOGNITION.operation_model(operation).output_shape
    assert shape is not None
    return shape


def problems(value: Any, shape: Shape, at: str = "$") -> list[str]:
    """Where `value` departs from `shape` (empty when it conforms)."""
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{at}: {type(value).__name__}, expected an object"]
        out = [f"{at}.{k}: not a member" for k in value if k not in shape.members]
        out += [f"{at}.{k}: required" for k in shape.required_members if k not in value]
        for k, v in value.items():
            if k in shape.members:
                out += problems(v, shape.members[k], f"{at}.{k}")
        return out
    if kind == "list":
        if not isinstance(value, list):
            return [f"{at}: {type(value).__name__}, expected a list"]
        return [p for i, v in enumerate(value) for p in problems(v, shape.member, f"{at}[{i}]")]
    if kind == "string":
        if not isinstance(value, str):
            return [f"{at}: {value!r} is not a string"]
        enum = shape.enum
        return [f"{at}: {value!r} not in {enum}"] if enum and value not in enum else []
    if kind in ("integer", "long"):
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{at}: {value!r} is not an integer"]
    if kind in ("float", "double"):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return [] if ok else [f"{at}: {value!r} is not a number"]
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{at}: {value!r} is not a boolean"]
    return []
