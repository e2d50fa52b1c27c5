"""Files of a video: the source, its clips and thumbnails (all with Range support)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam

from worker.api import mapping, reads
from worker.api.deps import SessionDep, no_nul_in_url
from worker.api.files import RangeFileResponse, serve_file
from worker.api.openapi import ResponseDoc, responses
from worker.api.problems import documented
from worker.api.schemas import ClipList, Thumbnails
from worker.media.sprite_files import INDEX_NAME
from worker.pipeline.clips import MODES
from worker.query import thumbnail_path, thumbnails

router = APIRouter(tags=["files"], dependencies=[Depends(no_nul_in_url)])
THUMBS = "/videos/{video_id}/thumbnails"
MAX_INDEX = 2**31 - 1  # shot indexes are 32-bit INTEGER columns: larger is no shot, not a 500
ClipKind = Literal["shot", "content"]
ClipMode = Literal["copy", "accurate", "smart"]
assert set(MODES) == {"copy", "accurate", "smart"}  # ClipMode follows the cutter's modes
_MEDIA_TYPES = {".mov": "video/quicktime", ".mp4": "video/mp4"}


def _file_responses(media_type: str) -> dict[int, ResponseDoc]:
    return {
        200: {"description": "the file", "content": {media_type: {}}},
        206: {"description": "the requested byte range(s) (Range header)"},
        **documented(400, 404, 416, 422),
    }


@router.get("/videos/{video_id}/media", responses=responses(_file_responses("video/*")))
@router.head("/videos/{video_id}/media", include_in_schema=False)
def media(session: SessionDep, video_id: str) -> RangeFileResponse:
    """The source video file, when it is on this server's disk."""
    video = reads.video_row(session, video_id)
    return serve_file(reads.local_source(video), f"the media file of video {video_id}")


@router.get(
    "/videos/{video_id}/clips",
    response_model=ClipList,
    responses=responses(documented(404, 422)),
)
def clips(session: SessionDep, video_id: str) -> ClipList:
    """The video's clips; `mode` is the mode that made each (a smart cut that fell back is
    `accurate`, its `note` says why), `requested_mode` the one asked for. `url` downloads
    one (a clip made for another request than the video's current one has `?mode=` and/or
    `?codec=` in its url)."""
    preferred = reads.current_request(reads.video_row(session, video_id))
    return mapping.clip_list(video_id, reads.clips_of(session, video_id), preferred)


_CLIP_200: dict[int, ResponseDoc] = {
    200: {"description": "the clip", "content": {"video/mp4": {}, "video/quicktime": {}}}
}


@router.get(
    "/videos/{video_id}/clips/{kind}/{index}",
    responses=responses(_file_responses("video/mp4"), _CLIP_200),
)
@router.head("/videos/{video_id}/clips/{kind}/{index}", include_in_schema=False)
def clip_file(
    session: SessionDep,
    video_id: str,
    kind: ClipKind,
    index: Annotated[int, PathParam(ge=0, le=MAX_INDEX)],
    mode: Annotated[
        ClipMode | None, Query(description="the mode asked for; default: the video's clip mode")
    ] = None,
    codec: Annotated[
        str | None, Query(max_length=16, description="default: the video's clip codec")
    ] = None,
) -> RangeFileResponse:
    """One clip's file: MP4, or MOV for a ProRes clip."""
    c = reads.clip(session, video_id, kind, index, mode, codec)
    path = Path(c.path)
    media_type = _MEDIA_TYPES.get(path.suffix.lower(), "video/mp4")
    return serve_file(path, f"{kind} clip {index} of video {video_id}", media_type)


@router.get(
    "/videos/{video_id}/thumbnails",
    response_model=Thumbnails,
    responses=responses(documented(404, 422)),
)
def thumbnail_list(session: SessionDep, video_id: str) -> Thumbnails:
    """One JPEG per shot and a sprite sheet (with a JSON index), when they were made
    (`vidx clips --thumbnails`); empty otherwise."""
    return mapping.thumbnails(thumbnails(session, video_id))


@router.get(THUMBS + "/shots/{index}.jpg", responses=responses(_file_responses("image/jpeg")))
@router.head(THUMBS + "/shots/{index}.jpg", include_in_schema=False)
def shot_thumbnail(
    session: SessionDep, video_id: str, index: Annotated[int, PathParam(ge=0, le=MAX_INDEX)]
) -> RangeFileResponse:
    path = thumbnail_path(session, video_id, "shot", index)
    return serve_file(path, f"thumbnail of shot {index} of video {video_id}", "image/jpeg")


@router.get(THUMBS + "/sprite.jpg", responses=responses(_file_responses("image/jpeg")))
@router.head(THUMBS + "/sprite.jpg", include_in_schema=False)
def sprite(session: SessionDep, video_id: str) -> RangeFileResponse:
    path = thumbnail_path(session, video_id, "sprite")
    return serve_file(path, f"sprite sheet of video {video_id}", "image/jpeg")


@router.get(THUMBS + "/sprite.json", responses=responses(_file_responses("application/json")))
@router.head(THUMBS + "/sprite.json", include_in_schema=False)
def sprite_index(session: SessionDep, video_id: str) -> RangeFileResponse:
    path = thumbnail_path(session, video_id, "sprite").with_name(INDEX_NAME)
    return serve_file(path, f"sprite index of video {video_id}", "application/json")
