"""The API's response bodies (worker/api/schemas.py) built from the read side's values.

The schemas document the JSON and stay separate from the domain types they are made
from (worker.read_model, the search rows, a delete's report, the clip and video rows the
API's own reads return). Fields a body leaves out unless they say something (a video's
`clips`/`thumbnails` step) are left unset here, so `response_model_exclude_unset` omits
them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from worker import read_model as rm
from worker.api import schemas as api

if TYPE_CHECKING:  # types only: building a body reads these values, runs none of them
    from models import AnalysisJob, Clip, Video
    from worker.deletion import Deleted
    from worker.search import QueryRow
    from worker.service import Submitted


def step_state(step: rm.StepState) -> api.StepState:
    return api.StepState(status=step.status, message=step.message)


def _failed_steps(st: rm.VideoStatus) -> dict[str, api.StepState]:
    """The clips/thumbnails steps that failed, and only those (unset otherwise)."""
    steps = {"clips": st.clips, "thumbnails": st.thumbnails}
    return {name: step_state(step) for name, step in steps.items() if step is not None}


def _status_fields(st: rm.VideoStatus) -> dict[str, object]:
    """The fields a video's status gives every body that shows it."""
    fields: dict[str, object] = {
        "video_id": st.video_id,
        "status": st.status,
        "features": {name: step_state(f) for name, f in st.features.items()},
    }
    fields.update(_failed_steps(st))
    return fields


def video_summary(item: rm.VideoSummary) -> api.VideoSummary:
    """One item of the video list."""
    return api.VideoSummary(
        **_status_fields(item.state),
        filename=item.filename,
        duration_ms=item.duration_ms,
        created_at=item.created_at.isoformat(),
    )


def video_list(items: Iterable[rm.VideoSummary], next_cursor: str | None) -> api.VideoList:
    return api.VideoList(items=[video_summary(v) for v in items], next_cursor=next_cursor)


def video_detail(st: rm.VideoStatus, video: Video) -> api.VideoDetail:
    """A video's status (as `vidx status ID --json`) and the facts of its file."""
    return api.VideoDetail(
        **_status_fields(st),
        filename=video.filename,
        duration_ms=video.duration_ms,
        created_at=video.created_at.isoformat(),
        fps=video.fps_text,
        frame_count=video.frame_count,
        width=video.width,
        height=video.height,
    )


def clip_url(video_id: str, c: Clip, preferred: tuple[str, str]) -> str:
    """The clip's download url; a clip made for another request than the video's current
    one (mode asked for, codec) says which in its query."""
    url = f"/videos/{video_id}/clips/{c.kind}/{c.seq}"
    query = [f"mode={c.requested_mode}"] if c.requested_mode != preferred[0] else []
    query += [f"codec={c.codec}"] if c.codec != preferred[1] else []
    return f"{url}?{'&'.join(query)}" if query else url


def clip_list(video_id: str, clips: Sequence[Clip], preferred: tuple[str, str]) -> api.ClipList:
    """The video's clips; `preferred` is its current request (mode asked for, codec)."""
    return api.ClipList(
        items=[
            api.ClipItem(
                kind=c.kind,
                index=c.seq,
                start_ms=c.start_ms,
                end_ms=c.end_ms,
                mode=c.mode,
                requested_mode=c.requested_mode,
                codec=c.codec,
                note=c.note,
                drift_ms=c.drift_ms,
                url=clip_url(video_id, c, preferred),
            )
            for c in clips
        ]
    )


def thumbnails(found: rm.Thumbnails) -> api.Thumbnails:
    """The thumbnails as urls of this API (the read model has the files' paths)."""
    base = f"/videos/{found.video_id}/thumbnails"
    sprite = found.sprite
    return api.Thumbnails(
        shots=[
            api.ShotThumbnail(
                index=s.index,
                at_ms=s.at_ms,
                width=s.width,
                height=s.height,
                url=f"{base}/shots/{s.index}.jpg",
            )
            for s in found.shots
        ],
        sprite=None
        if sprite is None
        else api.Sprite(
            url=f"{base}/sprite.jpg",
            index_url=f"{base}/sprite.json",
            width=sprite.width,
            height=sprite.height,
        ),
    )


def range_item(row: QueryRow) -> api.RangeItem:
    return api.RangeItem(
        video_id=row.video_id,
        kind=row.kind,
        name=row.name,
        parent=row.parent,
        start_ms=row.start_ms,
        end_ms=row.end_ms,
        confidence=row.confidence,
        detections=row.detections,
    )


def range_list(rows: Iterable[QueryRow], next_cursor: str | None) -> api.RangeList:
    return api.RangeList(items=[range_item(r) for r in rows], next_cursor=next_cursor)


def deleted_video(done: Deleted) -> api.DeletedVideo:
    return api.DeletedVideo(
        video_id=done.video_id,
        rows=done.rows,
        files=done.files,
        s3_objects=done.s3_objects,
        kept=done.kept,
        notes=done.notes,
    )


def submitted(done: Submitted, jobs: Iterable[AnalysisJob]) -> api.Submitted:
    """POST /videos's answer: the video and its jobs (rows read after the submit)."""
    return api.Submitted(
        video_id=done.video_id,
        jobs=[api.SubmittedJob(feature=j.feature, job_id=j.id, status=j.state) for j in jobs],
        notes=done.notes,
    )
