"""Thumbnails step: a JPEG per shot and a sprite sheet, recorded in the thumbs table.

Files go to `<data dir>/thumbs/<video id>/` (video ids are hex, so the path is always
inside the data dir); the rows are replaced in one transaction once the files are in
place, so a reader sees the old set or the new one.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, select

from models import Thumbnail, TimelineRange, Video
from worker.context import AppContext
from worker.errors import VideoNotFoundError, VidxError
from worker.media.probe import probe
from worker.media.thumbnails import ShotSpan, Thumbnails, make_thumbnails
from worker.pipeline import gone
from worker.progress import reporter


def make_for_video(ctx: AppContext, video_id: str) -> Thumbnails:
    with ctx.db.session() as s:
        video = s.get(Video, video_id)
        if video is None:
            raise VideoNotFoundError(video_id)
        if gone.is_deleting(video):
            raise gone.VideoDeletedError(video_id)
        source = Path(video.source)
        shots = [
            ShotSpan(r.seq, r.start_ms, r.end_ms)
            for r in s.scalars(
                select(TimelineRange)
                .where(TimelineRange.video_id == video_id, TimelineRange.kind == "shot")
                .order_by(TimelineRange.start_ms, TimelineRange.seq)
            )
        ]
    if not shots:
        raise VidxError(f"video {video_id}: no shots to picture (run the segments feature first)")
    reporter().step("thumbnails")
    folder = ctx.settings.thumbs_dir / video_id
    made = make_thumbnails(source, probe(source), shots, folder)
    try:
        _register(ctx, video_id, made)
    except gone.VideoDeletedError:  # deleted while they were made: none of them stays
        gone.discard_made(ctx, video_id, folder)
        raise
    return made


def _register(ctx: AppContext, video_id: str, made: Thumbnails) -> None:
    with ctx.db.session() as s:
        video = gone.live_video(s, video_id, lock=True)
        video.extra = {k: v for k, v in video.extra.items() if k != "thumbs_error"}
        s.execute(delete(Thumbnail).where(Thumbnail.video_id == video_id))
        s.add_all(
            Thumbnail(
                video_id=video_id,
                kind="shot",
                seq=t.seq,
                path=str(t.path),
                width=t.width,
                height=t.height,
                at_ms=t.at_ms,
            )
            for t in made.shots
        )
        s.add(
            Thumbnail(
                video_id=video_id,
                kind="sprite",
                seq=0,
                path=str(made.sprite),
                width=made.sprite_width,
                height=made.sprite_height,
                at_ms=None,
            )
        )


def record_failure(ctx: AppContext, video_id: str, message: str) -> None:
    """Kept on the video for `status`; thumbnails never fail the clips themselves."""
    with ctx.db.session() as s:
        video = s.get(Video, video_id)
        if video is not None and not gone.is_deleting(video):
            video.extra = {**video.extra, "thumbs_error": message[:2000]}
