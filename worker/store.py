"""Writes to the database: bulk, idempotent, one transaction per unit of work."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any, TypedDict, cast

from sqlalchemy import JSON, Table, delete, func, insert, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from models import AnalysisJob, Clip, Detection, JobState, TimelineRange, Video, utcnow
from worker.read_model import Range
from worker.results import ParsedDetection


def bulk_insert(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert many rows in the session's transaction, by the fastest path of each database.

    Measured with benchmarks/ingest.py: the ORM's bulk insert stores ~4k rows/s on
    PostgreSQL (psycopg pipelines one INSERT per row), COPY an order of magnitude more;
    on SQLite the driver's own executemany is ~30% faster than going through Core.
    """
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    columns = list(rows[0])
    json_cols = {c for c in columns if isinstance(table.c[c].type, JSON | JSONB)}

    def values(row: Mapping[str, Any]) -> list[Any]:
        return [json.dumps(row[c]) if c in json_cols else row[c] for c in columns]

    names = ", ".join(f'"{c}"' for c in columns)
    if dialect == "postgresql":
        raw = session.connection().connection.driver_connection
        assert raw is not None
        with raw.cursor() as cur, cur.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(values(row))
    elif dialect == "sqlite":
        marks = ", ".join("?" for _ in columns)
        session.connection().exec_driver_sql(
            f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})',
            [tuple(values(row)) for row in rows],
        )
    else:
        session.execute(insert(table), list(rows))


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


class _Span(TypedDict):
    job_id: int
    video_id: str
    kind: str
    name: str
    parent: str | None
    start_ms: int
    start_frame: int | None
    end_frame: int | None


class DetectionRow(_Span):
    """A `detections` row as the bulk insert takes it."""

    end_ms: int | None  # None: a point in time
    page_index: int
    item_index: int
    confidence: float | None
    bbox_left: float | None
    bbox_top: float | None
    bbox_width: float | None
    bbox_height: float | None
    data: dict[str, object]  # JSON column: the item's other members


class RangeRow(_Span):
    """A `timeline_ranges` row as the bulk insert takes it."""

    end_ms: int
    seq: int
    max_confidence: float | None
    detections: int
    data: dict[str, list[str]]  # JSON column: a label's parents; {} for other kinds


def _detection_row(
    job: AnalysisJob, page_index: int, item_index: int, d: ParsedDetection
) -> DetectionRow:
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
        bulk_insert(session, cast(Table, Detection.__table__), rows)


def finish_pages(session: Session, job: AnalysisJob, pages: int) -> int:
    """Drop rows of pages beyond the last one collected; returns the job's item count."""
    session.execute(
        delete(Detection).where(Detection.job_id == job.id, Detection.page_index >= pages)
    )
    count = session.scalar(select(func.count()).where(Detection.job_id == job.id))
    job.pages_collected = pages
    job.items_collected = int(count or 0)
    return job.items_collected


def clear_results(session: Session, job: AnalysisJob) -> None:
    """Remove a job's detections and timeline ranges (a collect that failed part-way)."""
    session.execute(delete(Detection).where(Detection.job_id == job.id))
    session.execute(delete(TimelineRange).where(TimelineRange.job_id == job.id))
    job.pages_collected = 0
    job.items_collected = 0


def replace_ranges(session: Session, job: AnalysisJob, ranges: Sequence[Range]) -> None:
    session.execute(delete(TimelineRange).where(TimelineRange.job_id == job.id))
    if ranges:
        rows = [_range_row(job, r) for r in ranges]
        bulk_insert(session, cast(Table, TimelineRange.__table__), rows)


def _range_row(job: AnalysisJob, r: Range) -> RangeRow:
    return {
        "job_id": job.id,
        "video_id": job.video_id,
        "kind": r.kind,
        "name": r.name,
        "parent": r.parent,
        "seq": r.seq,
        "start_ms": r.start_ms,
        "end_ms": r.end_ms,
        "start_frame": r.start_frame,
        "end_frame": r.end_frame,
        "max_confidence": r.max_confidence,
        "detections": r.detections,
        # JSON column: a label's parents (a list, empty when it has none); {} otherwise
        "data": {} if r.parents is None else {"parents": list(r.parents)},
    }


def upsert_clip(session: Session, clip: Clip) -> Clip:
    """Register a verified clip, replacing the row for the same request (video, kind,
    seq, mode asked for, codec)."""
    session.execute(
        delete(Clip).where(
            Clip.video_id == clip.video_id,
            Clip.kind == clip.kind,
            Clip.seq == clip.seq,
            Clip.requested_mode == clip.requested_mode,
            Clip.codec == clip.codec,
        )
    )
    session.add(clip)
    return clip
