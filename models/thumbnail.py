"""A thumbnail of a video: one JPEG per shot (its middle frame) and one sprite sheet."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class Thumbnail(Base):
    __tablename__ = "thumbs"
    __table_args__ = (UniqueConstraint("video_id", "kind", "seq", name="uq_thumbs_item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    video_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("videos.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # shot | sprite
    seq: Mapped[int] = mapped_column(Integer)  # the shot's index; 0 for the sprite
    path: Mapped[str] = mapped_column(Text)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    # shot: when the pictured frame starts (ms from the first frame); sprite: NULL
    at_ms: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
