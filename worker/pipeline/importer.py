"""`vidx import`: recorded Get* pages through the same parser and store as any engine.

Every page is read, parsed and checked (recorded.py) before anything is written, and
the video they land on is checked against their VideoMetadata, so a refused set leaves
no trace. The video is the one given (`--video`), else the one the pages name: a video
vidx tagged the job with (JobTag = its id), the video of their S3 object, or one
registered from the pages' VideoMetadata (no media file) with an id derived from the
S3 object, the JobTag or the JobId, so several features of one job's video land on one
video. Pages that name nothing get an id from their content: importing them again is
the same video with the same rows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import JobState, Video
from worker.context import AppContext
from worker.engines.port import Feature
from worker.errors import InputError, VideoNotFoundError
from worker.pipeline import recorded
from worker.pipeline.collect import fill_facts, store_pages
from worker.pipeline.jobs import internal_error, set_state
from worker.pipeline.recorded import Recorded, Source
from worker.results import VideoMeta
from worker.store import get_or_create_job
from worker.store import set_state as store_set_state

ENGINE = "import"
MAX_NAME = 255


@dataclass(frozen=True)
class Imported:
    video_id: str
    job_id: int
    items: int


def import_pages(
    ctx: AppContext,
    feature: Feature,
    paths: Sequence[Path],
    video_id: str | None = None,
    name: str | None = None,
) -> Imported:
    if not paths:
        raise InputError("vidx import", "no page files given")
    if name is not None:
        _check_name(name)
    pages = [recorded.read(p, feature) for p in paths]
    recorded.check_set(feature, pages)
    raw = [r.page for r in pages]
    digest = hashlib.sha256(json.dumps([feature.value, raw], sort_keys=True).encode()).hexdigest()
    with ctx.db.session() as s:
        video = _target(s, pages, video_id, digest)
        if name is not None:
            video.filename = name
        job = get_or_create_job(s, video, feature.value, {"pages_sha256": digest}, ENGINE)
        job.engine_job_id = str(raw[0].get("JobId") or f"import-{digest[:32]}")
        store_set_state(job, JobState.COLLECTING)
        if feature.value not in video.requested_features:
            video.requested_features = sorted({*video.requested_features, feature.value})
        ids = (video.id, job.id)
    try:
        items = store_pages(ctx, ids[1], feature, raw)
    except Exception as exc:
        set_state(ctx, ids[1], JobState.FAILED, internal_error(exc))
        raise
    return Imported(ids[0], ids[1], items)


def _check_name(name: str) -> None:
    bad = not name.strip() or len(name) > MAX_NAME or any(c in name for c in "/\\")
    if bad or not name.isprintable():
        raise InputError(
            "--name", f"{name!r} is not a file name (1-{MAX_NAME} printable characters, no /)"
        )


def _target(s: Session, pages: Sequence[Recorded], video_id: str | None, digest: str) -> Video:
    """The video the pages land on, checked against their VideoMetadata (or added)."""
    meta = recorded.meta_of(pages)
    if video_id is not None:
        video = s.get(Video, video_id)
        if video is None:
            raise VideoNotFoundError(video_id)
    else:
        source = recorded.source_of(pages)
        video = _named_by(s, source) or s.get(Video, _derived_id(source, digest))
        if video is None:
            video = _video_from_pages(_derived_id(source, digest), source, pages[0].path, meta)
            s.add(video)
            return video
    if meta is not None and video.duration_ms > 0:  # an s3:// video learns its facts later
        facts = (video.duration_ms, video.width, video.height, video.rotation)
        recorded.check_fits(pages[0].path, meta, video.id, facts)
    return video


def _named_by(s: Session, source: Source) -> Video | None:
    """A video the pages name: vidx tags its Rekognition jobs with the video id, and a
    video uploaded to (or given as) an S3 object is found by it."""
    tagged = source.job_tag is not None and len(source.job_tag) <= 32
    if tagged and (video := s.get(Video, source.job_tag)) is not None:
        return video
    if source.s3_bucket is None or source.s3_key is None:
        return None
    return s.scalars(
        select(Video)
        .where(Video.s3_bucket == source.s3_bucket, Video.s3_key == source.s3_key)
        .order_by(Video.created_at, Video.id)
        .limit(1)
    ).first()


def _derived_id(source: Source, digest: str) -> str:
    if source.uri is not None:
        basis = f"s3:{source.uri}"
    elif source.job_tag is not None:
        basis = f"jobtag:{source.job_tag}"
    elif source.job_id is not None:
        basis = f"jobid:{source.job_id}"
    else:
        return f"i{digest[:15]}"
    return "i" + hashlib.sha256(basis.encode()).hexdigest()[:15]


def _video_from_pages(video_id: str, source: Source, first: Path, meta: VideoMeta | None) -> Video:
    if meta is None:
        raise InputError(first, "no VideoMetadata in the pages: give --video ID")
    video = Video(
        id=video_id,
        sha256=None,
        source=source.uri or f"import:{first.resolve()}",
        filename=source.file_name or first.name,
        cfr=True,
        rotation=0,
        s3_bucket=source.s3_bucket,
        s3_key=source.s3_key,
        requested_features=[],
        requested_clips=[],
    )
    fill_facts(video, meta)
    return video
