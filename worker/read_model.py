"""The read side's typed values: what worker.query returns and the edges render.

The timeline document (`vidx.timeline/1`, DESIGN.md Contracts), a video's status and the
video list, its thumbnails, and the timeline range the pipeline stores. Plain frozen
values, no database and no JSON: worker.query builds them from the rows, the CLI, the
API and the export writers take them as they are, and worker/read_json.py is the one
place that turns them into the documented JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

TIMELINE_SCHEMA = "vidx.timeline/1"


# --- the timeline document ---
@dataclass(frozen=True)
class VideoFacts:
    id: str
    source: str  # a local path, an s3:// URI or import:PATH
    duration_ms: int
    fps: str  # as stored, "num/den": 25/1, 30000/1001
    frame_count: int
    width: int
    height: int
    start_timecode: str | None = None  # the file's label of its first frame; None: none
    audio_channels: int | None = None  # channels of the first audio stream; None: no audio


@dataclass(frozen=True)
class FeatureRun:
    """One analysis job of the video: its state and what ran it."""

    status: str  # a job state
    engine: str
    model_version: str | None


@dataclass(frozen=True)
class ShotRange:
    index: int
    start_ms: int
    end_ms: int
    start_frame: int | None
    end_frame: int | None  # inclusive, as Rekognition reports it
    confidence: float | None


@dataclass(frozen=True)
class CueRange:
    """A technical cue: ColorBars, EndCredits, BlackFrames, OpeningCredits, Content..."""

    type: str
    start_ms: int
    end_ms: int
    confidence: float | None


@dataclass(frozen=True)
class LabelRange:
    name: str
    parents: tuple[str, ...]
    start_ms: int
    end_ms: int
    max_confidence: float | None
    detections: int


@dataclass(frozen=True)
class ModerationRange:
    name: str
    parent: str  # "" for a top-level category
    start_ms: int
    end_ms: int
    max_confidence: float | None
    detections: int


@dataclass(frozen=True)
class FaceRange:
    start_ms: int
    end_ms: int
    max_confidence: float | None
    detections: int
    attributes: Mapping[str, object]


@dataclass(frozen=True)
class TextRange:
    """A run of one line of text (the same words, any position) at nearby times."""

    name: str  # the line's text
    start_ms: int
    end_ms: int
    max_confidence: float | None
    detections: int
    type: str = "LINE"


@dataclass(frozen=True)
class Note:
    """What the timeline should be read with: a span of decode errors in an accepted file."""

    type: str  # DecodeErrors
    start_ms: int
    end_ms: int
    errors: int
    message: str


@dataclass(frozen=True)
class TimelineClip:
    kind: str  # shot | content
    index: int
    start_ms: int
    end_ms: int
    path: str
    mode: str  # the mode that made it: a smart cut that fell back is accurate
    codec: str
    note: str | None


@dataclass(frozen=True)
class Timeline:
    """The `vidx.timeline/1` document of one video."""

    video: VideoFacts
    features: Mapping[str, FeatureRun]
    shots: tuple[ShotRange, ...]
    technical_cues: tuple[CueRange, ...]
    labels: tuple[LabelRange, ...]
    moderation: tuple[ModerationRange, ...]
    faces: tuple[FaceRange, ...]
    text: tuple[TextRange, ...]
    content_range_ms: tuple[int, int] | None  # the programme; None without Content cues
    notes: tuple[Note, ...]
    clips: tuple[TimelineClip, ...]


# --- the timeline range the pipeline stores (collect, import) and search reads ---
@dataclass(frozen=True)
class Range:
    """A shot, a technical cue, or a run of label/moderation/face detections."""

    kind: str  # shot | cue | label | moderation | face | text
    name: str
    parent: str | None
    seq: int  # the shot's index; otherwise the position within its kind
    start_ms: int
    end_ms: int
    start_frame: int | None
    end_frame: int | None
    max_confidence: float | None
    detections: int
    parents: tuple[str, ...] | None = None  # a label's parent labels; None for other kinds


# --- a video's status and the video list ---
@dataclass(frozen=True)
class StepState:
    status: str  # a job state, or FAILED for clips/thumbnails
    message: str | None


@dataclass(frozen=True)
class VideoStatus:
    """`vidx status ID --json`: INDEXED when every requested job SUCCEEDED and its
    requested clips exist."""

    video_id: str
    status: str  # PROCESSING | INDEXED | FAILED
    features: Mapping[str, StepState]
    clips: StepState | None = None  # only when cutting clips failed
    thumbnails: StepState | None = None  # only when making thumbnails failed


@dataclass(frozen=True)
class VideoSummary:
    """One item of the video list: the status and a few facts of the file."""

    state: VideoStatus
    filename: str
    duration_ms: int
    created_at: datetime


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a keyset-paged read (videos, query rows, moderation by video)."""

    items: list[T]
    next_cursor: str | None  # None: this was the last page


VideoPage = Page[VideoSummary]


# --- thumbnails ---
@dataclass(frozen=True)
class ShotThumbnail:
    index: int
    path: str
    width: int
    height: int
    at_ms: int | None


@dataclass(frozen=True)
class SpriteSheet:
    path: str
    index: str  # the JSON index of its tiles, beside it
    width: int
    height: int


@dataclass(frozen=True)
class Thumbnails:
    video_id: str
    sprite: SpriteSheet | None
    shots: tuple[ShotThumbnail, ...]
