"""Where an engine reads the video: the local file, or an S3 object uploaded once.

For engines that read S3 (Rekognition), the video is checked against the service's
limits, decoded once to refuse a corrupt file, transcoded locally when its codec or
container is not accepted, and uploaded under VIDX_S3_PREFIX/<sha256>/<name>; the
location is kept on the video so the upload happens once however many features and
retries follow.

Staging can take minutes (a decode, a transcode, a multi-GB upload), so it runs with no
database session open: the video is read in one short transaction, and what staging
learnt is recorded in another, which looks at the video again. A video deleted (or
marked for deletion) meanwhile gets nothing recorded; the transcode and the upload this
run made for it are removed, and the start stops with VideoDeletedError.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from worker.context import AppContext
from worker.engines.port import Engine, VideoSource
from worker.errors import VidxError
from worker.media import rekognition_limits
from worker.media.decode_check import check_decode
from worker.media.decode_errors import CHECK_KEY, DecodePage, refuse_if_corrupt
from worker.media.probe import probe
from worker.media.transcode import to_h264_mp4
from worker.pipeline import gone
from worker.progress import reporter

log = logging.getLogger(__name__)


def transcode_path(ctx: AppContext, sha256: str) -> Path:
    """The H.264 MP4 made for Rekognition of a video it cannot read as it is."""
    return ctx.settings.data_dir / "transcoded" / f"{sha256}.mp4"


@dataclass(frozen=True)
class _Video:
    """What staging needs of the video's row, read in a short transaction."""

    id: str
    sha256: str | None
    source: str
    s3_bucket: str | None
    s3_key: str | None
    decode_checked: bool


@dataclass(frozen=True)
class _Staged:
    """What staging made, recorded on the video afterwards (or removed if it was deleted)."""

    bucket: str
    key: str
    uploaded: bool  # this run put the object (it was not there yet)
    transcode: Path | None  # the transcode this run made
    decode_check: DecodePage | None  # the report of the check decode this run ran


def video_source(ctx: AppContext, video_id: str, engine: Engine) -> VideoSource:
    """Where `engine` reads the video; VideoDeletedError when it is gone or being deleted."""
    with ctx.db.session() as s:
        row = gone.live_video(s, video_id)
        video = _Video(
            row.id, row.sha256, row.source, row.s3_bucket, row.s3_key, CHECK_KEY in row.extra
        )
    if not engine.reads_s3:
        return VideoSource(video.id, video.sha256 or "", path=Path(video.source))
    bucket, key = video.s3_bucket, video.s3_key
    if bucket is None or key is None:
        bucket, key = _record(ctx, video, _stage(ctx, video))  # (no session open in _stage)
    return VideoSource(video.id, video.sha256 or "", s3_bucket=bucket, s3_key=key)


def _stage(ctx: AppContext, video: _Video) -> _Staged:
    from worker.aws.s3 import ensure_uploaded  # boto3 only where AWS is used

    bucket = ctx.settings.s3_bucket
    if not bucket:
        raise VidxError("VIDX_S3_BUCKET is not set: `vidx aws setup` prints the settings to use")
    if video.sha256 is None:
        raise VidxError(f"video {video.id} has no local file to upload")
    path = Path(video.source)
    info = probe(path)
    fit = rekognition_limits.check(info)
    rep = reporter()
    decode_check = None
    if not video.decode_checked:  # (`vidx run` checked before registering)
        # a corrupt file is refused before it is uploaded and paid for; the errors of
        # one that passes become notes on its timeline (decode_check.py has the costs)
        rep.step("check decode")
        report = check_decode(path, info)
        refuse_if_corrupt(path, report, ctx.settings.max_decode_error_ratio)
        decode_check = report.to_page()
    made = None
    if fit.needs_transcode:
        log.info("transcoding %s for Rekognition (%s)", path, fit.reason)
        rep.step("transcode")
        target = transcode_path(ctx, video.sha256)
        if not target.exists():
            to_h264_mp4(path, info, target)
            made = target
        path = target
    rep.step("upload", total=1.0)
    loc = ensure_uploaded(
        ctx.aws.s3,
        path,
        video.sha256,
        bucket,
        ctx.settings.s3_prefix,
        progress=rep.advance,
    )
    return _Staged(loc.bucket, loc.key, loc.uploaded, made, decode_check)


def _record(ctx: AppContext, video: _Video, staged: _Staged) -> tuple[str, str]:
    """Keep the location (and the check decode's report) on the video; the location to
    read. A twin run that staged the same video first keeps the one it recorded."""
    try:
        with ctx.db.session() as s:
            row = gone.live_video(s, video.id, lock=True)
            if staged.decode_check is not None and CHECK_KEY not in row.extra:
                row.extra = {**row.extra, CHECK_KEY: staged.decode_check}
            if row.s3_bucket is None or row.s3_key is None:
                row.s3_bucket, row.s3_key = staged.bucket, staged.key
                return staged.bucket, staged.key
            return row.s3_bucket, row.s3_key
    except gone.VideoDeletedError:
        _discard(ctx, video, staged)
        raise


def _discard(ctx: AppContext, video: _Video, staged: _Staged) -> None:
    """The video was deleted while it was staged: remove what this run made for it."""
    from worker.aws.s3 import delete_object

    log.info("video %s was deleted while it was staged; removing what was made", video.id)
    if staged.transcode is not None:
        gone.discard_made(ctx, video.id, staged.transcode)
    if staged.uploaded:
        try:
            delete_object(ctx.aws.s3, staged.bucket, staged.key)
        except VidxError as exc:
            log.warning(
                "video %s was deleted; could not remove s3://%s/%s: %s",
                video.id,
                staged.bucket,
                staged.key,
                exc,
            )
