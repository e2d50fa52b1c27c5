"""Writes to the database: bulk, idempotent, one transaction per unit of work."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from models import AnalysisJob, Clip, Detection, JobState, TimelineRange, Video, utcnow
from worker.results import ParsedDetection


def params_hash(params: Mapping[str, Any]) -> str:
    blob = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def client_token(sha256: str, feature: str, params: Mapping[str, Any], generation: int = 0) -> str:
    """ClientRequestToken: content hash + feature + parameters (+ restart generation),
    <= 64 chars of [a-zA-Z0-9-_]."""
    key = f"{sha256}|{feature}|{params_hash(params)}"
    if generation:
        key += f"|g{generation}"
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"vidx-{feature[:10]}-{digest[:40]}"


def get_or_create_job(
    session: Session,
    video: Video,
    feature: str,
    params: Mapping[str, Any],
    engine: str,
) -> AnalysisJob:
    phash = params_hash(params)
    job = session.scalar(
        select(AnalysisJob).where(
            AnalysisJob.video_id == video.id,
            AnalysisJob.feature == feature,
            AnalysisJob.params_hash == phash,
        )
    )
    if job is None:
        job = AnalysisJob(
            video_id=video.id,
            feature=feature,
            params_hash=phash,
            params=dict(params),
            engine=engine,
            client_token=client_token(video.sha256 or video.id, feature, params),
            state=JobState.PENDING,
        )
        session.add(job)
        session.flush()
    return job


def set_state(job: AnalysisJob, state: JobState, message: str | None = None) -> None:
    job.state = state
    job.message = message
    if state is JobState.IN_PROGRESS and job.started_at is None:
        job.started_at = utcnow()
    if state in (JobState.SUCCEEDED, JobState.FAILED):
        job.finished_at = utcnow()


def _detection_row(
    job: AnalysisJob, page_index: int, item_index: int, d: ParsedDetection
) -> dict[str, Any]:
    box = d.bbox
    return {
        "job_id": job.id,
        "video_id": job.video_id,
        "page_index": page_index,
        "item_index": item_index,
        "kind": d.kind,
        "name": d.name[:256],
        "parent": d.parent,
        "start_ms": d.start_ms,
        "end_ms": d.end_ms,
        "start_frame": d.start_frame,
        "end_frame": d.end_frame,
        "confidence": d.confidence,
        "bbox_left": box.left if box else None,
        "bbox_top": box.top if box else None,
        "bbox_width": box.width if box else None,
        "bbox_height": box.height if box else None,
        "data": dict(d.data),
    }


def write_page(
    session: Session, job: AnalysisJob, page_index: int, items: Sequence[ParsedDetection]
) -> None:
    """Replace one page's rows in bulk: collecting a page twice leaves the same rows."""
    session.execute(
        delete(Detection).where(Detection.job_id == job.id, Detection.page_index == page_index)
    )
    if items:
        rows = [_detection_row(job, page_index, i, d) for i, d in enumerate(items)]
        session.execute(insert(Detection), rows)


def finish_pages(session: Session, job: AnalysisJob, pages: int) -> int:
    """Drop rows of pages beyond the last one collected; returns the job's item count."""
    session.execute(
        delete(Detection).where(Detection.job_id == job.id, Detection.page_index >= pages)
    )
    count = session.scalar(select(func.count()).where(Detection.job_id == job.id))
    job.pages_collected = pages
    job.items_collected = int(count or 0)
    return job.items_collected


def replace_ranges(session: Session, job: AnalysisJob, ranges: Sequence[Mapping[str, Any]]) -> None:
    session.execute(delete(TimelineRange).where(TimelineRange.job_id == job.id))
    if ranges:
        rows = [{"job_id": job.id, "video_id": job.video_id, **r} for r in ranges]
        session.execute(insert(TimelineRange), rows)


def job_detections(session: Session, job: AnalysisJob) -> Sequence[Detection]:
    return session.scalars(
        select(Detection)
        .where(Detection.job_id == job.id)
        .order_by(Detection.page_index, Detection.item_index)
    ).all()


def upsert_clip(session: Session, clip: Clip) -> Clip:
    """Register a verified clip, replacing the row for the same (video, kind, seq, mode)."""
    session.execute(
        delete(Clip).where(
            Clip.video_id == clip.video_id,
            Clip.kind == clip.kind,
            Clip.seq == clip.seq,
            Clip.mode == clip.mode,
        )
    )
    session.add(clip)
    return clip
