"""The local text engine: one GetTextDetection-shaped response for a video.

The OCR is PaddleOCR's PP-OCR (ocr.py): a DB text detector and a CTC recogniser, ONNX files
shipped inside wheels (nothing is downloaded). It reads lines; each line is a LINE item and
its words (split on spaces, and where the recogniser saw a narrow space) are WORD items
whose boxes come from where the recogniser emitted their characters along the line.

As Rekognition numbers the items of one DetectText call, each timestamp numbers its own:
its LINEs 0..n-1 in reading order, then its WORDs from n on, line by line, each WORD's
ParentId the Id of its LINE. Confidence is the recogniser's mean character probability in
percent. StartTextDetection's Filters apply: WordFilter (MinConfidence, default 80 as on
Rekognition; MinBoundingBoxHeight and MinBoundingBoxWidth, ratios of the frame) and
RegionsOfInterest (a word is kept when more than half of its box is inside one of them).
A LINE is kept when at least one of its WORDs is, and keeps its whole text.

Pictures are sampled every EVERY_MS (vision.one_pass). A picture that is flat (black, a
fade's darkest frames) has no text; a picture that hardly differs from the last one read
(a still, a static caption) takes that picture's lines at its own timestamp instead of
being read again (SAME_PICTURE).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NotRequired, TypedDict

import numpy as np
import numpy.typing as npt

from worker.engines.local.ocr import Line
from worker.engines.local.page_shapes import VideoMetadata
from worker.engines.local.segments import video_metadata
from worker.engines.port import Progress
from worker.errors import EngineError
from worker.media.info import MediaInfo

# the models by their wheels; at most 64 characters, the store's column
MODEL_VERSION = "text-1 (rapidocr-onnxruntime 1.4.4 det, rapidocr 3.10.0 rec)"
MODEL_VERSION_KEY = "TextModelVersion"
EVERY_MS = 1000  # one picture a second
DET_LONG_SIDE = 640  # the detector's input, long side (480 misses text on busy backgrounds)
MIN_CONFIDENCE = 80.0  # StartTextDetection's default WordFilter.MinConfidence
MAX_REGIONS = 10  # RegionsOfInterest holds at most 10 regions
FLAT_STD = 2.0  # a picture whose luma varies less than this (0-255) has no text
SAME_PICTURE = 1.5  # mean absolute difference (0-255) under which a picture is the last one

U8 = npt.NDArray[np.uint8]
Reader = Callable[[U8], list[Line]]  # an upright RGB picture -> its text lines


class BoundingBox(TypedDict):
    Width: float
    Height: float
    Left: float
    Top: float


class Point(TypedDict):
    X: float
    Y: float


class Geometry(TypedDict):
    BoundingBox: BoundingBox
    Polygon: list[Point]


class TextDetection(TypedDict):
    DetectedText: str
    Type: Literal["LINE", "WORD"]
    Id: int
    ParentId: NotRequired[int]  # WORDs only: their LINE's Id
    Confidence: float
    Geometry: Geometry


class TextItem(TypedDict):
    Timestamp: int
    TextDetection: TextDetection


class TextResponse(TypedDict):
    JobStatus: Literal["SUCCEEDED"]
    VideoMetadata: VideoMetadata  # one object, as in GetTextDetection
    TextDetections: list[TextItem]
    TextModelVersion: str
    NextToken: NotRequired[str]


# ---------------------------------------------------------------- filters


@dataclass(frozen=True)
class Box:
    """A box in ratios of the frame."""

    left: float
    top: float
    width: float
    height: float

    def overlap(self, other: Box) -> float:
        w = min(self.left + self.width, other.left + other.width) - max(self.left, other.left)
        h = min(self.top + self.height, other.top + other.height) - max(self.top, other.top)
        return max(0.0, w) * max(0.0, h)


@dataclass(frozen=True)
class Filters:
    min_confidence: float = MIN_CONFIDENCE
    min_height: float = 0.0
    min_width: float = 0.0
    regions: tuple[Box, ...] = ()

    def keep(self, confidence: float, box: Box) -> bool:
        """Whether a word with this confidence and box passes the filters."""
        if confidence < self.min_confidence:
            return False
        if box.height < self.min_height or box.width < self.min_width:
            return False
        if not self.regions:
            return True
        area = box.width * box.height
        return any(box.overlap(r) > 0.5 * area for r in self.regions)


def _number(value: object, what: str, top: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EngineError(f"{what} must be a number, got {value!r}")
    if not 0.0 <= float(value) <= top:
        raise EngineError(f"{what} must be between 0 and {top:g}, got {value!r}")
    return float(value)


def _region(value: object, k: int) -> Box:
    what = f"regions_of_interest[{k}]"
    if not isinstance(value, Mapping) or set(value) != {"BoundingBox"}:
        raise EngineError(f"{what} must be {{'BoundingBox': {{Width, Height, Left, Top}}}}")
    box = value["BoundingBox"]
    keys = ("Width", "Height", "Left", "Top")
    if not isinstance(box, Mapping) or set(box) != set(keys):
        raise EngineError(f"{what}.BoundingBox must have exactly Width, Height, Left and Top")
    w, h, left, top = (_number(box[key], f"{what}.BoundingBox.{key}", 1.0) for key in keys)
    return Box(left=left, top=top, width=w, height=h)


def check_filters(
    min_confidence: object = MIN_CONFIDENCE,
    min_bounding_box_height: object = 0.0,
    min_bounding_box_width: object = 0.0,
    regions_of_interest: object = None,
) -> Filters:
    """StartTextDetection's Filters as the engine's params name them (WordFilter's members
    in snake case, RegionsOfInterest as Rekognition writes it)."""
    regions: Sequence[object] = []
    if regions_of_interest is not None:
        if isinstance(regions_of_interest, str | bytes | Mapping) or not isinstance(
            regions_of_interest, Sequence
        ):
            raise EngineError(
                f"regions_of_interest must be a list of regions, got {regions_of_interest!r}"
            )
        regions = regions_of_interest
    if len(regions) > MAX_REGIONS:
        raise EngineError(
            f"regions_of_interest holds at most {MAX_REGIONS} regions, got {len(regions)}"
        )
    return Filters(
        min_confidence=_number(min_confidence, "min_confidence", 100.0),
        min_height=_number(min_bounding_box_height, "min_bounding_box_height", 1.0),
        min_width=_number(min_bounding_box_width, "min_bounding_box_width", 1.0),
        regions=tuple(_region(r, k) for k, r in enumerate(regions)),
    )


# ---------------------------------------------------------------- items


def geometry(quad: npt.NDArray[np.float64], width: int, height: int) -> Geometry:
    """A quadrilateral in picture pixels as Rekognition's Geometry (ratios of the frame,
    clipped to it; the polygon from the top-left corner, clockwise)."""
    scale = np.array([width, height], dtype=np.float64)
    points = np.clip(quad / scale, 0.0, 1.0)
    lo, hi = points.min(axis=0), points.max(axis=0)
    return Geometry(
        BoundingBox=BoundingBox(
            Width=round(float(hi[0] - lo[0]), 6),
            Height=round(float(hi[1] - lo[1]), 6),
            Left=round(float(lo[0]), 6),
            Top=round(float(lo[1]), 6),
        ),
        Polygon=[Point(X=round(float(x), 6), Y=round(float(y), 6)) for x, y in points],
    )


def _box(g: Geometry) -> Box:
    b = g["BoundingBox"]
    return Box(left=b["Left"], top=b["Top"], width=b["Width"], height=b["Height"])


def picture_items(
    at_ms: int, lines: Sequence[Line], width: int, height: int, filters: Filters
) -> list[TextItem]:
    """One picture's LINE and WORD items: LINEs first (Ids 0..n-1), then their WORDs."""
    kept: list[tuple[Line, list[tuple[str, float, Geometry]]]] = []
    for line in lines:
        words = []
        for word in line.words:
            confidence = round(100.0 * word.confidence, 3)
            g = geometry(word.quad, width, height)
            if filters.keep(confidence, _box(g)):
                words.append((word.text, confidence, g))
        if words:
            kept.append((line, words))
    lines_out: list[TextItem] = []
    words_out: list[TextItem] = []
    next_id = len(kept)
    for line_id, (line, words) in enumerate(kept):
        lines_out.append(
            TextItem(
                Timestamp=at_ms,
                TextDetection=TextDetection(
                    DetectedText=line.text,
                    Type="LINE",
                    Id=line_id,
                    Confidence=round(100.0 * line.confidence, 3),
                    Geometry=geometry(line.quad, width, height),
                ),
            )
        )
        for text, confidence, g in words:
            words_out.append(
                TextItem(
                    Timestamp=at_ms,
                    TextDetection=TextDetection(
                        DetectedText=text,
                        Type="WORD",
                        Id=next_id,
                        ParentId=line_id,
                        Confidence=confidence,
                        Geometry=g,
                    ),
                )
            )
            next_id += 1
    return lines_out + words_out


