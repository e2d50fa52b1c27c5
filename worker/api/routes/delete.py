"""DELETE /videos/{id}: the `vidx delete` use case over HTTP (a write: needs the API key)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from worker import service
from worker.api import mapping
from worker.api.deps import ContextDep, no_nul_in_url, require_api_key
from worker.api.openapi import responses
from worker.api.problems import documented
from worker.api.schemas import DeletedVideo

router = APIRouter(tags=["videos"], dependencies=[Depends(no_nul_in_url)])


@router.delete(
    "/videos/{video_id}",
    response_model=DeletedVideo,
    dependencies=[Depends(require_api_key)],
    responses=responses(documented(401, 403, 404, 409, 422, 500)),
)
def delete_video(
    ctx: ContextDep,
    video_id: str,
    keep_source: Annotated[
        bool, Query(description="keep the uploaded source file in the server's data dir")
    ] = False,
    force: Annotated[
        bool, Query(description="delete even while its jobs are in flight (they are dropped)")
    ] = False,
    remote: Annotated[
        bool, Query(description="also its S3 objects under VIDX_S3_PREFIX/<sha256>/")
    ] = False,
) -> DeletedVideo:
    """Delete a video: its rows, clips, thumbnails, results, transcode and uploaded source
    (as `vidx delete`). 404 for an unknown id (a second delete of the same video too), 409
    while its jobs are in flight unless `force`; a 500 names what could not be removed,
    and the same DELETE again finishes the work. Needs the X-API-Key header when the
    server sets VIDX_API_KEY."""
    done = service.delete_video(ctx, video_id, keep_source=keep_source, force=force, remote=remote)
    return mapping.deleted_video(done)
