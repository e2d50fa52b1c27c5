"""Where an engine reads the video: the local file, or an S3 object uploaded once.

For engines that read S3 (Rekognition), the video is checked against the service's
limits, decoded once to refuse a corrupt file, transcoded locally when its codec or
container is not accepted, and uploaded under VIDX_S3_PREFIX/<sha256>/<name>; the
location is kept on the video so the upload happens once however many features and
retries follow.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy.orm import Session

from models import Video
from worker.context import AppContext
from worker.engines.port import Engine, VideoSource
from worker.errors import VidxError
from worker.media import rekognition_limits
from worker.media.decode_check import check_decode
from worker.media.decode_errors import CHECK_KEY, refuse_if_corrupt
from worker.media.probe import probe
from worker.media.transcode import to_h264_mp4
from worker.progress import reporter

log = logging.getLogger(__name__)


def transcode_path(ctx: AppContext, sha256: str) -> Path:
    """The H.264 MP4 made for Rekognition of a video it cannot read as it is."""
    return ctx.settings.data_dir / "transcoded" / f"{sha256}.mp4"


def video_source(ctx: AppContext, session: Session, video: Video, engine: Engine) -> VideoSource:
    if not engine.reads_s3:
        return VideoSource(video.id, video.sha256 or "", path=Path(video.source))
    if video.s3_bucket is None or video.s3_key is None:
        _stage(ctx, video)
    return VideoSource(video.id, video.sha256 or "", s3_bucket=video.s3_bucket, s3_key=video.s3_key)


def _stage(ctx: AppContext, video: Video) -> None:
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
    if CHECK_KEY not in video.extra:  # (`vidx run` checked before registering)
        # a corrupt file is refused before it is uploaded and paid for; the errors of
        # one that passes become notes on its timeline (decode_check.py has the costs)
        rep.step("check decode")
        report = check_decode(path, info)
        refuse_if_corrupt(path, report, ctx.settings.max_decode_error_ratio)
        video.extra = {**video.extra, CHECK_KEY: report.to_page()}
    if fit.needs_transcode:
        log.info("transcoding %s for Rekognition (%s)", path, fit.reason)
        rep.step("transcode")
        target = transcode_path(ctx, video.sha256)
        if not target.exists():
            to_h264_mp4(path, info, target)
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
    video.s3_bucket, video.s3_key = loc.bucket, loc.key
