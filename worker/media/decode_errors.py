"""Decode errors: counted while ffmpeg decodes a video, judged against a limit.

ffmpeg decodes past a damaged packet: it drops or conceals the frame, logs an error
and still exits 0. A file whose middle third is garbage but whose container is intact
(the sample index, the moov box) therefore probes cleanly and "decodes"; only stderr
tells. With `-loglevel level+info` every stderr line carries its level, and the error
lines are counted as they pass between the decoded frames' lines.

The decoder runs on one thread (DECODE_THREADS), so that log is the same every run.
ffmpeg's default frame threads print a packet's errors from a worker thread whenever
it gets to it, out of step with the frames the main thread passes on (the errors moved
by 1-3 frames between runs), and av_log is atomic per call, not per line: an error
printed while the main thread was half-way through a frame's line (showinfo writes one
in several calls) lost its level and went uncounted (3 errors counted instead of 4 in
about one run of 20); and a frame could be passed on before its thread flagged it
corrupt (1-3 of 3 concealed frames flagged). With one thread every line is printed by
ffmpeg's main loop in the file's order: a packet's errors while it is decoded, then the
frames that are ready. (The analysis' rawvideo encoder gets one thread too: with its
frame threads the muxer's error about a damaged file's repeated timestamps moved between
runs.) A decode on one thread costs 5-20 % less CPU and up to a quarter more time
(decode_check.py).

- errors: error-level lines (the decoder's, the parser's, and ffmpeg's own "Error while
  decoding stream"), what `ffmpeg -v error -i FILE -f null -` prints;
- where: errors go with the next decoded frame, or, when ffmpeg flags a frame as
  corrupt ("corrupt decoded frame", printed just before that frame: the decoder
  concealed damage in it) within REORDER_FRAMES after them, with that frame: the
  damaged frame itself, which comes out a few frames after its packet's errors when
  frames are reordered. A flagged frame without errors before it is not counted;
- damaged frames: the frames that did not decode (the file's frame count minus the
  decoded ones) or, where more, the frames errors went with. A lost frame's errors
  spread over up to DELAY_FRAMES decoded frames (its packet's, then the frames that
  referred to it), so errors that close count as one frame (a run of them, as its
  length less that spread). A lower bound: frames predicted from a damaged one look
  wrong without an error, and random bytes in a slice often decode without one.

Over VIDX_MAX_DECODE_ERROR_RATIO damaged frames the file is refused as corrupt; below it
the errors are kept as spans (errors under SPAN_GAP_MS apart form one span) and shown
as notes on the timeline.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from worker.errors import InputError
from worker.timecode import format_hms

# the segments result page's vidx extension carrying a DecodeReport (not a Rekognition key)
PAGE_KEY = "VidxDecodeErrors"
# Video.extra's key for the report of a check decode (decode_check.py), same JSON
CHECK_KEY = "decode_check"
SPAN_GAP_MS = 1000
# the decoder's threads (-threads) in every decode whose errors are counted: one log order
DECODE_THREADS = 1
# a lost frame's errors (its packet's, then those of frames referring to it) come
# before up to this many consecutive decoded frames (measured 3 with B-frames)
DELAY_FRAMES = 3
# a concealed frame comes out at most this many frames after its packet's errors (the
# largest H.264/HEVC reorder buffer)
REORDER_FRAMES = 16
MAX_SPANS = 100  # more spans are merged (with wider gaps) into at most this many

# "[h264 @ 0x55d4...] [error] ..." or "[error] ...": the context, if any, then the level
_LEVEL = re.compile(
    r"^(?:\[[^\]]* @ (?:0x)?[0-9a-fA-F]+\] )?"
    r"\[(panic|fatal|error|warning|info|verbose|debug|trace)\] "
)
ERROR_LEVELS = frozenset({"panic", "fatal", "error"})
# ffmpeg's own line before a frame the decoder flagged (decode_error_flags, concealment):
# "[warning] file:/x.mp4: corrupt decoded frame in stream 0" ("fatal" with -xerror)
_CORRUPT = re.compile(r": corrupt decoded frame in stream \d+$")


def split_level(line: str) -> tuple[str | None, str]:
    """("error", the line without its level tag) for a line of `-loglevel level+...`;
    (None, line) for a line without one."""
    found = _LEVEL.match(line)
    if found is None:
        return None, line
    return found.group(1), line[: found.start(1) - 1] + line[found.end() :]


class DecodeSpanPage(TypedDict):
    StartTimestampMillis: int
    EndTimestampMillis: int
    Errors: int
    Frames: int


class DecodePage(TypedDict):
    """The decode errors on a result page (PAGE_KEY) and in `Video.extra` (CHECK_KEY)."""

    Errors: int
    DamagedFrames: int
    Frames: int
    Spans: list[DecodeSpanPage]


@dataclass(frozen=True)
class ErrorSpan:
    """Errors reported while decoding [start_ms, end_ms) (ms from the first frame)."""

    start_ms: int
    end_ms: int
    errors: int
    frames: int  # frames damaged there, as counted (see the module's docstring)

    @property
    def note(self) -> str:
        return span_note(self.start_ms, self.end_ms, self.errors)


def span_note(start_ms: int, end_ms: int, errors: int) -> str:
    what = f"{errors} decode error{'s' if errors != 1 else ''}"
    if end_ms - start_ms <= 200:
        return f"{what} around {format_hms(start_ms)}"
    return f"{what} between {format_hms(start_ms)} and {format_hms(end_ms)}"


@dataclass(frozen=True)
class DecodeReport:
    errors: int
    damaged_frames: int
    frame_count: int  # the frames the file holds (probe), or were decoded if more
    spans: tuple[ErrorSpan, ...] = ()

    @property
    def ratio(self) -> float:
        return self.damaged_frames / max(self.frame_count, 1)

    def problem(self, max_ratio: float) -> str:
        """Why the file is refused (InputError's problem)."""
        where = ""
        if self.spans:
            start, end = self.spans[0].start_ms, self.spans[-1].end_ms
            where = f" between {format_hms(start)} and {format_hms(end)}"
        return (
            f"{self.errors} decode errors{where} ({_percent(self.ratio)} of frames damaged, "
            f"over the {_percent(max_ratio)} limit); the file is corrupt"
        )

    def to_page(self) -> DecodePage:
        """Rekognition-style JSON for the result page (PAGE_KEY)."""
        return {
            "Errors": self.errors,
            "DamagedFrames": self.damaged_frames,
            "Frames": self.frame_count,
            "Spans": [
                {
                    "StartTimestampMillis": s.start_ms,
                    "EndTimestampMillis": s.end_ms,
                    "Errors": s.errors,
                    "Frames": s.frames,
                }
                for s in self.spans
            ],
        }

    @classmethod
    def from_page(cls, raw: Mapping[str, Any]) -> DecodeReport:
        spans = tuple(
            ErrorSpan(
                int(s["StartTimestampMillis"]),
                int(s["EndTimestampMillis"]),
                int(s["Errors"]),
                int(s.get("Frames", 0)),
            )
            for s in raw.get("Spans", [])
        )
        return cls(int(raw["Errors"]), int(raw["DamagedFrames"]), int(raw["Frames"]), spans)


def refuse_if_corrupt(path: str | Path, report: DecodeReport, max_ratio: float | None) -> None:
    """InputError naming the file when more than `max_ratio` of its frames are damaged."""
    if max_ratio is not None and report.ratio > max_ratio:
        raise InputError(path, report.problem(max_ratio))


def _percent(ratio: float) -> str:
    pct = ratio * 100
    return f"{pct:.0f} %" if pct >= 10 or pct == int(pct) else f"{pct:.1f} %"


@dataclass(frozen=True)
class _Burst:
    """Errors that went with decoded frames `first`..`last`, no more than DELAY_FRAMES
    apart: the errors of one damaged frame, or of a run of them. `exact` of them went
    with frames flagged corrupt, `loose` with the next decoded frame."""

    first: int
    last: int
    errors: int
    exact: int
    loose: int

    def add(self, index: int, errors: int, exact: bool) -> _Burst:
        return _Burst(
            self.first, index, self.errors + errors, self.exact + exact, self.loose + (not exact)
        )

    @property
    def damaged(self) -> int:
        # each flagged frame; loose errors: the frame(s) hit, not the frames the report
        # of one was spread over
        spread = max(1, self.last - self.first + 1 - DELAY_FRAMES) if self.loose else 0
        return max(self.exact, spread)


@dataclass
class DecodeErrorLog:
    """Fed in stderr order while ffmpeg decodes: error lines, frames flagged corrupt and
    decoded frames."""

    errors: int = 0
    frames: int = 0
    # (index of the decoded frame the errors were reported before, errors)
    events: list[tuple[int, int]] = field(default_factory=list)
    # indexes of the decoded frames ffmpeg flagged corrupt
    flagged: list[int] = field(default_factory=list)
    _pending: int = 0
    _flag_next: bool = False

    def line(self, level: str | None, text: str) -> None:
        """A stderr line other than a frame's (`split_level`'s level and text)."""
        if level in ERROR_LEVELS:
            self.error()
        if level in ("warning", "fatal") and _CORRUPT.search(text):
            self.corrupt()

    def error(self) -> None:
        self.errors += 1
        self._pending += 1

    def corrupt(self) -> None:
        """The next decoded frame is flagged corrupt."""
        self._flag_next = True

    def frame(self) -> None:
        if self._pending:
            self.events.append((self.frames, self._pending))
            self._pending = 0
        if self._flag_next:
            self.flagged.append(self.frames)
            self._flag_next = False
        self.frames += 1

    def report(
        self, frame_ms: Sequence[int], expected_frames: int, duration_ms: int
    ) -> DecodeReport:
        """`frame_ms`: each decoded frame's start (ms from the first frame);
        `expected_frames`: how many the file holds (the probe's count)."""
        frame_count = max(expected_frames, self.frames)
        if not self.errors:
            return DecodeReport(0, 0, frame_count)
        events = list(self.events)
        if self._pending:  # errors after the last frame: at the end
            events.append((max(self.frames - 1, 0), self._pending))
        bursts: list[_Burst] = []
        for index, errors, exact in sorted(_located(events, self.flagged)):
            if bursts and index - bursts[-1].last <= DELAY_FRAMES:
                bursts[-1] = bursts[-1].add(index, errors, exact)
            else:
                bursts.append(_Burst(index, index, errors, int(exact), int(not exact)))
        lost = max(0, expected_frames - self.frames)
        damaged = max(lost, sum(b.damaged for b in bursts))
        spans = _spans(bursts, list(frame_ms), duration_ms)
        return DecodeReport(self.errors, damaged, frame_count, spans)


def _located(
    events: Sequence[tuple[int, int]], flagged: Sequence[int]
) -> list[tuple[int, int, bool]]:
    """(frame, errors, flagged) for each event (errors before a decoded frame): moved to
    the frame flagged corrupt for it, the first one not yet taken from the event on and
    within REORDER_FRAMES; an event without one stays where it was reported."""
    free = deque(sorted(flagged))
    located: list[tuple[int, int, bool]] = []
    for index, errors in events:  # in stderr order, so by index
        while free and free[0] < index:  # flagged with no errors before it: not counted
            free.popleft()
        if free and free[0] - index <= REORDER_FRAMES:
            located.append((free.popleft(), errors, True))
        else:
            located.append((index, errors, False))
    return located


def _spans(
    bursts: Sequence[_Burst], frame_ms: list[int], duration_ms: int
) -> tuple[ErrorSpan, ...]:
    def start(index: int) -> int:
        return frame_ms[index] if index < len(frame_ms) else duration_ms

    def end(index: int) -> int:
        nxt = frame_ms[index + 1] if index + 1 < len(frame_ms) else duration_ms
        return max(nxt, start(index) + 1)

    gap = SPAN_GAP_MS
    while True:
        spans: list[ErrorSpan] = []
        for b in bursts:
            last = spans[-1] if spans else None
            if last is not None and start(b.first) - last.end_ms <= gap:
                spans[-1] = ErrorSpan(
                    last.start_ms,
                    max(last.end_ms, end(b.last)),
                    last.errors + b.errors,
                    last.frames + b.damaged,
                )
            else:
                spans.append(ErrorSpan(start(b.first), end(b.last), b.errors, b.damaged))
        if len(spans) <= MAX_SPANS:
            return tuple(spans)
        gap *= 4
