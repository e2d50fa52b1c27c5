"""Clips of videos analysed by the Rekognition engine also go to S3, next to the video.

Key: `<VIDX_S3_PREFIX>/<sha256>/clips/<clip file name>`. A clip is uploaded after it
is verified and registered; the row then gets its s3:// URI. A clip whose upload
failed stays registered without a URI, and the next run of the clips step (a retried
task, `vidx clips`) uploads it without cutting it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from models import AnalysisJob, Clip, Video
from worker.aws.s3 import clip_key, put_file
from worker.context import AppContext
from worker.media.hashing import sha256_file


@dataclass(frozen=True)
class S3Target:
    bucket: str
    prefix: str
    video_sha256: str


def s3_target(ctx: AppContext, video_id: str) -> S3Target | None:
    """Where the video's clips go, or None: not analysed on AWS, or no bucket set."""
    bucket = ctx.settings.s3_bucket
    if not bucket:
        return None
    with ctx.db.session() as s:
        sha256 = s.scalar(select(Video.sha256).where(Video.id == video_id))
        on_aws = s.scalar(
            select(AnalysisJob.id)
            .where(AnalysisJob.video_id == video_id, AnalysisJob.engine == "aws")
            .limit(1)
        )
    # a video known only by an s3:// URI has no local copy, hence no clips and no hash
    if on_aws is None or sha256 is None:
        return None
    return S3Target(bucket, ctx.settings.s3_prefix, sha256)


def publish(ctx: AppContext, target: S3Target | None, clip: Clip) -> Clip:
    """Upload a registered clip unless it is already up (or has nowhere to go)."""
    if target is None or clip.s3_uri:
        return clip
    path = Path(clip.path)
    key = clip_key(target.prefix, target.video_sha256, path.name)
    uri = put_file(ctx.aws.s3, path, target.bucket, key, sha256_file(path)).uri
    with ctx.db.session() as s:
        row = s.get(Clip, clip.id)
        if row is not None:
            row.s3_uri = uri
    clip.s3_uri = uri
    return clip
