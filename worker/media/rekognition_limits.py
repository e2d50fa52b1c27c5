"""Rekognition Video's input limits, checked locally before any paid call.

Stored-video operations accept H.264 in MP4 or MOV, up to 10 GB and 6 hours
(Amazon Rekognition developer guide, "Guidelines and quotas"). Other codecs and
containers can be transcoded first; files over the limits are refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from worker.errors import InputError
from worker.media.info import MediaInfo

MAX_BYTES = 10 * 1000**3
MAX_DURATION_MS = 6 * 3600 * 1000
CONTAINERS = ("mov", "mp4")  # ffprobe's format_name for both is "mov,mp4,m4a,3gp,3g2,mj2"
CODECS = ("h264",)


@dataclass(frozen=True)
class Fit:
    needs_transcode: bool
    reason: str | None = None  # why a transcode is needed


def check(info: MediaInfo) -> Fit:
    if info.duration_ms > MAX_DURATION_MS:
        raise InputError(
            info.path, f"too long for Rekognition: {info.duration_ms / 3_600_000:.2f} h (limit 6 h)"
        )
    if info.size_bytes > MAX_BYTES:
        raise InputError(
            info.path, f"too large for Rekognition: {info.size_bytes / 1e9:.2f} GB (limit 10 GB)"
        )
    container_ok = any(c in info.container.split(",") for c in CONTAINERS)
    if info.video_codec not in CODECS or not container_ok:
        first = info.container.split(",")[0]
        return Fit(True, f"{info.video_codec} in {first}: Rekognition takes H.264 in MP4/MOV")
    return Fit(False)
