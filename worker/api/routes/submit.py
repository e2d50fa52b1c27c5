"""POST /videos: a video uploaded (multipart) or named by an s3:// URI (JSON) -> 202.

The body is read here, not by FastAPI, so an upload streams to disk (worker/api/uploads.py)
and one operation takes either kind of body; `openapi_extra` documents both.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from models import AnalysisJob, Video
from worker import service
from worker.api import mapping, uploads
from worker.api.background import InProcessRunner
from worker.api.deps import ContextDep, no_nul_in_url, require_api_key
from worker.api.openapi import SchemaDoc, responses
from worker.api.problems import documented
from worker.api.schemas import Submitted
from worker.context import AppContext
from worker.engines.port import Feature
from worker.errors import InputError, VidxError

router = APIRouter(tags=["videos"], dependencies=[Depends(no_nul_in_url)])
MAX_JSON_BYTES = 64 * 1024
FeatureName = Literal["segments", "labels", "moderation", "faces", "text"]
assert {f.value for f in Feature} == {"segments", "labels", "moderation", "faces", "text"}


class SubmitOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    features: list[FeatureName] = Field(default=["segments"], min_length=1)
    engine: Literal["local", "aws"] | None = Field(None, description="default: VIDX_ENGINE")
    clips: list[Literal["shots", "content"]] = Field(default=[], description="clips to cut")
    mode: Literal["copy", "accurate", "smart"] = Field(
        "smart", description="smart falls back to accurate per file (the clip's note says why)"
    )
    codec: Literal["auto", "h264", "prores"] = Field(
        "auto", description="auto: ProRes stays ProRes (MOV), anything else H.264 (MP4)"
    )
    min_length_ms: int = Field(0, ge=0, le=3_600_000, description="merge shorter shots")
    keep_opening_credits: bool = False
    force: bool = Field(False, description="start failed or expired jobs again")


class SubmitUri(SubmitOptions):
    """A video already in S3, analysed there by the aws engine (no clips: no local copy)."""

    uri: str = Field(
        pattern=r"^s3://[^/\x00]+/[^\x00]+$", max_length=2048, examples=["s3://bucket/key.mp4"]
    )


_LISTS = ("features", "clips")  # form fields that hold a comma-separated list


def _form_options(fields: Mapping[str, str]) -> SubmitOptions:
    """Form fields as text: lists comma-separated ('segments,labels'; clips may be 'none')."""
    raw = {key: _listed(text) if key in _LISTS else text for key, text in fields.items()}
    return _validated(SubmitOptions, raw)


def _listed(text: str) -> list[str]:
    text = text.strip()
    return [] if text in ("", "none") else [p.strip() for p in text.split(",")]


M = TypeVar("M", bound=BaseModel)


def _validated(model: type[M], raw: bytes | Mapping[str, object]) -> M:
    """The body as the request schema `model`, parsed once here at the edge; a 422
    problem (its fields under `body`) when it is not one."""
    try:
        if isinstance(raw, bytes):
            return model.model_validate_json(raw)
        return model.model_validate(raw)
    except ValidationError as exc:
        errors = [dict(e) | {"loc": ("body", *e["loc"])} for e in exc.errors()]
        raise RequestValidationError(errors) from None


def _submit(
    ctx: AppContext, source: Path | str, opts: SubmitOptions, runner: InProcessRunner
) -> Submitted:
    port = ctx.enqueue
    if not port.in_process:
        try:
            port.check()
        except VidxError as exc:  # the server's problem, not the request's
            raise HTTPException(503, str(exc)) from None
    sub = service.submit(
        ctx,
        source,
        [Feature(f) for f in opts.features],
        opts.engine or ctx.settings.engine,
        opts.clips,
        opts.mode,
        opts.force,
        min_length_ms=opts.min_length_ms,
        keep_opening_credits=opts.keep_opening_credits,
        codec=opts.codec,
        enqueue=runner.enqueue if port.in_process else None,
    )
    with ctx.db.session() as s:
        jobs = s.scalars(select(AnalysisJob).where(AnalysisJob.id.in_(sub.job_ids))).all()
        return mapping.submitted(sub, jobs)


async def _from_upload(request: Request, ctx: AppContext) -> Submitted:
    settings = ctx.settings
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.max_upload_bytes + MAX_JSON_BYTES:
        raise HTTPException(413, f"the upload is larger than {settings.max_upload_bytes} bytes")
    uploads_dir = settings.data_dir / "uploads"
    got = await uploads.receive(
        request.headers["content-type"],
        request.stream(),
        uploads_dir / ".incoming",
        settings.max_upload_bytes,
    )
    try:
        opts = _form_options(got.fields)
    except BaseException:
        got.discard()
        raise
    path, created = await run_in_threadpool(got.keep, uploads_dir)
    try:
        done = await run_in_threadpool(_submit, ctx, path, opts, request.app.state.runner)
    except BaseException as exc:
        if created:
            await run_in_threadpool(_drop_unregistered, ctx, path)
        if isinstance(exc, InputError):  # name the client's file, not where it was put
            raise InputError(got.filename, exc.problem) from None
        raise
    if created:  # known content under another name: the video keeps its first file
        await run_in_threadpool(_drop_unregistered, ctx, path)
    return done


def _drop_unregistered(ctx: AppContext, path: Path) -> None:
    """Remove an upload no video refers to (its submit failed, or the content was known)."""
    with ctx.db.session() as s:
        used = s.scalar(select(Video.id).where(Video.source == str(path.resolve())).limit(1))
    if used is None:
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # not empty: another upload of the same content
            path.parent.rmdir()


async def _from_uri(request: Request, ctx: AppContext) -> Submitted:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_JSON_BYTES:
            raise HTTPException(413, f"a JSON body is at most {MAX_JSON_BYTES} bytes")
    opts = _validated(SubmitUri, bytes(body))
    if (opts.engine or ctx.settings.engine) != "aws":
        raise InputError(opts.uri, 'an s3:// video is analysed by the aws engine: "engine": "aws"')
    if opts.clips:
        raise InputError(opts.uri, "clips need a local copy of the video: leave out clips")
    return await run_in_threadpool(_submit, ctx, opts.uri, opts, request.app.state.runner)


_MULTIPART_FORM: SchemaDoc = {
    "type": "object",
    "required": ["file"],
    "properties": {
        "file": {"type": "string", "format": "binary", "description": "the video"},
        "features": {"type": "string", "default": "segments", "example": "segments,labels"},
        "engine": {"type": "string", "enum": ["local", "aws"]},
        "clips": {"type": "string", "default": "none", "example": "shots,content"},
        "mode": {"type": "string", "enum": ["copy", "accurate", "smart"], "default": "smart"},
        "codec": {"type": "string", "enum": ["auto", "h264", "prores"], "default": "auto"},
        "min_length_ms": {"type": "integer", "minimum": 0, "maximum": 3_600_000},
        "keep_opening_credits": {"type": "boolean"},
        "force": {"type": "boolean"},
    },
}


@router.post(
    "/videos",
    status_code=202,
    response_model=Submitted,
    dependencies=[Depends(require_api_key)],
    responses=responses(documented(400, 401, 403, 413, 415, 422, 503)),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {"schema": _MULTIPART_FORM},
                "application/json": {"schema": {"$ref": "#/components/schemas/SubmitUri"}},
            },
        }
    },
)
async def post_video(request: Request, ctx: ContextDep) -> JSONResponse:
    """Index a video: upload the file (multipart, field `file`; options as form fields,
    lists comma-separated) or name an S3 object (JSON). Answers 202 at once with the video
    id and its jobs; `GET /videos/{id}` tells when it is INDEXED. The same file twice is
    one video. Needs the X-API-Key header when the server sets VIDX_API_KEY."""
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media == "multipart/form-data":
        done = await _from_upload(request, ctx)
    elif media == "application/json":
        done = await _from_uri(request, ctx)
    else:
        raise HTTPException(
            415, "send multipart/form-data (a file) or application/json ({'uri': 's3://...'})"
        )
    return JSONResponse(
        done.model_dump(), status_code=202, headers={"Location": f"/videos/{done.video_id}"}
    )


__all__ = ["SubmitUri", "router"]
