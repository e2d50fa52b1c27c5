"""Response bodies of the API, separate from the SQLAlchemy models and the read model
(worker/api/mapping.py builds them from its values); they document the JSON."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

VideoState = Literal["PROCESSING", "INDEXED", "FAILED"]


class Health(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]


class StepState(BaseModel):
    status: str = Field(description="a job state: PENDING ... SUCCEEDED | FAILED")
    message: str | None


class VideoSummary(BaseModel):
    video_id: str
    status: VideoState
    features: dict[str, StepState]
    clips: StepState | None = Field(None, description="present when cutting clips failed")
    thumbnails: StepState | None = Field(None, description="present when thumbnails failed")
    filename: str
    duration_ms: int
    created_at: str = Field(description="ISO 8601, UTC")


class VideoList(BaseModel):
    items: list[VideoSummary]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null: last")


class VideoDetail(VideoSummary):
    fps: str = Field(description="frame rate as a fraction, e.g. 25/1 or 30000/1001")
    frame_count: int
    width: int
    height: int


# --- the timeline document, vidx.timeline/1 (DESIGN.md, Contracts) ---
class TimelineVideo(BaseModel):
    id: str
    source: str
    duration_ms: int
    fps: str
    frame_count: int
    width: int
    height: int
    start_timecode: str | None = Field(
        description="SMPTE label of the first frame from the file's timecode track or tag "
        "(HH:MM:SS:FF; `;` before the frames: drop-frame); null: the file has none"
    )
    audio_channels: int | None = Field(description="channels of the first audio stream; null: none")


class TimelineFeature(BaseModel):
    status: str
    engine: str
    model_version: str | None


class Shot(BaseModel):
    index: int
    start_ms: int
    end_ms: int
    start_frame: int | None
    end_frame: int | None = Field(description="inclusive")
    confidence: float | None


class Cue(BaseModel):
    type: str = Field(description="ColorBars, EndCredits, BlackFrames, OpeningCredits, ...")
    start_ms: int
    end_ms: int
    confidence: float | None


class Span(BaseModel):
    start_ms: int
    end_ms: int
    max_confidence: float | None
    detections: int


class Label(Span):
    name: str
    parents: list[str]


class Moderation(Span):
    name: str
    parent: str


class Face(Span):
    attributes: dict[str, object]


class Text(Span):
    name: str = Field(description="the line of text read in the picture")
    type: Literal["LINE", "WORD"] = "LINE"


_MODE_DOC = "the mode that made the clip: a smart cut that fell back is accurate"
_CODEC_DOC = "the clip's video codec: h264 (MP4), prores (MOV), or copy mode's source codec"
_NOTE_DOC = "e.g. why a smart cut fell back to accurate; null when there is nothing to say"


class TimelineClip(BaseModel):
    kind: str
    index: int
    start_ms: int
    end_ms: int
    path: str
    mode: str = Field(description=_MODE_DOC)
    codec: str = Field(description=_CODEC_DOC)
    note: str | None = Field(description=_NOTE_DOC)


class TimelineNote(BaseModel):
    """What the timeline should be read with, e.g. a span of decode errors in an accepted file."""

    type: Literal["DecodeErrors"]
    start_ms: int
    end_ms: int
    errors: int
    message: str


class Timeline(BaseModel):
    """The document `vidx timeline ID` prints."""

    model_config = ConfigDict(populate_by_name=True)

    schema_: Literal["vidx.timeline/1"] = Field(alias="schema")
    video: TimelineVideo
    features: dict[str, TimelineFeature]
    shots: list[Shot]
    technical_cues: list[Cue]
    labels: list[Label]
    moderation: list[Moderation]
    faces: list[Face]
    text: list[Text] = Field(default_factory=list)
    content_range_ms: list[int] | None = Field(min_length=2, max_length=2)
    clips: list[TimelineClip]
    notes: list[TimelineNote] = Field(default_factory=list)


# --- files ---
class ClipItem(BaseModel):
    kind: Literal["shot", "content"]
    index: int
    start_ms: int
    end_ms: int
    mode: str = Field(description=_MODE_DOC)
    requested_mode: str = Field(description="the mode asked for (the url's ?mode=)")
    codec: str = Field(description=_CODEC_DOC)
    note: str | None = Field(description=_NOTE_DOC)
    drift_ms: int | None = Field(description="copy mode: how early the clip starts")
    url: str


class ClipList(BaseModel):
    items: list[ClipItem]


class ShotThumbnail(BaseModel):
    index: int
    at_ms: int | None
    width: int
    height: int
    url: str


class Sprite(BaseModel):
    url: str
    index_url: str = Field(description="JSON index of the tiles in the sprite")
    width: int
    height: int


class Thumbnails(BaseModel):
    shots: list[ShotThumbnail]
    sprite: Sprite | None


# --- search ---
class RangeItem(BaseModel):
    video_id: str
    kind: str
    name: str
    parent: str | None
    start_ms: int
    end_ms: int
    confidence: float | None
    detections: int


class RangeList(BaseModel):
    items: list[RangeItem]
    next_cursor: str | None


# --- submit ---
class SubmittedJob(BaseModel):
    feature: str
    job_id: int
    status: str


class Submitted(BaseModel):
    video_id: str
    jobs: list[SubmittedJob]
    notes: list[str]


class DeletedVideo(BaseModel):
    video_id: str
    rows: dict[str, int] = Field(description="rows removed, per table")
    files: list[str] = Field(description="files and folders removed from the data dir")
    s3_objects: list[str] = Field(description="s3:// objects removed (with remote=true)")
    kept: list[str] = Field(description="left on purpose, each with the reason")
    notes: list[str]
