"""The application factory: routes, problem-details errors, OpenAPI, the viewer."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import JsonValue
from starlette.concurrency import run_in_threadpool

from worker import viewer
from worker.api import docs, problems
from worker.api.background import InProcessRunner
from worker.api.routes import delete, detections, media, submit, videos
from worker.api.schemas import Timeline
from worker.context import AppContext, get_context, use_context

log = logging.getLogger(__name__)
DESCRIPTION = """\
What is in a video, and when: the timelines vidx stores (shots, technical cues, labels,
moderation, faces), clips and thumbnails, and submitting videos.

Errors are problem details (RFC 9457, `application/problem+json`). Times are integer
milliseconds from the first frame; ranges are half-open `[start_ms, end_ms)`. Lists are
paged: pass `next_cursor` back as `cursor` until it is null. Writes need the `X-API-Key`
header when the server sets `VIDX_API_KEY`.
"""


def _version() -> str:
    try:
        return version("vidx")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "0"


class VidxAPI(FastAPI):
    def openapi(self) -> dict[str, JsonValue]:
        """FastAPI's schema plus the components its generator cannot see (responses and
        bodies that name them by $ref): the problem body, POST /videos's hand-parsed JSON
        body, and the timeline document (one of the timeline's JSON answers)."""
        if self.openapi_schema is None:
            schema = get_openapi(
                title=self.title,
                version=self.version,
                description=self.description,
                routes=self.routes,
            )
            defs = schema.setdefault("components", {}).setdefault("schemas", {})
            template = "#/components/schemas/{model}"
            for model in (problems.Problem, submit.SubmitUri, Timeline):
                found = model.model_json_schema(ref_template=template)
                defs.update(found.pop("$defs", {}))
                defs[model.__name__] = found
            self.openapi_schema = schema
        return self.openapi_schema


def create_app(context: AppContext | None = None) -> FastAPI:
    """The API over `context` (default: the process's), which background work uses too."""
    ctx = context or get_context()
    runner = InProcessRunner(ctx)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        from worker.service import ensure_schema

        # tasks find the context with get_context(): make it this app's for the app's life
        with use_context(ctx):
            await run_in_threadpool(ensure_schema, ctx)
            try:
                yield
            finally:
                await run_in_threadpool(runner.shutdown)

    app = VidxAPI(
        title="vidx",
        version=_version(),
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=lambda route: route.name,  # operationId: the function
        docs_url=None,  # served offline by worker/api/docs.py instead of from a CDN
        redoc_url=None,  # off: ReDoc fetches its logo from a CDN (docs.py)
    )
    app.state.context = ctx
    app.state.runner = runner
    problems.install(app)
    docs.install(app)
    for module in (videos, media, detections, submit, delete):
        app.include_router(module.router)
    app.include_router(viewer.router)
    return app
