"""`vidx delete` / `DELETE /videos/{id}`: a video's rows, files and (asked) S3 objects.

Order, so that a failure or a crash at any point leaves nothing a later delete cannot
finish:
1. One transaction: refuse a video with jobs in flight (unless forced: its jobs are then
   failed, so no start, collect or reconciler run writes for them again), mark the video
   as being deleted (pipeline steps under way see the mark and write nothing more,
   worker/pipeline/gone.py), and read what there is to remove.
2. The job slots its jobs held are freed.
3. Files: the video's clip and thumbnail folders, its engine results and transcode, and
   the copy of an upload (API) under the data dir unless `keep_source`. Nothing outside
   the data dir is touched: a user's own file given to `vidx run` stays where it is.
4. With `remote`: its objects under `VIDX_S3_PREFIX/<sha256>/` (upload, transcode, clips),
   unless another video reads from that folder.
5. One transaction: every row of the video (detections, ranges, clips, thumbnails, jobs,
   dead letters naming it, the video).
A file or an S3 object that cannot be removed stops the delete before step 5 with one
error naming it; the video stays marked, and `vidx delete ID` again (no --force needed)
finishes the work. Once the rows are gone the id is unknown: a second delete answers
"no video with id ...", like every command given an unknown id.
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, delete, or_, select
from sqlalchemy.orm import Session

from models import (
    AnalysisJob,
    Clip,
    DeadLetter,
    Detection,
    JobState,
    Thumbnail,
    TimelineRange,
    Video,
    utcnow,
)
from worker.context import AppContext
from worker.engines.local.engine import LocalEngine
from worker.errors import (
    ConflictError,
    IncompleteError,
    SlotsUnavailableError,
    VideoNotFoundError,
    VidxError,
)
from worker.pipeline.gone import DELETING_KEY, inside, is_deleting
from worker.pipeline.stage import transcode_path
from worker.store import client_token
from worker.store import set_state as store_set_state

log = logging.getLogger(__name__)

IN_FLIGHT = (JobState.PENDING, JobState.STARTING, JobState.IN_PROGRESS, JobState.COLLECTING)
DELETED_MESSAGE = "the video is being deleted"
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # ids name folders: nothing that climbs out


@dataclass(frozen=True)
class Deleted:
    """What a delete removed, and what it left on purpose (`kept`, with the reason)."""

    video_id: str
    rows: dict[str, int]
    files: list[str]
    s3_objects: list[str]
    kept: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Plan:
    video_id: str
    trees: list[Path]  # the video's own folders, removed whole
    files: list[Path]  # files under the data dir
    empty_dirs: list[Path]  # folders removed when this left them empty
    kept: list[str]
    slots: list[tuple[str, int]] = field(default_factory=list)  # (engine, job id) in flight
    s3_folders: list[tuple[str, str]] = field(default_factory=list)  # (bucket, prefix)
    notes: list[str] = field(default_factory=list)


def delete_video(
    ctx: AppContext,
    video_id: str,
    *,
    keep_source: bool = False,
    force: bool = False,
    remote: bool = False,
) -> Deleted:
    """The video's rows, its files under the data dir (the uploaded source too unless
    `keep_source`), with `remote` its S3 objects. Refused (ConflictError) while its jobs
    are in flight unless `force`; an unknown id is NotFoundError."""
    plan = _mark(ctx, video_id, force=force, keep_source=keep_source, remote=remote)
    _free_slots(ctx, plan)
    files = _remove_files(ctx, plan)
    s3_objects = _remove_s3(ctx, plan) if remote else []
    rows = _delete_rows(ctx, video_id)
    log.info("deleted video %s: %s rows, %s files", video_id, sum(rows.values()), len(files))
    return Deleted(video_id, rows, files, s3_objects, plan.kept, plan.notes)


def _summary(jobs: Sequence[AnalysisJob]) -> str:
    return ", ".join(f"{j.feature} {j.state}" for j in jobs)


def _mark(ctx: AppContext, video_id: str, *, force: bool, keep_source: bool, remote: bool) -> _Plan:
    with ctx.db.session() as s:
        video = s.scalar(select(Video).where(Video.id == video_id).with_for_update())
        if video is None:
            raise VideoNotFoundError(video_id)
        jobs = list(s.scalars(select(AnalysisJob).where(AnalysisJob.video_id == video_id)))
        flying = [j for j in jobs if j.state in IN_FLIGHT]
        begun = is_deleting(video)  # an earlier delete stopped part-way: finish it
        if flying and not (force or begun):
            raise ConflictError(
                f"video {video_id} has jobs in flight ({_summary(flying)}): "
                "wait for them to finish, or delete with --force (API: force=true)"
            )
        for job in flying:  # no run of a step writes for these jobs again (leases fenced)
            store_set_state(job, JobState.FAILED, DELETED_MESSAGE)
            job.lease_owner = job.lease_until = None
        if not begun:
            video.extra = {**(video.extra or {}), DELETING_KEY: utcnow().isoformat()}
        plan = _plan(ctx, s, video, jobs, keep_source, remote)
        plan.slots = [(j.engine, j.id) for j in flying]
    return plan


def _plan(
    ctx: AppContext,
    s: Session,
    video: Video,
    jobs: Sequence[AnalysisJob],
    keep_source: bool,
    remote: bool,
) -> _Plan:
    settings = ctx.settings
    data_dir = settings.data_dir.resolve()
    if not _SAFE_ID.match(video.id):
        raise VidxError(f"video id {video.id!r} cannot name a folder; not deleting its files")
    trees = [settings.clips_dir / video.id, settings.thumbs_dir / video.id]
    files: list[Path] = []
    empty_dirs: list[Path] = []
    kept: list[str] = []
    clips = list(s.scalars(select(Clip).where(Clip.video_id == video.id)))
    thumbs = s.scalars(select(Thumbnail.path).where(Thumbnail.video_id == video.id))
    for path in [*(Path(c.path) for c in clips), *map(Path, thumbs)]:
        if inside(path, data_dir):
            files.append(path)
        else:  # cut to a folder the user chose (`vidx clips --out`): the user's
            kept.append(f"{path} (outside the data dir)")
    if video.sha256:
        files.append(transcode_path(ctx, video.sha256))
    files += _engine_results(ctx, video, jobs)
    if not video.source.startswith(("s3://", "import:")):
        source = Path(video.source)
        uploads = data_dir / "uploads"
        if not inside(source, uploads):
            kept.append(f"{source} (the source file: vidx never deletes a user's file)")
        elif keep_source:
            kept.append(f"{source} (--keep-source)")
        else:
            files.append(source)
            if source.parent.resolve() != uploads:
                empty_dirs.append(source.parent)  # uploads/<sha256 prefix>/
    plan = _Plan(video.id, trees, files, empty_dirs, kept)
    if remote:
        plan.s3_folders = _s3_folders(ctx, s, video, clips, jobs, plan)
    return plan


def _engine_results(ctx: AppContext, video: Video, jobs: Sequence[AnalysisJob]) -> list[Path]:
    """The local engine's result files of the video's jobs, every restart generation's."""
    local = [j for j in jobs if j.engine == "local"]
    engine = ctx.engine("local") if local else None
    if not isinstance(engine, LocalEngine):
        return []
    base = video.sha256 or video.id
    return [
        engine.result_path(client_token(base, j.feature, j.params, g))
        for j in local
        for g in range(j.generation + 1)
    ]


def _s3_folders(
    ctx: AppContext,
    s: Session,
    video: Video,
    clips: Sequence[Clip],
    jobs: Sequence[AnalysisJob],
    plan: _Plan,
) -> list[tuple[str, str]]:
    """The S3 folders holding only this video's objects: `<prefix>/<sha256>/` in each
    bucket it was uploaded to. A video known by its s3:// URI has no folder of its own
    (its object is the user's); a folder another video reads from is kept."""
    from worker.aws.s3 import parse_s3_uri, video_folder

    if video.sha256 is None:
        if video.s3_bucket:
            plan.kept.append(f"s3://{video.s3_bucket}/{video.s3_key} (the video's own object)")
        return []
    buckets = {parse_s3_uri(c.s3_uri)[0] for c in clips if c.s3_uri}
    if video.s3_bucket:
        buckets.add(video.s3_bucket)
    if any(j.engine == "aws" for j in jobs) and ctx.settings.s3_bucket:
        buckets.add(ctx.settings.s3_bucket)  # an upload whose row update was lost
    if not buckets:
        plan.notes.append("nothing of this video in S3 (it was not analysed on AWS)")
        return []
    prefixes = {video_folder(ctx.settings.s3_prefix, video.sha256)}
    mark = f"{video.sha256}/"
    if video.s3_key and mark in video.s3_key:  # uploaded under another VIDX_S3_PREFIX
        prefixes.add(video.s3_key[: video.s3_key.index(mark) + len(mark)])
    out: list[tuple[str, str]] = []
    for bucket in sorted(buckets):
        for prefix in sorted(prefixes):
            other = _other_reader(s, video.id, bucket, prefix)
            if other is None:
                out.append((bucket, prefix))
            else:
                plan.kept.append(f"s3://{bucket}/{prefix} (video {other} reads from it)")
    return out


def _other_reader(s: Session, video_id: str, bucket: str, prefix: str) -> str | None:
    uri = f"s3://{bucket}/{prefix}"
    return s.scalar(
        select(Video.id)
        .outerjoin(Clip, Clip.video_id == Video.id)
        .where(
            Video.id != video_id,
            or_(
                (Video.s3_bucket == bucket) & Video.s3_key.startswith(prefix, autoescape=True),
                Clip.s3_uri.startswith(uri, autoescape=True),
            ),
        )
        .limit(1)
    )


def _free_slots(ctx: AppContext, plan: _Plan) -> None:
    from worker.pipeline.start import slot_key

    for engine, job_id in plan.slots:
        slots = ctx.slots(engine)
        if slots is None:
            continue
        try:
            slots.release(slot_key(job_id))
        except SlotsUnavailableError as exc:  # the reconciler frees slots of gone jobs
            plan.notes.append(f"the job slots are freed by the reconciler ({exc})")
            return


def _remove_files(ctx: AppContext, plan: _Plan) -> list[str]:
    """Remove the planned files and folders (missing ones are fine); after trying them
    all, one error naming (relative to the data dir) what could not be removed."""
    data_dir = ctx.settings.data_dir.resolve()
    removed: list[str] = []
    failed: list[str] = []

    def attempt(path: Path, remove: Callable[[Path], None]) -> None:
        if not path.exists() and not path.is_symlink():
            return
        try:
            remove(path)
            removed.append(str(path))
        except FileNotFoundError:
            pass  # a twin delete (a retried request) removed it first: what was wanted
        except OSError as exc:
            failed.append(f"{_relative(path, data_dir)}: {exc.strerror or exc}")

    for tree in plan.trees:
        attempt(tree, _rmtree)
    for path in plan.files:
        attempt(path, Path.unlink)
    for folder in plan.empty_dirs:
        if folder.is_dir() and not any(folder.iterdir()):
            attempt(folder, Path.rmdir)
    if failed:
        log.warning("video %s: not removed: %s", plan.video_id, "; ".join(failed))
        raise IncompleteError(
            f"video {plan.video_id}: {len(failed)} file(s) in the data dir could not be "
            f"removed ({'; '.join(failed[:3])}); the video stays, marked as being deleted: "
            "fix that and delete it again to finish"
        )
    return removed


def _rmtree(path: Path) -> None:
    """shutil.rmtree, where entries a twin delete removes meanwhile count as removed."""

    def gone_is_fine(func: Callable[..., Any], name: str, exc: Any) -> None:
        if not issubclass(exc[0], FileNotFoundError):
            raise exc[1]

    shutil.rmtree(path, onerror=gone_is_fine)


def _relative(path: Path, data_dir: Path) -> str:
    """The path inside the data dir (messages name no absolute server path)."""
    real = path.parent.resolve() / path.name  # (a symlink itself is named, not its target)
    return str(real.relative_to(data_dir)) if real.is_relative_to(data_dir) else path.name


def _remove_s3(ctx: AppContext, plan: _Plan) -> list[str]:
    from worker.aws.s3 import delete_prefix

    out: list[str] = []
    for bucket, prefix in plan.s3_folders:
        try:
            out += delete_prefix(ctx.aws.s3, bucket, prefix)
        except VidxError as exc:
            raise IncompleteError(
                f"video {plan.video_id}: its S3 objects were not all removed ({exc}); the "
                "video stays, marked as being deleted: delete it again with --remote "
                "(API: remote=true) to finish"
            ) from None
    return out


def _delete_rows(ctx: AppContext, video_id: str) -> dict[str, int]:
    """Every row of the video in one transaction, children first (no reliance on the
    database's cascades); dead letters whose message names the video or its jobs."""
    with ctx.db.session() as s:
        engine_ids = [
            i
            for i in s.scalars(
                select(AnalysisJob.engine_job_id).where(AnalysisJob.video_id == video_id)
            )
            if i
        ]
        named = [DeadLetter.body.contains(t, autoescape=True) for t in [video_id, *engine_ids]]
        counts = {
            "detections": _gone(s, delete(Detection).where(Detection.video_id == video_id)),
            "timeline_ranges": _gone(
                s, delete(TimelineRange).where(TimelineRange.video_id == video_id)
            ),
            "clips": _gone(s, delete(Clip).where(Clip.video_id == video_id)),
            "thumbnails": _gone(s, delete(Thumbnail).where(Thumbnail.video_id == video_id)),
            "analysis_jobs": _gone(s, delete(AnalysisJob).where(AnalysisJob.video_id == video_id)),
            "dead_letters": _gone(s, delete(DeadLetter).where(or_(*named))),
            "videos": _gone(s, delete(Video).where(Video.id == video_id)),
        }
    return counts


def _gone(s: Session, statement: Any) -> int:
    return int(cast(CursorResult[Any], s.execute(statement)).rowcount or 0)
