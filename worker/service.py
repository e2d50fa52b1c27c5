"""Use cases the CLI (and later the API) call: submit a video, check the schema."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from worker.celery_app import check_broker
from worker.context import AppContext
from worker.db import alembic_config
from worker.engines.port import Feature
from worker.errors import VidxError
from worker.pipeline import ingest, jobs
from worker.pipeline.clips import AVAILABLE_MODES, CLIP_KINDS, MODES


@dataclass(frozen=True)
class Submitted:
    video_id: str
    job_ids: list[int]
    duration_ms: int


def parse_features(text: str) -> list[Feature]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    try:
        return list(dict.fromkeys(Feature(n) for n in names))
    except ValueError as exc:
        valid = ", ".join(f.value for f in Feature)
        raise VidxError(f"unknown feature in {text!r} (choose from: {valid})") from exc


def parse_clip_kinds(text: str | None) -> list[str]:
    kinds = [k.strip() for k in (text or "").split(",") if k.strip()]
    for k in kinds:
        if k not in CLIP_KINDS:
            raise VidxError(f"unknown clip kind {k!r} (choose from: {', '.join(CLIP_KINDS)})")
    return kinds


def check_mode(mode: str) -> None:
    if mode not in MODES:
        raise VidxError(f"unknown clip mode {mode!r} (choose from: {', '.join(MODES)})")
    if mode not in AVAILABLE_MODES:
        raise VidxError(f"clip mode {mode!r} is not available yet (available: accurate)")


def ensure_schema(ctx: AppContext) -> None:
    """Upgrade the embedded SQLite database; require a migrated server database."""
    if ctx.settings.effective_database_url.startswith("sqlite"):
        ctx.migrated_db()
        return
    head = ScriptDirectory.from_config(alembic_config("")).get_current_head()
    with ctx.db.engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current != head:
        raise VidxError(
            f"database schema is at {current or 'nothing'}, not {head}: run `vidx db upgrade`"
        )


def submit(
    ctx: AppContext,
    path: Path,
    features: Sequence[Feature],
    engine: str,
    clip_kinds: Sequence[str],
    mode: str,
) -> Submitted:
    """Validate everything, then register the video and its jobs and enqueue the work.

    Nothing is written before the input and the options are known to be good.
    """
    check_mode(mode)
    jobs.check_supported(ctx, features, engine)
    if clip_kinds and Feature.SEGMENTS not in features:
        raise VidxError("clips need the segments feature (add it to --features, or --clips none)")
    inspected = ingest.inspect(path)
    ensure_schema(ctx)
    check_broker()
    with ctx.db.session() as s:
        video = ingest.register(s, inspected, [f.value for f in features], clip_kinds, mode)
        video_id = video.id
    job_ids = jobs.create_jobs(ctx, video_id, features, engine)
    from worker.tasks import analyze  # the Celery app is configured on first use

    analyze.delay(video_id, job_ids)
    return Submitted(video_id, job_ids, inspected.info.duration_ms)
