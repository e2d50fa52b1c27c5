"""A clip file cut from a video, registered only once verified on disk."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class Clip(Base):
    __tablename__ = "clips"
    __table_args__ = (UniqueConstraint("video_id", "kind", "seq", "mode", name="uq_clips_item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    video_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("videos.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # shot | content
    seq: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(16))  # copy | accurate | smart
    start_ms: Mapped[int] = mapped_column(BigInteger)
    end_ms: Mapped[int] = mapped_column(BigInteger)
    duration_ms: Mapped[int] = mapped_column(BigInteger)
    frame_count: Mapped[int | None] = mapped_column(Integer)
    drift_ms: Mapped[int | None] = mapped_column(Integer)  # copy mode: start error vs. the cut
    path: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    # s3://bucket/key of the uploaded copy (videos analysed by the Rekognition engine)
    s3_uri: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
