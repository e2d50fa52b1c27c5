"""A clip file cut from a video, registered only once verified on disk."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class Clip(Base):
    """One clip per (video, kind, seq, requested mode, codec): a request is answered by the
    clips made for the same request, whatever mode actually made them."""

    __tablename__ = "clips"
    __table_args__ = (
        UniqueConstraint(
            "video_id", "kind", "seq", "requested_mode", "codec", name="uq_clips_item"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    video_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("videos.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # shot | content
    seq: Mapped[int] = mapped_column(Integer)
    # the mode that made the clip: copy | accurate | smart (a smart cut that fell back
    # is accurate, and `note` says why)
    mode: Mapped[str] = mapped_column(String(16))
    requested_mode: Mapped[str] = mapped_column(String(16))  # the mode asked for
    codec: Mapped[str] = mapped_column(String(16))  # h264 | prores | copy: the source's
    note: Mapped[str | None] = mapped_column(Text)  # e.g. why smart fell back to accurate
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
