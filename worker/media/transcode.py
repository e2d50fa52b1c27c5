"""Transcode a source Rekognition cannot read into H.264/AAC MP4, written atomically."""

from __future__ import annotations

import secrets
from pathlib import Path

import ffmpeg

from worker.errors import InputError, MediaToolError
from worker.media import runner
from worker.media.info import MediaInfo
from worker.media.probe import probe
from worker.media.runner import run_ffmpeg

# analysis copy: visually lossless enough for detection, fast to make
X264_PRESET = "veryfast"
X264_CRF = 18
TIMEOUT_PER_SOURCE_S = 4  # seconds allowed per second of source, beyond a base
TIMEOUT_BASE_S = 300


def to_h264_mp4(src: Path, info: MediaInfo, out: Path) -> MediaInfo:
    """Write `out` (MP4, H.264 + AAC, +faststart, rotation applied); return its probe."""
    out.parent.mkdir(parents=True, exist_ok=True)
    temp = out.with_name(f".{out.stem}.{secrets.token_hex(4)}.part.mp4")
    video_args = {"c:v": "libx264", "preset": X264_PRESET, "crf": X264_CRF, "pix_fmt": "yuv420p"}
    audio_args = {"c:a": "aac", "b:a": "192k"} if info.has_audio else {"an": None}
    command = (
        ffmpeg.input(runner.target(src), **runner.input_options())
        .output(runner.target(temp), **video_args, **audio_args, movflags="+faststart", f="mp4")
        .global_args("-nostdin", "-hide_banner", "-loglevel", "error", "-y")
        .compile()
    )
    try:
        timeout = TIMEOUT_BASE_S + TIMEOUT_PER_SOURCE_S * info.duration_ms / 1000
        run_ffmpeg(command, src, timeout, "transcoding")
        try:
            written = probe(temp)
        except InputError as exc:
            raise MediaToolError(
                f"{src}: the transcode is not a valid video: {exc.problem}"
            ) from None
        if abs(written.duration_ms - info.duration_ms) > 1000:
            raise MediaToolError(
                f"{src}: the transcode lasts {written.duration_ms} ms, "
                f"the source {info.duration_ms} ms"
            )
        temp.replace(out)
    finally:
        temp.unlink(missing_ok=True)
    return probe(out)
