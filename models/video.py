"""A video: one row per distinct content (sha256), with the facts the probe measured."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, JSONType, UTCDateTime, utcnow

# keys of `Video.extra` a step writes and the read side reports (the last failure)
EXTRA_CLIPS_ERROR = "clips_error"
EXTRA_THUMBS_ERROR = "thumbs_error"


class Video(Base):
    __tablename__ = "videos"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # NULL for videos known only from imported result pages (no media file)
    sha256: Mapped[str | None] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(Text)
    filename: Mapped[str] = mapped_column(String(512))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    container: Mapped[str | None] = mapped_column(String(128))
    duration_ms: Mapped[int] = mapped_column(BigInteger)
    fps_num: Mapped[int] = mapped_column(Integer)
    fps_den: Mapped[int] = mapped_column(Integer)
    cfr: Mapped[bool] = mapped_column(Boolean, default=True)
    frame_count: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    rotation: Mapped[int] = mapped_column(Integer, default=0)
    video_codec: Mapped[str | None] = mapped_column(String(64))
    audio_codec: Mapped[str | None] = mapped_column(String(64))
    audio_channels: Mapped[int | None] = mapped_column(Integer)
    audio_sample_rate: Mapped[int | None] = mapped_column(Integer)
    start_pts_ms: Mapped[int] = mapped_column(Integer, default=0)
    # the file's timecode at its first frame (`10:00:00:00`, `01:00:00;00` drop-frame); NULL: none
    start_timecode: Mapped[str | None] = mapped_column(String(16))
    # where the Rekognition engine reads the video (uploaded, or given as s3://)
    s3_bucket: Mapped[str | None] = mapped_column(String(255))
    s3_key: Mapped[str | None] = mapped_column(Text)
    # what the user asked for, so status can say whether the video is fully INDEXED
    requested_features: Mapped[list[str]] = mapped_column(JSONType, default=list)
    requested_clips: Mapped[list[str]] = mapped_column(JSONType, default=list)
    clip_mode: Mapped[str] = mapped_column(String(16), default="smart")
    clip_codec: Mapped[str] = mapped_column(String(16), default="auto")  # auto | h264 | prores
    # how the clips are planned, kept so every worker task plans the same clips
    clip_min_length_ms: Mapped[int] = mapped_column(Integer, default=0)  # 0: one per shot
    clip_keep_opening_credits: Mapped[bool] = mapped_column(Boolean, default=False)
    # steps' notes: EXTRA_CLIPS_ERROR, EXTRA_THUMBS_ERROR (the last failure), decode_check, deleting
    extra: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def fps_text(self) -> str:
        return f"{self.fps_num}/{self.fps_den}"
