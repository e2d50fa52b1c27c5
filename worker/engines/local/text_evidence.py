"""What the text read in a stretch of video says about it: the evidence credits, studio
logos and captions leave, for the technical cues (issue 14).

Input is the LINE items of a GetTextDetection-shaped response (the local OCR's, sampled
every second) and the times of the pictures that were read, so a picture with no text
counts as one. Per stretch (a shot, usually):

- how many of its pictures show text at all;
- how many text *cards* it shows: consecutive pictures whose words mostly differ start a
  new card (credits change cards; a caption or a lower third holds one);
- how many lines a picture with text holds (credits list several; a logo or a sign one);
- whether the lines roll: the same line seen higher up in the next picture;
- whether all the text sits in the lower quarter of the frame (lower thirds, tickers);
- the distinct words and the lines' height.

Pure functions of the items: no decoding, no model.
"""

from __future__ import annotations

import bisect
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

CARD_OVERLAP = 0.5  # word-set overlap (Jaccard) under which a picture shows a new card
ROLL_STEP = 0.02  # the least upward move between pictures (ratio of the height) of a roll
LOW_BAND = 0.75  # a line whose top is below this (ratio of the height) is in the lower band
PLACE_TOP = 0.03  # lines whose top and left are this close (ratios of the frame) ...
PLACE_HEIGHT = 0.25  # ... and whose heights and widths are within this ratio: one box
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class TextLine:
    """One line read in one picture; the box in ratios of the frame."""

    at_ms: int
    text: str
    top: float
    left: float
    width: float
    height: float
    confidence: float

    @property
    def words(self) -> frozenset[str]:
        return frozenset(w.lower() for w in _WORD.findall(self.text))


@dataclass(frozen=True)
class TextEvidence:
    """The lines read in a video and the times of every picture read (with text or not),
    both in time order, as they were read (vision.one_pass feeds pictures in time order):
    a stretch's lines and pictures are found by bisection, so asking for every shot of a
    long film costs its shots' own lines, not all of the film's each time."""

    lines: list[TextLine]
    picture_ms: list[int]

    def _lines_in(self, span: tuple[int, int]) -> list[TextLine]:
        lo = bisect.bisect_left(self.lines, span[0], key=lambda x: x.at_ms)
        hi = bisect.bisect_left(self.lines, span[1], key=lambda x: x.at_ms)
        return self.lines[lo:hi]

    def _pictures_in(self, span: tuple[int, int]) -> list[int]:
        lo = bisect.bisect_left(self.picture_ms, span[0])
        return self.picture_ms[lo : bisect.bisect_left(self.picture_ms, span[1])]

    def of(self, start_ms: int, end_ms: int) -> StretchText:
        span = (start_ms, end_ms)
        return stretch_text(self._lines_in(span), self._pictures_in(span), start_ms, end_ms)

    def repeated(self, first: tuple[int, int], then: tuple[int, int]) -> float:
        """Of the pictures in `then` (start, end ms), the share showing a line where one of
        `first`'s lines was, as wide (the same box: top and left within PLACE_TOP, height and
        width within PLACE_HEIGHT of each other): text that stays in place across shots in
        the same format is an overlay (a burnt-in caption, a clock, a channel name), not a
        card of its own. Centred titles of other lengths have other boxes."""

        places = self._lines_in(first)
        pictures = self._pictures_in(then)
        if not places or not pictures:
            return 0.0
        hits = {
            x.at_ms for x in self._lines_in(then) if any(_same_box(x, place) for place in places)
        }
        return len(hits) / len(pictures)


@dataclass(frozen=True)
class StretchText:
    """The text evidence of one stretch of pictures."""

    pictures: int  # pictures sampled in the stretch
    with_text: int  # of them, showing at least one line
    cards: int  # distinct text cards, in time order
    lines: float  # median lines in a picture with text (0 without text)
    words: int  # distinct words
    rolls: int  # pictures whose lines moved up from the picture before
    low_band: bool  # every line in the lower quarter of the frame
    height: float  # median line height, ratio of the frame's (0 without text)
    confidence: float = 0.0  # median confidence of the lines read, percent (0 without text)

    @property
    def rolling(self) -> bool:
        """Lines move up from picture to picture (twice at least: one move may be a pan)."""
        return self.rolls >= 2

    @property
    def share(self) -> float:
        """Of the pictures, the share showing text."""
        return self.with_text / self.pictures if self.pictures else 0.0


def lines_of(items: Iterable[Mapping[str, Any]], min_confidence: float = 0.0) -> list[TextLine]:
    """The LINE items of GetTextDetection-shaped `TextDetections`, as TextLines."""
    out = []
    for item in items:
        t = item["TextDetection"]
        if t["Type"] != "LINE" or float(t.get("Confidence", 0.0)) < min_confidence:
            continue
        box = t["Geometry"]["BoundingBox"]
        out.append(
            TextLine(
                at_ms=int(item["Timestamp"]),
                text=str(t["DetectedText"]),
                top=float(box["Top"]),
                left=float(box["Left"]),
                width=float(box["Width"]),
                height=float(box["Height"]),
                confidence=float(t.get("Confidence", 0.0)),
            )
        )
    return out


def _same_box(a: TextLine, b: TextLine) -> bool:
    return (
        abs(a.top - b.top) <= PLACE_TOP
        and abs(a.left - b.left) <= PLACE_TOP
        and abs(a.height - b.height) <= PLACE_HEIGHT * b.height
        and abs(a.width - b.width) <= PLACE_HEIGHT * b.width
    )


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def _rolls(before: Sequence[TextLine], after: Sequence[TextLine]) -> bool:
    """Some line of `before` is seen again, higher up, in `after`."""
    tops = {line.text: line.top for line in before}
    return any(line.text in tops and tops[line.text] - line.top >= ROLL_STEP for line in after)


def stretch_text(
    lines: Sequence[TextLine], picture_ms: Sequence[int], start_ms: int, end_ms: int
) -> StretchText:
    """The evidence of the pictures taken at `picture_ms` within [start_ms, end_ms)."""
    times = [t for t in picture_ms if start_ms <= t < end_ms]
    by_time: dict[int, list[TextLine]] = {t: [] for t in times}
    for line in lines:
        if line.at_ms in by_time:
            by_time[line.at_ms].append(line)
    shown = [by_time[t] for t in times if by_time[t]]
    cards = 0
    rolls = 0
    last_words: frozenset[str] | None = None
    last_lines: list[TextLine] = []
    for t in times:
        now = by_time[t]
        if not now:
            last_words, last_lines = None, []
            continue
        words = frozenset().union(*(line.words for line in now))
        if last_lines and _rolls(last_lines, now):
            rolls += 1
        elif last_words is None or _overlap(last_words, words) < CARD_OVERLAP:
            cards += 1
        last_words, last_lines = words, now
    every = [line for picture in shown for line in picture]
    return StretchText(
        pictures=len(times),
        with_text=len(shown),
        cards=cards,
        lines=float(statistics.median(len(p) for p in shown)) if shown else 0.0,
        words=len(frozenset().union(*(line.words for line in every))) if every else 0,
        rolls=rolls,
        low_band=bool(every) and all(line.top >= LOW_BAND for line in every),
        height=float(statistics.median(line.height for line in every)) if every else 0.0,
        confidence=float(statistics.median(x.confidence for x in every)) if every else 0.0,
    )
