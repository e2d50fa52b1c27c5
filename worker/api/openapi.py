"""OpenAPI documents the routes hand FastAPI: typed here, plain dicts at FastAPI's door.

A route's `responses=` documents answers FastAPI cannot see from its response model
(problems, files, the timeline's other formats). They are written as ResponseDoc (an
OpenAPI response object: a description and, per media type, a JSON Schema) and
`responses()` gives them to FastAPI in the form its parameter takes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Required, TypedDict

from pydantic import JsonValue

SchemaDoc = dict[str, JsonValue]  # a JSON Schema object (OpenAPI 3.1 schema), or a $ref to one


class MediaDoc(TypedDict, total=False):
    """An OpenAPI media type object: the body's schema (none: any body of that type)."""

    schema: SchemaDoc


class ResponseDoc(TypedDict, total=False):
    """An OpenAPI response object, as `responses=` takes one per status code."""

    description: Required[str]
    content: dict[str, MediaDoc]  # by media type


def responses(*docs: Mapping[int, ResponseDoc]) -> dict[int | str, dict[str, object]]:
    """`responses=` for a route: the documents in order, a later one's status code
    replacing an earlier one's in its place (as `a | b`)."""
    merged: dict[int, ResponseDoc] = {}
    for doc in docs:
        merged.update(doc)
    return {code: dict(response) for code, response in merged.items()}
