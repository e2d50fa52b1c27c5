"""The local labels engine: one GetLabelDetection-shaped response for a video.

Two sources, both offline (nothing is downloaded):
- EfficientNet-Lite0, an ImageNet-1k classifier (lite0.py). Its 1000 classes are named and
  placed in a hierarchy by a committed taxonomy (data/labels.json, built from WordNet 3.0
  by scripts/build_label_taxonomy.py): each class has a leaf name ("Egyptian Cat") and
  parents ("Cat", "Feline", "Mammal", "Animal", "Pet"). A name's probability is the summed
  softmax mass of every class under it, so broad names ("Landscape", "Building") come out
  of several weak leaves. A name is kept when that mass is at least THRESHOLD.
- The face engine's detector and mesh gate (faces.py): a kept face gives `Face`, `Head`
  and `Person` (ImageNet has no person class) at the detector's confidence.

A picture with no content (flat, black, colour bars: `has_content`) gets no labels: on
those the classifier's broad sums are noise ("Animal" on grey frames).

Confidence: a classifier name's summed probability p is mapped so that THRESHOLD reads
50 and 1 reads 100 (50 + 50 (p - THRESHOLD) / (1 - THRESHOLD)); a face label keeps the
detector's score in percent. Then the job's MinConfidence (default 50, as on Rekognition)
and the label/category filters apply. No source gives boxes, so `Instances` is empty.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal, NotRequired, TypedDict

import numpy as np
import numpy.typing as npt

from worker.engines.local.page_shapes import VideoMetadata
from worker.engines.local.segments import video_metadata
from worker.engines.port import Progress
from worker.errors import EngineError
from worker.media.info import MediaInfo

MODEL_VERSION = "labels-1 (efficientnet-lite0 0.1.0, mediapipe 0.10.21, WN 3.0)"
EVERY_MS = 500  # two pictures a second
THRESHOLD = 0.25  # summed class probability under which a name is not kept
TAXONOMY_FILE = Path(__file__).parent / "data" / "labels.json"
BLACK_BORDER = 16  # trimmed before classifying: rows/columns whose brightest value is lower
FLAT_STD = 6.0  # a picture whose luma varies less than this (0-255) is flat: no content
BARS_VERTICAL = 4.5  # columns this much more varied across than down: colour bars

U8 = npt.NDArray[np.uint8]
F64 = npt.NDArray[np.float64]
Classifier = Callable[[U8], F64]  # an RGB picture -> 1000 ImageNet probabilities
FaceScorer = Callable[[U8], list[float]]  # an RGB picture -> its kept faces' scores (0-1)


class Parent(TypedDict):
    Name: str


class Category(TypedDict):
    Name: str


class Label(TypedDict):
    Name: str
    Confidence: float
    Instances: list[Any]
    Parents: list[Parent]
    Aliases: list[Any]
    Categories: list[Category]


class LabelItem(TypedDict):
    Timestamp: int
    Label: Label


class LabelResponse(TypedDict):
    JobStatus: Literal["SUCCEEDED"]
    VideoMetadata: VideoMetadata
    Labels: list[LabelItem]
    LabelModelVersion: str
    NextToken: NotRequired[str]


# ---------------------------------------------------------------- taxonomy


@dataclass(frozen=True)
class Taxonomy:
    names: list[str]  # every name a class sums into, sorted
    membership: npt.NDArray[np.float64]  # (1000, len(names)): 1 where a class is under a name
    parents: dict[str, list[str]]
    category: dict[str, str | None]


@cache
def taxonomy() -> Taxonomy:
    """The shipped taxonomy (read once per process)."""
    return taxonomy_from(json.loads(TAXONOMY_FILE.read_text()))


def taxonomy_from(data: dict[str, Any]) -> Taxonomy:
    classes = data["classes"]
    names = sorted({n for c in classes for n in [c["name"], *c["parents"]]})
    index = {n: i for i, n in enumerate(names)}
    membership = np.zeros((len(classes), len(names)), dtype=np.float64)
    for k, c in enumerate(classes):
        for n in [c["name"], *c["parents"]]:
            membership[k, index[n]] = 1.0
    labels = data["labels"]
    return Taxonomy(
        names=names,
        membership=membership,
        parents={n: list(v["parents"]) for n, v in labels.items()},
        category={n: v["category"] for n, v in labels.items()},
    )


# ---------------------------------------------------------------- pictures


def _luma(picture: U8) -> F64:
    rgb = picture.astype(np.float64)
    luma: F64 = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
    return luma


def has_content(picture: U8) -> bool:
    """False for a flat (black, grey, one colour) picture and for colour bars."""
    step = max(1, max(picture.shape[:2]) // 160)  # about 160 px is plenty to judge
    small = picture[::step, ::step]
    luma = _luma(small)
    if float(luma.std()) < FLAT_STD and float(small.astype(np.float64).std(axis=(0, 1)).max()) < (
        FLAT_STD
    ):
        return False
    # bars: in the top 60 %, every column is nearly constant downwards, varied across
    top = small[: max(1, small.shape[0] * 3 // 5)].astype(np.float64)
    column_spread = float(top.mean(axis=0).std(axis=0).mean())
    down_spread = float(top.std(axis=0).mean())
    return column_spread / (down_spread + 1.0) < BARS_VERTICAL


def preprocess(picture: U8) -> npt.NDArray[np.float32]:
    """Black borders trimmed, the centre square, 224 x 224 (cv2's INTER_AREA, rounded to
    uint8 as the scouting measured it), (x - 127) / 128, NCHW."""
    brightest = picture.max(axis=2)
    rows = np.flatnonzero(brightest.max(axis=1) > BLACK_BORDER)
    cols = np.flatnonzero(brightest.max(axis=0) > BLACK_BORDER)
    if len(rows) >= 8 and len(cols) >= 8:
        picture = picture[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = picture.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = picture[top : top + side, left : left + side].astype(np.float64)
    weights = _area_weights(side)
    small = weights @ square.transpose(2, 0, 1) @ weights.T  # (3, 224, 224)
    x = (np.floor(small + 0.5).clip(0, 255).astype(np.float32) - 127.0) / 128.0
    return np.ascontiguousarray(x[None])


@cache
def _area_weights(side: int) -> F64:
    from worker.engines.local.faces import _area_weights as area

    return area(side, 224)


# ---------------------------------------------------------------- models


@cache
def shipped_classifier() -> Classifier:
    from worker.engines.local.lite0 import Lite0

    model = Lite0()
    return lambda picture: model(preprocess(picture))


@cache
def shipped_face_scorer() -> FaceScorer:
    from worker.engines.local import faces

    models = faces.load_models()

    def scores(picture: U8) -> list[float]:
        h, w = picture.shape[:2]
        out = []
        for d in faces.detect(models, picture):
            points, _ = faces.mesh(models, picture, faces.roi_from_detection(d, w, h))
            _, presence = faces.mesh(models, picture, faces.roi_from_mesh(points))
            if presence >= faces.MESH_GATE:
                out.append(float(d.score))
        return out

    return scores


# ---------------------------------------------------------------- labels


def confidence_of(probability: float) -> float:
    """THRESHOLD -> 50, 1 -> 100 (linear)."""
    p = min(max(probability, 0.0), 1.0)
    return round(50.0 + 50.0 * (p - THRESHOLD) / (1.0 - THRESHOLD), 3)


@dataclass(frozen=True)
class Filters:
    min_confidence: float = 50.0
    include: frozenset[str] = frozenset()  # lower-cased names; empty: every name
    exclude: frozenset[str] = frozenset()
    include_categories: frozenset[str] = frozenset()
    exclude_categories: frozenset[str] = frozenset()

    def keep(self, name: str, confidence: float, category: str | None) -> bool:
        cat = (category or "").lower()
        return (
            confidence >= self.min_confidence
            and (not self.include or name.lower() in self.include)
            and name.lower() not in self.exclude
            and (not self.include_categories or cat in self.include_categories)
            and cat not in self.exclude_categories
        )


def picture_labels(
    picture: U8, classify: Classifier, face_scores: FaceScorer, tax: Taxonomy, filters: Filters
) -> list[Label]:
    """The labels of one upright RGB picture, by name."""
    if not has_content(picture):
        return []
    confidence: dict[str, float] = {}
    mass = classify(picture) @ tax.membership
    for i in np.flatnonzero(mass >= THRESHOLD):
        confidence[tax.names[int(i)]] = confidence_of(float(mass[i]))
    best_face = max(face_scores(picture), default=0.0)
    if best_face > 0.0:
        confidence["Face"] = max(confidence.get("Face", 0.0), round(100.0 * best_face, 3))
    for name in list(confidence):  # a label implies its parents, at least as confidently
        for parent in tax.parents.get(name, []):
            confidence[parent] = max(confidence.get(parent, 0.0), confidence[name])
    out = []
    for name in sorted(confidence):
        category = tax.category.get(name)
        if not filters.keep(name, confidence[name], category):
            continue
        out.append(
            Label(
                Name=name,
                Confidence=confidence[name],
                Instances=[],
                Parents=[Parent(Name=p) for p in tax.parents.get(name, [])],
                Aliases=[],
                Categories=[Category(Name=category)] if category else [],
            )
        )
    return out


def _names(value: object, what: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    items: Sequence[object] = [value] if isinstance(value, str) else value  # type: ignore[assignment]
    if not isinstance(items, Sequence) or not all(isinstance(v, str) for v in items):
        raise EngineError(f"{what} must be a list of names, got {value!r}")
    return frozenset(str(v).lower() for v in items)


def check_filters(
    min_confidence: Any = 50.0,
    label_inclusion_filters: object = None,
    label_exclusion_filters: object = None,
    label_category_inclusion_filters: object = None,
    label_category_exclusion_filters: object = None,
) -> Filters:
    if isinstance(min_confidence, bool) or not isinstance(min_confidence, int | float):
        raise EngineError(f"min_confidence must be a number, got {min_confidence!r}")
    if not 0.0 <= float(min_confidence) <= 100.0:
        raise EngineError(f"min_confidence must be between 0 and 100, got {min_confidence!r}")
    return Filters(
        min_confidence=float(min_confidence),
        include=_names(label_inclusion_filters, "label_inclusion_filters"),
        exclude=_names(label_exclusion_filters, "label_exclusion_filters"),
        include_categories=_names(
            label_category_inclusion_filters, "label_category_inclusion_filters"
        ),
        exclude_categories=_names(
            label_category_exclusion_filters, "label_category_exclusion_filters"
        ),
    )


class LabelsRun:
    """One video's labels, a picture at a time (vision.one_pass feeds it)."""

    every_ms = EVERY_MS

    def __init__(
        self,
        *,
        classifier: Classifier | None = None,
        face_scorer: FaceScorer | None = None,
        min_confidence: Any = 50.0,
        label_inclusion_filters: object = None,
        label_exclusion_filters: object = None,
        label_category_inclusion_filters: object = None,
        label_category_exclusion_filters: object = None,
        **unknown: object,
    ) -> None:
        if unknown:
            raise EngineError(f"unknown label parameters: {', '.join(sorted(unknown))}")
        self.filters = check_filters(
            min_confidence,
            label_inclusion_filters,
            label_exclusion_filters,
            label_category_inclusion_filters,
            label_category_exclusion_filters,
        )
        self.classify = classifier or shipped_classifier()
        self.face_scores = face_scorer or shipped_face_scorer()
        self.taxonomy = taxonomy()
        self.items: list[LabelItem] = []

    def take(self, at_ms: int, picture: U8) -> None:
        labels = picture_labels(
            picture, self.classify, self.face_scores, self.taxonomy, self.filters
        )
        self.items += [LabelItem(Timestamp=at_ms, Label=label) for label in labels]

    def response(self, info: MediaInfo) -> LabelResponse:
        return LabelResponse(
            JobStatus="SUCCEEDED",
            VideoMetadata=video_metadata(info),
            Labels=self.items,
            LabelModelVersion=MODEL_VERSION,
        )


def detect_labels(
    path: Path, info: MediaInfo, *, progress: Progress | None = None, **params: Any
) -> LabelResponse:
    """`path`'s labels as one complete GetLabelDetection response."""
    from worker.engines.local.vision import run_alone

    return run_alone(path, info, LabelsRun(**params), progress)
