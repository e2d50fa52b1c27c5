"""Health, the video list, one video's status and metadata, and its timeline."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text

from models import Video
from worker.api import mapping
from worker.api.deps import SessionDep, no_nul_in_url
from worker.api.openapi import MediaDoc, ResponseDoc, SchemaDoc, responses
from worker.api.problems import documented
from worker.api.schemas import Health, VideoDetail, VideoList, VideoState
from worker.query import timeline, video_page, video_status
from worker.read_json import timeline_json

router = APIRouter(dependencies=[Depends(no_nul_in_url)])
CURSOR_HELP = "next_cursor of the previous page (with the same filters)"
TimelineFormat = Literal["json", "csv", "vtt", "edl", "otio"]


@router.get("/health", response_model=Health, tags=["health"], responses=responses(documented(503)))
def health(session: SessionDep) -> Health:
    """The server answers and its database does."""
    try:
        session.execute(text("SELECT 1"))
    except Exception as exc:
        raise HTTPException(503, f"database unavailable ({type(exc).__name__})") from None
    return Health(status="ok", database="ok")


@router.get(
    "/videos",
    response_model=VideoList,
    response_model_exclude_unset=True,  # clips/thumbnails only when they failed, as the CLI
    tags=["videos"],
    responses=responses(documented(422)),
)
def list_videos(
    session: SessionDep,
    status: Annotated[VideoState | None, Query(description="only videos in this state")] = None,
    filename: Annotated[
        str | None, Query(max_length=512, description="part of the file name, any case")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=512, description=CURSOR_HELP)] = None,
) -> VideoList:
    """Videos, newest first, a page at a time. With `status` a page may hold fewer than
    `limit` items and still have a `next_cursor`: follow it until it is null."""
    page = video_page(session, limit, status=status, filename=filename, after=cursor)
    return mapping.video_list(page.items, page.next_cursor)


@router.get(
    "/videos/{video_id}",
    response_model=VideoDetail,
    response_model_exclude_unset=True,
    tags=["videos"],
    responses=responses(documented(404, 422)),
)
def get_video(session: SessionDep, video_id: str) -> VideoDetail:
    """The video's status (as `vidx status ID --json`) and its metadata."""
    st = video_status(session, video_id)
    return mapping.video_detail(st, session.get_one(Video, video_id))


_TEXT: MediaDoc = {"schema": {"type": "string"}}
# format=otio is JSON too, of OpenTimelineIO's schema
_OTIO: SchemaDoc = {
    "type": "object",
    "required": ["OTIO_SCHEMA"],
    "properties": {"OTIO_SCHEMA": {"type": "string", "pattern": "^Timeline\\."}},
}
_TIMELINE_CONTENT: dict[str, MediaDoc] = {
    "application/json": {"schema": {"oneOf": [{"$ref": "#/components/schemas/Timeline"}, _OTIO]}},
    "text/csv": _TEXT,
    "text/vtt": _TEXT,
    "text/plain": _TEXT,  # edl: CMX3600 has no media type of its own
}

_TIMELINE_200: dict[int, ResponseDoc] = {
    200: {
        "description": "the timeline (vidx.timeline/1), or its export in `format`",
        "content": _TIMELINE_CONTENT,
    }
}


@router.get(
    "/videos/{video_id}/timeline",
    tags=["videos"],
    response_class=JSONResponse,
    responses=responses(_TIMELINE_200, documented(404, 422)),
)
def get_timeline(
    session: SessionDep,
    video_id: str,
    format: Annotated[TimelineFormat, Query(description="an export of the document")] = "json",
) -> Response:
    """Exactly the document `vidx timeline ID` prints; `format` gives the export
    `vidx timeline ID --format F` writes (otio is JSON of another schema)."""
    tl = timeline(session, video_id)
    if format == "json":  # the document as it is, not re-serialised through a model
        return JSONResponse(timeline_json(tl))
    from worker.export import FORMATS, render

    spec = FORMATS[format]
    body = render(tl, format)
    name = f"{video_id}.{spec.extension}"
    return Response(
        body,
        media_type=spec.media_type,
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )
