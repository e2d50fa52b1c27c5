"""Use cases the CLI and the API share: submit, wait for and delete a video.

Wiring (clients, the poller) is in worker/wiring.py and worker/context.py; the next
steps go out through the context's enqueue port (worker/enqueue.py), never straight to
Celery.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy.orm import Session

from models import Video
from worker import deletion
from worker.context import AppContext
from worker.db import require_head
from worker.engines.port import Feature, JobRequest, StartsTogether, VideoSource
from worker.errors import InputError, VidxError
from worker.media import rekognition_limits
from worker.media.cut_codec import resolve
from worker.pipeline import clip_request, gone, ingest, jobs
from worker.pipeline.reconcile import follow_up, reconcile
from worker.progress import reporter
from worker.store import client_token

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Submitted:
    video_id: str
    job_ids: list[int]
    duration_ms: int
    notes: list[str] = field(default_factory=list)


def parse_features(text: str) -> list[Feature]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    try:
        return list(dict.fromkeys(Feature(n) for n in names))
    except ValueError as exc:
        valid = ", ".join(f.value for f in Feature)
        raise VidxError(f"unknown feature in {text!r} (choose from: {valid})") from exc


def ensure_schema(ctx: AppContext) -> None:
    """Upgrade the embedded SQLite database; require a migrated server database."""
    if ctx.settings.effective_database_url.startswith("sqlite"):
        ctx.migrated_db()
    else:
        require_head(ctx.db.engine)


def _schema_checked(
    use_case: Callable[Concatenate[AppContext, P], R],
) -> Callable[Concatenate[AppContext, P], R]:
    """The use case, run after `ensure_schema` (a database that is not ready is one
    clear error line, before anything is touched)."""

    @functools.wraps(use_case)
    def checked(ctx: AppContext, /, *args: P.args, **kwargs: P.kwargs) -> R:
        ensure_schema(ctx)
        return use_case(ctx, *args, **kwargs)

    return checked


def submit(
    ctx: AppContext,
    source: Path | str,
    features: Sequence[Feature],
    engine: str,
    clip_kinds: Sequence[str],
    mode: str,
    force: bool = False,
    *,
    min_length_ms: int = 0,
    keep_opening_credits: bool = False,
    codec: str = clip_request.DEFAULT_CODEC,
    enqueue: Callable[[str, list[int]], None] | None = None,
    analyse_first: bool = False,
) -> Submitted:
    """Validate everything, then register the video and its jobs and enqueue the work.

    Nothing is written before the input and the options are known to be good.
    `force` starts failed (or expired) jobs of the requested features again.
    `enqueue(video_id, job_ids)` replaces the enqueue port's `analyze` (the HTTP API runs
    in-process work on a thread of its own, so a request does not wait for the analysis).
    `analyse_first` (`vidx run`, in-process): with the local engine, analyse before
    anything is written, so a file refused while decoding (corrupt) leaves nothing; with
    another engine, make the check decode the worker would make before the upload.
    """
    clip_request.check_request(clip_kinds, mode, codec, min_length_ms)
    jobs.check_supported(ctx, features, engine)
    if clip_kinds and Feature.SEGMENTS not in features:
        raise VidxError("clips need the segments feature (add it to --features, or --clips none)")
    notes: list[str] = []
    if str(source).startswith("s3://"):
        if engine == "local":
            raise VidxError(f"{source}: the local engine reads local files; use --engine aws")
        if clip_kinds:
            raise VidxError(f"{source}: clips need a local copy of the video (use --clips none)")
        register = _s3_registration(ctx, str(source), features)
        duration_ms = 0
    else:
        inspected = ingest.inspect(Path(source))
        if clip_kinds:  # copy mode cannot give another codec than the source's: say so now
            try:
                resolve(codec, inspected.info.video_codec, mode)
            except VidxError as exc:
                raise InputError(source, str(exc)) from None
        if engine != "local":
            fit = rekognition_limits.check(inspected.info)  # refuses over-limit files here
            if fit.needs_transcode:
                notes.append(f"will be transcoded to H.264 MP4 before upload ({fit.reason})")
        duration_ms = inspected.info.duration_ms
        if analyse_first and engine == "local":
            _analyse_locally(ctx, inspected, features)
        elif analyse_first:  # Rekognition decodes it: check before it is uploaded (stage.py)
            inspected = ingest.check_decoding(inspected, ctx.settings.max_decode_error_ratio)

        def register(s: Session) -> Video:
            return ingest.register(
                s,
                inspected,
                [f.value for f in features],
                clip_kinds,
                mode,
                min_length_ms,
                keep_opening_credits,
                codec,
            )

    ensure_schema(ctx)
    port = ctx.enqueue
    port.check()
    with ctx.db.session() as s:
        video = register(s)
        gone.refuse_if_deleting(video)  # (rolls the registration back)
        video_id = video.id
    job_ids = jobs.create_jobs(ctx, video_id, features, engine)
    if force:
        restarted = jobs.restart_failed(ctx, video_id, features)
        if restarted:
            notes.append(f"restarting {len(restarted)} failed job(s)")
    (enqueue or port.analyze)(video_id, job_ids)
    return Submitted(video_id, job_ids, duration_ms, notes)


# `vidx delete` and `DELETE /videos/{id}` (worker/deletion.py has what it removes, in
# which order, and why it is safe to run again)
delete_video = _schema_checked(deletion.delete_video)


def wait_in_process(
    ctx: AppContext, video_id: str, poll_s: float = 5.0, timeout_s: float = 6 * 3600
) -> None:
    """`vidx run` with a remote engine and no poller: ask the engine until every job ends.

    Each round is a reconcile run over every job in flight, whatever its age (Get*,
    MaxResults 1), whose findings are sent as the `reconcile` task sends them: collects
    and failed jobs' ends in this process, and what waits in the backlog (sent back by
    LimitExceeded) starts again here, once a round: no beat drains the backlog in this
    process, and no other job's end may do it.
    """
    deadline = time.monotonic() + timeout_s
    while not jobs.video_jobs_done(ctx, video_id):
        if time.monotonic() > deadline:
            raise VidxError(f"video {video_id}: jobs still running after {timeout_s:.0f} s")
        report = reconcile(ctx, min_age_s=0)
        follow_up(report, ctx.enqueue)
        if not report.to_collect:
            time.sleep(poll_s)


def _analyse_locally(
    ctx: AppContext, inspected: ingest.Inspected, features: Sequence[Feature]
) -> None:
    """Run the local engine's jobs before the video is registered. The engine keeps each
    result under the job's client token (content hash, feature, parameters), so the jobs
    registered next find their results instead of decoding again; a file refused while
    decoding raises here, before any row, job or file is written."""
    engine = ctx.engine("local")
    rep = reporter()
    source = VideoSource(inspected.video_id, inspected.sha256, path=inspected.info.path)
    requests = []
    for feature in features:
        params = dict(jobs.DEFAULT_PARAMS[feature])
        token = client_token(inspected.sha256, feature.value, params)
        requests.append(JobRequest(feature, source, token, params))
    if isinstance(engine, StartsTogether) and len(requests) > 1:  # one decode for every feature
        rep.step("+".join(r.feature.value for r in requests), total=1.0)
        engine.start_many(requests, progress=rep.advance)
        return
    for request in requests:
        rep.step(request.feature.value, total=1.0)
        engine.start(request, progress=rep.advance)


def _s3_registration(
    ctx: AppContext, uri: str, features: Sequence[Feature]
) -> Callable[[Session], Video]:
    """A video known by its S3 object: facts arrive with the first result's VideoMetadata."""
    from worker.aws.s3 import input_object

    bucket, key, size = input_object(ctx.aws.s3, uri, ctx.settings.input_buckets)
    if size > rekognition_limits.MAX_BYTES:
        raise VidxError(f"{uri}: too large for Rekognition: {size / 1e9:.2f} GB (limit 10 GB)")
    # no content hash without downloading: the object's URI and size name the video
    video_id = "s" + hashlib.sha256(f"{uri}|{size}".encode()).hexdigest()[:15]

    def register(s: Session) -> Video:
        video = s.get(Video, video_id)
        if video is None:
            video = Video(
                id=video_id,
                sha256=None,
                source=uri,
                filename=PurePosixPath(key).name or key,
                size_bytes=size,
                duration_ms=0,
                fps_num=0,
                fps_den=1,
                frame_count=0,
                width=0,
                height=0,
                s3_bucket=bucket,
                s3_key=key,
                requested_features=[],
                requested_clips=[],
            )
            s.add(video)
        video.requested_features = sorted({*video.requested_features, *(f.value for f in features)})
        s.flush()
        return video

    return register
