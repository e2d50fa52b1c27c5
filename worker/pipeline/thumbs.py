"""Thumbnails step: a JPEG per shot and a sprite sheet, recorded in the thumbs table.

Files go to `<data dir>/thumbs/<video id>/` (video ids are hex, so the path is always
inside the data dir); the rows are replaced in one transaction once the files are in
place, so a reader sees the old set or the new one.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, select

from models import Thumbnail, TimelineRange
from worker.context import AppContext
from worker.errors import VidxError
from worker.media.probe import probe
from worker.media.thumbnails import ShotSpan, Thumbnails, make_thumbnails
from worker.pipeline import failures, gone
from worker.progress import reporter


def make_for_video(ctx: AppContext, video_id: str) -> Thumbnails:
    with ctx.db.session() as s:
        source = Path(gone.video_to_work_on(s, video_id).source)
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
        failures.clear(video, failures.THUMBS)
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
    failures.record(ctx, video_id, failures.THUMBS, message)
