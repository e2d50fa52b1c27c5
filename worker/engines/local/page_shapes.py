"""The members of the GetSegmentDetection response the local engine writes, typed as it
writes them (botocore's service model names them; a codec ffprobe could not name is
null here, where Rekognition always has one)."""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

from worker.media.decode_errors import DecodePage

SegmentType = Literal["SHOT", "TECHNICAL_CUE"]


class VideoMetadata(TypedDict):
    Codec: str | None
    DurationMillis: int
    Format: str
    FrameRate: float
    FrameHeight: int
    FrameWidth: int
    ColorRange: Literal["FULL", "LIMITED"]


class AudioMetadata(TypedDict):
    Codec: str | None
    DurationMillis: int
    SampleRate: int
    NumberOfChannels: int


class ShotSegment(TypedDict):
    Index: int
    Confidence: float


class TechnicalCueSegment(TypedDict):
    Type: str
    Confidence: float


class Segment(TypedDict):
    Type: SegmentType
    StartTimestampMillis: int
    EndTimestampMillis: int
    DurationMillis: int
    StartTimecodeSMPTE: str
    EndTimecodeSMPTE: str
    DurationSMPTE: str
    StartFrameNumber: int
    EndFrameNumber: int
    DurationFrames: int
    ShotSegment: NotRequired[ShotSegment]
    TechnicalCueSegment: NotRequired[TechnicalCueSegment]


class SegmentTypeInfo(TypedDict):
    Type: SegmentType
    ModelVersion: str


# functional form: the decode errors' member is vidx's own (decode_errors.PAGE_KEY)
class SegmentResponse(TypedDict):
    JobStatus: Literal["SUCCEEDED"]
    VideoMetadata: list[VideoMetadata]
    AudioMetadata: list[AudioMetadata]
    Segments: list[Segment]
    SelectedSegmentTypes: list[SegmentTypeInfo]
    VidxDecodeErrors: NotRequired[DecodePage]
