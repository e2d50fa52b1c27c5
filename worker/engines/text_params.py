"""The text feature's job parameters, read once for every engine.

They are StartTextDetection's `Filters`: `WordFilter` (MinConfidence, MinBoundingBoxHeight,
MinBoundingBoxWidth) and `RegionsOfInterest` (boxes in ratios of the frame). Unset members
keep the service's defaults; the local engine applies the same ones (a word's confidence of
at least 80, any size, the whole frame).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from worker.errors import InvalidInputError

DEFAULT_MIN_CONFIDENCE = 80.0  # (doc) "The default MinConfidence is 80"
MAX_REGIONS = 10  # (doc) RegionsOfInterest holds at most 10 regions
KEYS = ("min_confidence", "min_box_height", "min_box_width", "regions")


@dataclass(frozen=True)
class Region:
    """A box in ratios of the frame: left, top, width, height."""

    left: float
    top: float
    width: float
    height: float

    def overlap(self, other: Region) -> float:
        """The area the two boxes share, in ratios of the frame."""
        w = min(self.left + self.width, other.left + other.width) - max(self.left, other.left)
        h = min(self.top + self.height, other.top + other.height) - max(self.top, other.top)
        return max(0.0, w) * max(0.0, h)


@dataclass(frozen=True)
class TextFilters:
    min_confidence: float | None = None  # None: the service default (80)
    min_box_height: float | None = None  # a ratio of the frame's height
    min_box_width: float | None = None
    regions: tuple[Region, ...] = ()

    @property
    def word_confidence(self) -> float:
        return DEFAULT_MIN_CONFIDENCE if self.min_confidence is None else self.min_confidence

    def keep(self, confidence: float, box: Region) -> bool:
        """Whether a word with this confidence and box passes: confident and big enough, and
        more than half inside a region when there are regions (the API reference's rule)."""
        if confidence < self.word_confidence:
            return False
        if box.height < (self.min_box_height or 0.0) or box.width < (self.min_box_width or 0.0):
            return False
        area = box.width * box.height
        return not self.regions or any(box.overlap(r) > 0.5 * area for r in self.regions)


def text_filters(params: Mapping[str, Any]) -> TextFilters:
    """The filters of a text job's params; InvalidInputError naming a bad one."""
    unknown = sorted(set(params) - set(KEYS))
    if unknown:
        raise InvalidInputError(
            f"unknown text parameter(s) {', '.join(unknown)} (known: {', '.join(KEYS)})"
        )
    return TextFilters(
        min_confidence=_ratio(params, "min_confidence", 100.0),
        min_box_height=_ratio(params, "min_box_height", 1.0),
        min_box_width=_ratio(params, "min_box_width", 1.0),
        regions=_regions(params.get("regions")),
    )


def _ratio(params: Mapping[str, Any], key: str, top: float) -> float | None:
    value = params.get(key)
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"parameter {key}={value!r} is not a number") from exc
    if not 0.0 <= number <= top:
        raise InvalidInputError(f"parameter {key}={value!r}: expected 0 to {top:g}")
    return number


def _regions(value: Any) -> tuple[Region, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise InvalidInputError(f"parameter regions={value!r}: expected a list of boxes")
    if len(value) > MAX_REGIONS:
        raise InvalidInputError(f"parameter regions: {len(value)} boxes, at most {MAX_REGIONS}")
    return tuple(_region(box) for box in value)


def _region(box: Any) -> Region:
    """{"left", "top", "width", "height"} in ratios of the frame, or a RegionOfInterest as
    Rekognition writes it ({"BoundingBox": {"Left", …}}); polygons are not taken."""
    if isinstance(box, Mapping) and set(box) == {"BoundingBox"}:
        box = box["BoundingBox"]
    if not isinstance(box, Mapping):
        raise InvalidInputError(f"parameter regions: {box!r} is not a box")
    keys = {k.lower(): v for k, v in box.items()}
    try:
        left, top, width, height = (float(keys[k]) for k in ("left", "top", "width", "height"))
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"parameter regions: {box!r} needs numeric left, top, width and height"
        ) from exc
    if min(left, top) < 0 or width <= 0 or height <= 0 or left + width > 1 or top + height > 1:
        raise InvalidInputError(
            f"parameter regions: {box!r} must lie inside the frame (ratios 0 to 1)"
        )
    return Region(left, top, width, height)
