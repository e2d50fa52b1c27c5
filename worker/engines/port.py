"""The Engine protocol every analysis engine implements, and the types around it.

Engines speak Rekognition's result shapes: `pages()` yields dicts shaped like the
matching Get* response (GetSegmentDetection, GetLabelDetection, ...). That JSON is the
contract between engines and `worker.results`, the one parser.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, runtime_checkable


class Feature(StrEnum):
    SEGMENTS = "segments"
    LABELS = "labels"
    MODERATION = "moderation"
    FACES = "faces"
    TEXT = "text"


# the list each feature's Get* response pages over
ITEMS_KEY = {
    Feature.SEGMENTS: "Segments",
    Feature.LABELS: "Labels",
    Feature.MODERATION: "ModerationLabels",
    Feature.FACES: "Faces",
    Feature.TEXT: "TextDetections",
}


class EngineJobStatus(StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


# One Get* response page, exactly as the service (or a local engine) returns it.
ResultPage = Mapping[str, Any]
Progress = Callable[[float], None]  # fraction done, 0..1


@dataclass(frozen=True)
class VideoSource:
    """What an engine needs to find the video: a local file and/or an S3 object."""

    video_id: str
    sha256: str
    path: Path | None = None
    s3_bucket: str | None = None
    s3_key: str | None = None


@dataclass(frozen=True)
class JobRequest:
    feature: Feature
    video: VideoSource
    client_token: str  # deterministic: same video+feature+params -> same job
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EngineJobReport:
    """What the engine says of one of its jobs (models.JobState is our record of it)."""

    status: EngineJobStatus
    message: str | None = None


class Engine(Protocol):
    name: str
    reads_s3: bool  # True: the video must be staged in S3 (VideoSource.s3_*) first

    def supports(self, feature: Feature) -> bool: ...

    def start(self, request: JobRequest, progress: Progress | None = None) -> str:
        """Start (or find, by client token) a job; returns its job id."""
        ...

    def state(self, feature: Feature, job_id: str) -> EngineJobReport: ...

    def pages(self, feature: Feature, job_id: str, max_results: int = 1000) -> Iterator[ResultPage]:
        """Every result page of a finished job, following NextToken."""
        ...


# the features whose models look at sampled pictures: an engine may run them on one decode
PICTURE_FEATURES = frozenset({Feature.LABELS, Feature.MODERATION, Feature.FACES, Feature.TEXT})


@runtime_checkable
class StartsTogether(Protocol):
    """An engine that can start several jobs of one video at once (one decode)."""

    def start_many(
        self, requests: Sequence[JobRequest], progress: Progress | None = None
    ) -> None: ...
