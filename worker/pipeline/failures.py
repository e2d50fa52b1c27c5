"""A step's last failure, kept on its video (`extra[key]`) so `status` can show it.

The clips and thumbnails steps each keep one (CLIPS, THUMBS); the read side
(worker/query.py) reports them. A failure is not kept on a video that is gone or whose
delete has begun: the delete would only have to remove it again.
"""

from __future__ import annotations

from models.video import EXTRA_CLIPS_ERROR, EXTRA_THUMBS_ERROR, Video
from worker.context import AppContext
from worker.pipeline import gone

CLIPS = EXTRA_CLIPS_ERROR
THUMBS = EXTRA_THUMBS_ERROR
MESSAGE_MAX = 2000  # characters kept of a failure's message


def record(ctx: AppContext, video_id: str, key: str, message: str) -> bool:
    """Keep `message` (cut to MESSAGE_MAX) as the video's `key` failure; False when the
    video is gone or being deleted, and nothing was kept."""
    with ctx.db.session() as s:
        video = s.get(Video, video_id)
        if video is None or gone.is_deleting(video):
            return False
        video.extra = {**video.extra, key: message[:MESSAGE_MAX]}
    return True


def clear(video: Video, key: str) -> None:
    """Forget the video's `key` failure, if it has one (in the caller's transaction)."""
    if key in video.extra:
        video.extra = {k: v for k, v in video.extra.items() if k != key}
