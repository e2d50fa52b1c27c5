"""Raw detections (every item of every result page) and merged timeline ranges."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, JSONType

# kinds shared by detections and timeline ranges
KINDS = ("shot", "cue", "label", "moderation", "face", "text")
# Text search is made by migrations 0008 and 0009 only, outside these models: on PostgreSQL
# a GIN expression index and a table of (word, video_id, start_ms, range_id) kept by
# triggers, on SQLite an FTS5 table (and its shadow tables and triggers). Schema comparisons
# skip every table whose name starts with TEXT_SEARCH_TABLE.
TEXT_SEARCH_TABLE = "timeline_text"
TEXT_SEARCH_INDEX = "ix_timeline_text_words"
TEXT_WORDS_TABLE = "timeline_text_words"


def in_models(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's include_name hook: False for the text search objects, True otherwise."""
    if type_ == "table" and name is not None and name.startswith(TEXT_SEARCH_TABLE):
        return False
    return not (type_ == "index" and name == TEXT_SEARCH_INDEX)


_KEYSET = ("video_id", "start_ms", "id")  # the order of search pages
_CHECKED = ("max_confidence", "end_ms")  # filters of a search


class Detection(Base):
    """One item of a Get* page. (job_id, page_index, item_index) makes re-collection idempotent."""

    __tablename__ = "detections"
    __table_args__ = (
        UniqueConstraint("job_id", "page_index", "item_index", name="uq_detections_item"),
        Index("ix_detections_video_kind_start", "video_id", "kind", "start_ms"),
        Index("ix_detections_kind_name_conf", "kind", "name", "confidence"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    job_id: Mapped[int] = mapped_column(ForeignKey("analysis_jobs.id", ondelete="CASCADE"))
    video_id: Mapped[str] = mapped_column(String(32), ForeignKey("videos.id", ondelete="CASCADE"))
    page_index: Mapped[int] = mapped_column(Integer)
    item_index: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(256))
    parent: Mapped[str | None] = mapped_column(String(256))
    start_ms: Mapped[int] = mapped_column(BigInteger)
    end_ms: Mapped[int | None] = mapped_column(BigInteger)  # half-open end, when the item has one
    start_frame: Mapped[int | None] = mapped_column(Integer)
    end_frame: Mapped[int | None] = mapped_column(Integer)  # inclusive, as Rekognition
    confidence: Mapped[float | None] = mapped_column(Float)
    bbox_left: Mapped[float | None] = mapped_column(Float)
    bbox_top: Mapped[float | None] = mapped_column(Float)
    bbox_width: Mapped[float | None] = mapped_column(Float)
    bbox_height: Mapped[float | None] = mapped_column(Float)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class TimelineRange(Base):
    """Detections merged into ranges: one shot, one cue, one continuous run of a label."""

    __tablename__ = "timeline_ranges"
    __table_args__ = (
        Index("ix_timeline_video_kind_start", "video_id", "kind", "start_ms"),
        Index("ix_timeline_kind_name_conf", "kind", "name", "max_confidence"),
        # Search pages are ordered by (video_id, start_ms, id) (worker/search.py): these let a
        # page walk the index in that order and stop after `limit` rows, checking confidence and
        # window end in the index (key columns, so they filter before any table row is read).
        Index("ix_timeline_kind_name_video", "kind", "name", *_KEYSET, *_CHECKED),
        Index("ix_timeline_kind_video", "kind", *_KEYSET, *_CHECKED),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    video_id: Mapped[str] = mapped_column(String(32), ForeignKey("videos.id", ondelete="CASCADE"))
    job_id: Mapped[int] = mapped_column(
        ForeignKey("analysis_jobs.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(256))
    parent: Mapped[str | None] = mapped_column(String(256))
    seq: Mapped[int] = mapped_column(Integer)  # shot index, or order within the kind
    start_ms: Mapped[int] = mapped_column(BigInteger)
    end_ms: Mapped[int] = mapped_column(BigInteger)
    start_frame: Mapped[int | None] = mapped_column(Integer)
    end_frame: Mapped[int | None] = mapped_column(Integer)
    max_confidence: Mapped[float | None] = mapped_column(Float)
    detections: Mapped[int] = mapped_column(Integer, default=1)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
