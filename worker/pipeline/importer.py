"""`vidx import`: recorded Get* pages through the same parser and store as any engine.

Every page is read and parsed before anything is written, so a bad file leaves no
trace. Without a video id, the video is registered from the pages' VideoMetadata
(no media file); its id comes from the pages' content, so importing the same pages
again is the same video with the same rows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models import JobState, Video
from worker.context import AppContext
from worker.engines.port import Feature
from worker.errors import InputError, VideoNotFoundError
from worker.pipeline.collect import store_pages
from worker.pipeline.jobs import internal_error, set_state
from worker.results import ResultParseError, VideoMeta, parse_page
from worker.store import get_or_create_job
from worker.store import set_state as store_set_state

ENGINE = "import"


@dataclass(frozen=True)
class Imported:
    video_id: str
    job_id: int
    items: int


def _read(path: Path, feature: Feature) -> tuple[dict[str, Any], VideoMeta | None]:
    try:
        page = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except IsADirectoryError:
        raise InputError(path, "is a directory, not a JSON page") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(path, f"not JSON: {exc}") from None
    try:
        parsed = parse_page(feature, page)
    except ResultParseError as exc:
        raise InputError(path, str(exc)) from None
    if parsed.job_status != "SUCCEEDED":
        raise InputError(path, f"the recorded job is {parsed.job_status}, not SUCCEEDED")
    return page, parsed.video


def import_pages(
    ctx: AppContext, feature: Feature, paths: Sequence[Path], video_id: str | None = None
) -> Imported:
    if not paths:
        raise InputError("vidx import", "no page files given")
    loaded = [_read(p, feature) for p in paths]
    pages = [page for page, _ in loaded]
    meta = next((m for _, m in loaded if m is not None), None)
    digest = hashlib.sha256(json.dumps([feature.value, pages], sort_keys=True).encode()).hexdigest()
    with ctx.db.session() as s:
        if video_id is not None:
            video = s.get(Video, video_id)
            if video is None:
                raise VideoNotFoundError(video_id)
        else:
            video = _video_from_pages(s.get(Video, f"i{digest[:15]}"), digest, paths[0], meta)
            s.add(video)
        job = get_or_create_job(s, video, feature.value, {"pages_sha256": digest}, ENGINE)
        job.engine_job_id = str(pages[0].get("JobId") or f"import-{digest[:32]}")
        store_set_state(job, JobState.COLLECTING)
        if feature.value not in video.requested_features:
            video.requested_features = sorted({*video.requested_features, feature.value})
        ids = (video.id, job.id)
    try:
        items = store_pages(ctx, ids[1], feature, pages)
    except Exception as exc:
        set_state(ctx, ids[1], JobState.FAILED, internal_error(exc))
        raise
    return Imported(ids[0], ids[1], items)


def _video_from_pages(
    existing: Video | None, digest: str, first: Path, meta: VideoMeta | None
) -> Video:
    if existing is not None:
        return existing
    if meta is None:
        raise InputError(first, "no VideoMetadata in the pages: give --video ID")
    return Video(
        id=f"i{digest[:15]}",
        sha256=None,
        source=f"import:{first.resolve()}",
        filename=first.name,
        container=meta.container,
        duration_ms=meta.duration_ms,
        fps_num=meta.fps.numerator,
        fps_den=meta.fps.denominator,
        cfr=True,
        frame_count=int(meta.duration_ms * meta.fps / 1000),
        width=meta.width,
        height=meta.height,
        rotation=0,
        video_codec=meta.codec,
        requested_features=[],
        requested_clips=[],
    )
