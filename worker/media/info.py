"""Typed facts about a media file, as the probe measured them."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from worker.timecode import Millis


@dataclass(frozen=True)
class MediaInfo:
    path: Path
    size_bytes: int
    container: str  # ffprobe format_name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    duration_ms: Millis
    fps: Fraction  # average rate; exact rational for CFR sources
    cfr: bool
    frame_count: int
    width: int  # coded size
    height: int
    rotation: int  # clockwise degrees a player applies (0, 90, 180, 270)
    video_codec: str
    pix_fmt: str | None
    audio_codec: str | None  # None: no audio stream
    audio_channels: int | None
    audio_sample_rate: int | None
    start_pts_ms: Millis  # first video frame's pts; reported times are relative to it
    # SMPTE label of the first frame from the file's timecode track or tag (`;`: drop-frame)
    start_timecode: str | None = None

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None

    @property
    def display_size(self) -> tuple[int, int]:
        if self.rotation % 180 == 90:
            return self.height, self.width
        return self.width, self.height

    @property
    def fps_text(self) -> str:
        return f"{self.fps.numerator}/{self.fps.denominator}"