# ---------------------------------------------------------------- pictures


def _grey(picture: U8) -> npt.NDArray[np.float32]:
    small = picture[::4, ::4].astype(np.float32)
    grey: npt.NDArray[np.float32] = small @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return grey


def shipped_reader() -> Reader:
    from worker.engines.local import ocr

    model = ocr.shipped()
    return lambda picture: model.read(picture, min(DET_LONG_SIDE, max(picture.shape[:2])))


class TextRun:
    """One video's text, a picture at a time (vision.one_pass feeds it)."""

    every_ms = EVERY_MS

    def __init__(
        self,
        *,
        reader: Reader | None = None,
        min_confidence: object = MIN_CONFIDENCE,
        min_bounding_box_height: object = 0.0,
        min_bounding_box_width: object = 0.0,
        regions_of_interest: object = None,
        **unknown: object,
    ) -> None:
        if unknown:
            raise EngineError(f"unknown text parameters: {', '.join(sorted(unknown))}")
        self.filters = check_filters(
            min_confidence, min_bounding_box_height, min_bounding_box_width, regions_of_interest
        )
        self.read = reader or shipped_reader()
        self.items: list[TextItem] = []
        self.pictures_read = 0
        self._last: tuple[npt.NDArray[np.float32], list[Line]] | None = None

    def lines(self, picture: U8) -> list[Line]:
        grey = _grey(picture)
        if float(grey.std()) < FLAT_STD:
            self._last = None
            return []
        last = self._last
        if (
            last is not None
            and last[0].shape == grey.shape
            and float(np.abs(grey - last[0]).mean()) < SAME_PICTURE
        ):
            return last[1]
        lines = self.read(picture)
        self.pictures_read += 1
        self._last = (grey, lines)
        return lines

    def take(self, at_ms: int, picture: U8) -> None:
        h, w = picture.shape[:2]
        self.items += picture_items(at_ms, self.lines(picture), w, h, self.filters)

    def response(self, info: MediaInfo) -> TextResponse:
        return TextResponse(
            JobStatus="SUCCEEDED",
            VideoMetadata=video_metadata(info),
            TextDetections=self.items,
            TextModelVersion=MODEL_VERSION,
        )


def detect_text(
    path: Path, info: MediaInfo, *, progress: Progress | None = None, **params: Any
) -> TextResponse:
    """`path`'s text as one complete GetTextDetection response."""
    from worker.engines.local.vision import run_alone

    return run_alone(path, info, TextRun(**params), progress)
