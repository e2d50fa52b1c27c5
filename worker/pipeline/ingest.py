"""Ingest: validate and measure a file, then register it once per content hash.

Validation happens before anything is written: a bad input leaves the database and
the data dir exactly as they were.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Video
from worker.media.decode_check import check_decode
from worker.media.decode_errors import CHECK_KEY, DecodeReport, refuse_if_corrupt
from worker.media.hashing import sha256_file
from worker.media.info import MediaInfo
from worker.media.probe import probe
from worker.progress import reporter


@dataclass(frozen=True)
class Inspected:
    info: MediaInfo
    sha256: str
    decode: DecodeReport | None = None  # a check decode's, when one ran (check_decoding)

    @property
    def video_id(self) -> str:
        return video_id_for(self.sha256)


def video_id_for(sha256: str) -> str:
    # Derived from content, so the same file submitted twice (anywhere) is one video.
    return sha256[:16]


def inspect(path: Path) -> Inspected:
    """Probe and hash a local file; raises InputError naming the file and the problem."""
    rep = reporter()
    rep.step("probe")
    info = probe(path)
    rep.step("hash", total=1.0)
    digest = sha256_file(path, progress=lambda done, total: rep.advance(done / max(total, 1)))
    return Inspected(info=info, sha256=digest)


def check_decoding(inspected: Inspected, max_ratio: float) -> Inspected:
    """Decode the whole file once (decode_check.py): a corrupt file is refused here, before
    anything is written; the report goes with the video to `register`."""
    reporter().step("check decode")
    report = check_decode(inspected.info.path, inspected.info)
    refuse_if_corrupt(inspected.info.path, report, max_ratio)
    return dataclasses.replace(inspected, decode=report)


def register(
    session: Session,
    inspected: Inspected,
    features: Sequence[str],
    clips: Sequence[str],
    clip_mode: str,
    clip_min_length_ms: int = 0,
    clip_keep_opening_credits: bool = False,
) -> Video:
    """Find or create the video row; a resubmission adds what it asks for."""
    info = inspected.info
    video = session.scalar(select(Video).where(Video.sha256 == inspected.sha256))
    if video is None:
        video = Video(
            id=inspected.video_id,
            sha256=inspected.sha256,
            source=str(info.path.resolve()),
            filename=info.path.name,
            size_bytes=info.size_bytes,
            container=info.container,
            duration_ms=info.duration_ms,
            fps_num=info.fps.numerator,
            fps_den=info.fps.denominator,
            cfr=info.cfr,
            frame_count=info.frame_count,
            width=info.width,
            height=info.height,
            rotation=info.rotation,
            video_codec=info.video_codec,
            audio_codec=info.audio_codec,
            audio_channels=info.audio_channels,
            audio_sample_rate=info.audio_sample_rate,
            start_pts_ms=info.start_pts_ms,
            requested_features=sorted(set(features)),
            requested_clips=sorted(set(clips)),
            clip_mode=clip_mode,
            clip_min_length_ms=clip_min_length_ms,
            clip_keep_opening_credits=clip_keep_opening_credits,
        )
        session.add(video)
    else:
        # the file may have moved; keep a readable source and the union of requests
        if not Path(video.source).exists():
            video.source = str(info.path.resolve())
        video.requested_features = sorted(set(video.requested_features) | set(features))
        video.requested_clips = sorted(set(video.requested_clips) | set(clips))
        if clips:  # the latest request for clips says how to cut them
            video.clip_mode = clip_mode
            video.clip_min_length_ms = clip_min_length_ms
            video.clip_keep_opening_credits = clip_keep_opening_credits
    # same bytes, same timecode; this fills rows registered before it was probed
    video.start_timecode = info.start_timecode
    if inspected.decode is not None:
        video.extra = {**(video.extra or {}), CHECK_KEY: inspected.decode.to_page()}
    session.flush()
    return video
