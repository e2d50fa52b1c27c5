"""The timeline viewer: a static page per video served by `vidx serve` (issue 6, part 3).

`worker.api.create_app` includes `router`. The pages are plain HTML + CSS + vanilla JS from
`worker/static/viewer/` (no build step, nothing fetched from elsewhere); they read the API's
own endpoints (`/videos`, `/videos/{id}/timeline`, `/thumbnails`, `/media`), so this module
stays a thin file server: it only looks a video up to answer 404 for a missing one.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from models import Video
from worker.context import AppContext, get_context

STATIC_DIR = Path(__file__).resolve().parent / "static" / "viewer"
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
# asset names are flat and plain: nothing that could climb out of the folder
ASSET_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*\.(html|js|css|svg)$")
# video ids are hex digests (an imported video's starts with "i"); anything else is no video
VIDEO_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

router = APIRouter(tags=["viewer"])


def _not_found(detail: str) -> Response:
    return JSONResponse(
        {"type": "about:blank", "title": "Not Found", "status": 404, "detail": detail},
        status_code=404,
        media_type="application/problem+json",
    )


def _page(name: str, status_code: int = 200) -> Response:
    # the page is small and changes with the package: revalidate rather than cache stale JS
    return FileResponse(
        STATIC_DIR / name,
        status_code=status_code,
        media_type=MEDIA_TYPES[".html"],
        headers={"Cache-Control": "no-cache"},
    )


def _context(request: Request) -> AppContext:
    # `create_app` keeps its (possibly injected) context on the app's state
    ctx = getattr(request.app.state, "context", None)
    return ctx if isinstance(ctx, AppContext) else get_context()


@router.get("/", include_in_schema=False)
def index() -> Response:
    """The list of indexed videos, each linking to its viewer."""
    return _page("index.html")


@router.get("/videos/{video_id}/view", include_in_schema=False)
def view(video_id: str, request: Request) -> Response:
    """The viewer page; it loads the video's timeline itself.

    A missing video still gets the page (a person sees the reason there), as a 404.
    """
    if not VIDEO_ID.match(video_id):
        return _not_found(f"{video_id!r} is not a video id")
    with _context(request).db.session() as session:
        found = session.get(Video, video_id) is not None
    return _page("view.html", 200 if found else 404)


@router.get("/static/viewer/{name}", include_in_schema=False)
def asset(name: str) -> Response:
    """One of the viewer's own files (a fixed set in the package)."""
    path = STATIC_DIR / name
    if not ASSET_NAME.match(name) or not path.is_file():
        return _not_found(f"no viewer asset {name!r}")
    return FileResponse(
        path, media_type=MEDIA_TYPES[path.suffix], headers={"Cache-Control": "no-cache"}
    )
