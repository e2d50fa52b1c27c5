"""RFC 9457 problem details for every error the API returns (application/problem+json)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from worker.api.openapi import ResponseDoc
from worker.errors import (
    ConflictError,
    EngineUnavailableError,
    FeatureNotSupportedError,
    IncompleteError,
    InputError,
    NotFoundError,
    ThrottledError,
    VidxError,
)
from worker.query import InvalidQueryError

log = logging.getLogger(__name__)
MEDIA_TYPE = "application/problem+json"


class Problem(BaseModel):
    """A problem details object (RFC 9457); `errors` lists invalid request fields."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    # type about:blank: the HTTP status says it all, its phrase is the title (RFC 9457 4.2.1)
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status}
    if detail is not None:
        body["detail"] = detail
    if instance is not None:
        body["instance"] = instance
    return JSONResponse(
        {**body, **extra}, status_code=status, headers=headers, media_type=MEDIA_TYPE
    )


def status_of(exc: VidxError) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, ConflictError):
        return 409
    if isinstance(exc, IncompleteError):  # the server's side; its message says what to do
        return 500
    if isinstance(exc, InputError | InvalidQueryError | FeatureNotSupportedError):
        return 422
    if isinstance(exc, ThrottledError | EngineUnavailableError):  # S3/Rekognition, for now
        return 503
    return 400


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else None
    return problem_response(exc.status_code, detail, instance=request.url.path, headers=exc.headers)


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # loc, msg and type only: echoing the input could send a whole request body back
    errors = [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type"))}
        for e in exc.errors()
    ]
    summary = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
    detail = summary or "invalid request"
    return problem_response(422, detail, instance=request.url.path, errors=errors)


async def _vidx(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, VidxError)
    return problem_response(status_of(exc), str(exc), instance=request.url.path)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # the details go to the log only: a response must not leak paths, SQL or tracebacks
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return problem_response(
        500, "an unexpected error occurred; the server log has the details",
        instance=request.url.path,
    )  # fmt: skip


def install(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(VidxError, _vidx)
    app.add_exception_handler(Exception, _unexpected)


def documented(*codes: int) -> dict[int, ResponseDoc]:
    """OpenAPI response objects for the problems an operation can answer with
    (a route passes them through worker.api.openapi.responses)."""
    return {
        code: {
            "description": HTTPStatus(code).phrase,
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for code in codes
    }
