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

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, NotRequired, TypedDict

import numpy as np
import numpy.typing as npt

from worker.engines.local.ocr import Line
from worker.engines.local.page_shapes import VideoMetadata
from worker.engines.local.segments import video_metadata
from worker.engines.local.text_evidence import TextEvidence, TextLine
from worker.engines.port import Progress
from worker.engines.text_params import Region, TextFilters, text_filters
from worker.media.info import MediaInfo

# the models by their wheels; at most 64 characters, the store's column
MODEL_VERSION = "text-1 (rapidocr-onnxruntime 1.4.4 det, rapidocr 3.10.0 rec)"
MODEL_VERSION_KEY = "TextModelVersion"
EVERY_MS = 1000  # one picture a second
DET_LONG_SIDE = 640  # the detector's input, long side (480 misses text on busy backgrounds)
FLAT_STD = 2.0  # a picture whose luma varies less than this (0-255) has no text
# white text over a busy, high-contrast picture (titles over a pattern) escapes the detector
# at 640 px; the picture's darkest channel keeps white strokes and blacks out coloured and
# dark ones, so a picture where nothing was found but some pixels are near white is read
# again as that channel (benchmarks/scouting/cues/findings.md)
WHITE_LEVEL = 180  # darkest channel (0-255) at least this: a near-white pixel
WHITE_SHARE = (0.005, 0.25)  # shares of near-white pixels worth a second look
DARK_LEVEL = 100  # darkest channel under this: dark (black, or a saturated colour)
# near-white pixels next to a dark one, as a share of all near-white ones, for strokes:
# text 0.44-0.97, natural pictures of the test media 0.00-0.28 (a photo of a page)
WHITE_EDGE = 0.35
SAME_PICTURE = 1.5  # mean absolute difference (0-255) under which a picture is the last one
# the technical cues' evidence keeps the lines read at least this sure (0-1), whatever the
# job's own Filters: credits in a thin font read at 60-80 % (benchmarks/scouting/cues)
EVIDENCE_CONFIDENCE = 0.5

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


def _box(g: Geometry) -> Region:
    b = g["BoundingBox"]
    return Region(left=b["Left"], top=b["Top"], width=b["Width"], height=b["Height"])


def picture_items(
    at_ms: int, lines: Sequence[Line], width: int, height: int, filters: TextFilters
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


def _white_strokes(picture: U8) -> bool:
    """Whether the picture holds near-white pixels (WHITE_SHARE of it) that mostly touch a
    dark one: strokes of white letters, not white areas (sky, a wall, a shirt)."""
    darkest = picture.min(axis=2)[::2, ::2]
    white = darkest >= WHITE_LEVEL
    share = float(np.count_nonzero(white)) / white.size
    if not WHITE_SHARE[0] <= share <= WHITE_SHARE[1]:
        return False
    dark = darkest < DARK_LEVEL
    near = np.zeros_like(dark)
    near[:, 1:] |= dark[:, :-1]
    near[:, :-1] |= dark[:, 1:]
    near[1:, :] |= dark[:-1, :]
    near[:-1, :] |= dark[1:, :]
    return bool(np.count_nonzero(white & near) >= WHITE_EDGE * np.count_nonzero(white))


def shipped_reader() -> Reader:
    """The shipped OCR, for one video: lines like the last picture's are not read again."""
    from worker.engines.local import ocr

    model = ocr.shipped()
    memory = ocr.LineMemory()
    return lambda picture: model.read(picture, min(DET_LONG_SIDE, max(picture.shape[:2])), memory)


class TextRun:
    """One video's text, a picture at a time (vision.one_pass feeds it)."""

    every_ms = EVERY_MS

    def __init__(self, filters: TextFilters | None = None, reader: Reader | None = None) -> None:
        self.filters = filters or TextFilters()
        self.read = reader or shipped_reader()
        self.items: list[TextItem] = []
        self.pictures_read = 0
        self.evidence = TextEvidence([], [])  # for the technical cues (segments.py)
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
        if not lines and _white_strokes(picture):
            darkest = picture.min(axis=2)
            lines = self.read(np.repeat(darkest[:, :, None], 3, axis=2))
        self._last = (grey, lines)
        return lines

    def take(self, at_ms: int, picture: U8) -> None:
        h, w = picture.shape[:2]
        lines = self.lines(picture)
        self.items += picture_items(at_ms, lines, w, h, self.filters)
        self.evidence.picture_ms.append(at_ms)
        for line in lines:
            if line.confidence >= EVIDENCE_CONFIDENCE:
                box = geometry(line.quad, w, h)["BoundingBox"]
                self.evidence.lines.append(
                    TextLine(
                        at_ms,
                        line.text,
                        box["Top"],
                        box["Left"],
                        box["Width"],
                        box["Height"],
                        round(100.0 * line.confidence, 3),
                    )
                )

    def response(self, info: MediaInfo) -> TextResponse:
        return TextResponse(
            JobStatus="SUCCEEDED",
            VideoMetadata=video_metadata(info),
            TextDetections=self.items,
            TextModelVersion=MODEL_VERSION,
        )


def detect_text(
    path: Path,
    info: MediaInfo,
    *,
    progress: Progress | None = None,
    reader: Reader | None = None,
    **params: Any,
) -> TextResponse:
    """`path`'s text as one complete GetTextDetection response; `params` are the text job's
    (worker/engines/text_params.py: min_confidence, min_box_height, min_box_width, regions)."""
    from worker.engines.local.vision import run_alone

    return run_alone(path, info, TextRun(text_filters(params), reader), progress)
