"""The timeline laid out once for the writers: the file's rate and timecode read, shots
in frames, every detection kind in one time-ordered list.

Writers get an `ExportView` of the query's typed Timeline, so a value they cannot lay
out (a frame rate of 25/0, a shot ending before it starts) fails here with one message
naming it, not half-way through a writer. `read_timeline` reads a document (a saved
file, or one built by hand) into the Timeline the writers take.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import PurePosixPath
from typing import Any

from worker.errors import VidxError
from worker.read_json import timeline_from_json
from worker.read_model import ShotRange, Timeline
from worker.timecode import is_drop_frame, ms_to_frame, parse_rate, read_timecode, smpte

PROGRAMME_START, PROGRAMME_START_DF = "01:00:00:00", "01:00:00;00"

# Detection kinds in the order writers list them when two start together.
DETECTION_KINDS = ("cue", "label", "moderation", "face", "text")


class ExportError(VidxError):
    """A timeline that cannot be exported (unknown format, malformed document)."""


@dataclass(frozen=True)
class VideoInfo:
    id: str
    source: str
    fps: Fraction
    frame_count: int | None
    duration_ms: int
    start_timecode: str | None = None  # the file's label of its first frame, as stored
    audio_channels: int = 0  # 0: no audio

    @property
    def filename(self) -> str:
        # source is a local path, s3:// URI or import:path; the last component names it
        return PurePosixPath(self.source.replace("\\", "/")).name or self.id

    @property
    def timecode_frame(self) -> int:
        """Frames from 00:00:00:00 to the first frame's label (0: the file has none)."""
        return 0 if self.start_timecode is None else read_timecode(self.start_timecode, self.fps)[0]

    @property
    def drop_frame(self) -> bool:
        """How the timecode counts: as the file's own label, else drop-frame at 29.97/59.94."""
        if self.start_timecode is None:
            return is_drop_frame(self.fps)
        return read_timecode(self.start_timecode, self.fps)[1]

    @property
    def record_start_frame(self) -> int:
        """Where the edited timeline starts (EDL record side, OTIO global_start_time): at
        the file's own timecode, so a cut's timeline reads as the source does; a file
        without one starts at 01:00:00:00, the usual programme start."""
        if self.start_timecode is not None:
            return self.timecode_frame
        return read_timecode(PROGRAMME_START_DF if self.drop_frame else PROGRAMME_START, self.fps)[
            0
        ]

    def timecode(self, frame: int) -> str:
        """SMPTE label of a frame counted from 00:00:00:00, in the file's count."""
        return smpte(frame, self.fps, drop=self.drop_frame)


@dataclass(frozen=True)
class Shot:
    index: int
    start_ms: int
    end_ms: int
    start_frame: int
    end_frame: int  # inclusive
    confidence: float | None

    @property
    def frames(self) -> int:
        return self.end_frame - self.start_frame + 1


@dataclass(frozen=True)
class Detection:
    """A technical cue, label, moderation label or face range."""

    kind: str  # one of DETECTION_KINDS
    seq: int  # position within its kind in the document
    name: str
    start_ms: int
    end_ms: int
    confidence: float | None
    extra: Mapping[str, Any]  # kind-specific fields kept for metadata (parents, detections, ...)


@dataclass(frozen=True)
class ExportView:
    """The timeline as the writers lay it out: frame-exact shots, detections in time order."""

    video: VideoInfo
    shots: Sequence[Shot]
    detections: Sequence[Detection]  # sorted by start, kind, end

    def of_kind(self, kind: str) -> list[Detection]:
        return [d for d in self.detections if d.kind == kind]


def export_view(tl: Timeline) -> ExportView:
    """The writers' view of a timeline; ExportError names a value they cannot lay out."""
    try:
        return _view(tl)
    except (KeyError, TypeError, ValueError) as exc:
        raise ExportError(f"timeline document is malformed: {_describe(exc)}") from None


def read_timeline(doc: Mapping[str, Any]) -> Timeline:
    """A `vidx.timeline/1` document (e.g. a saved file) as the typed Timeline; ExportError
    names what is wrong."""
    try:
        return timeline_from_json(doc)
    except (KeyError, TypeError, ValueError) as exc:
        raise ExportError(f"timeline document is malformed: {_describe(exc)}") from None


def _describe(exc: Exception) -> str:
    return f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)


def _view(tl: Timeline) -> ExportView:
    v = tl.video
    video = VideoInfo(
        id=str(v.id),
        source=str(v.source),
        fps=parse_rate(str(v.fps)),
        frame_count=None if v.frame_count is None else int(v.frame_count),
        duration_ms=int(v.duration_ms),
        start_timecode=_start_timecode(v.start_timecode),
        audio_channels=int(v.audio_channels or 0),
    )
    if video.start_timecode is not None:
        try:  # a label the rate cannot have fails here, not in a writer
            read_timecode(video.start_timecode, video.fps)
        except ValueError as exc:
            raise ValueError(f"video.start_timecode: {exc}") from None
    shots = [_shot(s, video.fps) for s in tl.shots]
    dets: list[Detection] = []
    for i, c in enumerate(tl.technical_cues):
        dets.append(_det("cue", i, c.type, c.start_ms, c.end_ms, c.confidence, {}))
    for i, x in enumerate(tl.labels):
        extra = {"parents": list(x.parents), "detections": x.detections}
        dets.append(_det("label", i, x.name, x.start_ms, x.end_ms, x.max_confidence, extra))
    for i, m in enumerate(tl.moderation):
        extra = {"parent": m.parent, "detections": m.detections}
        dets.append(_det("moderation", i, m.name, m.start_ms, m.end_ms, m.max_confidence, extra))
    for i, f in enumerate(tl.faces):
        extra = {"attributes": dict(f.attributes), "detections": f.detections}
        dets.append(_det("face", i, "Face", f.start_ms, f.end_ms, f.max_confidence, extra))
    for i, t in enumerate(tl.text):
        extra = {"type": t.type, "detections": t.detections}
        dets.append(_det("text", i, t.name, t.start_ms, t.end_ms, t.max_confidence, extra))
    dets.sort(key=lambda d: (d.start_ms, DETECTION_KINDS.index(d.kind), d.end_ms, d.seq))
    return ExportView(video, shots, dets)


def _start_timecode(label: Any) -> str | None:
    # documents from before the field have no key: no timecode, as for a file without one
    return None if label is None else str(label)


def _shot(s: ShotRange, fps: Fraction) -> Shot:
    start_ms, end_ms = int(s.start_ms), int(s.end_ms)
    if end_ms <= start_ms:
        raise ValueError(f"shot {s.index} ends at {end_ms} ms, not after {start_ms} ms")
    # Frame numbers come with every engine's shots; derive them from the times if absent.
    first, last = s.start_frame, s.end_frame
    start_frame = ms_to_frame(start_ms, fps) if first is None else int(first)
    end_frame = ms_to_frame(end_ms - 1, fps) if last is None else int(last)
    if start_frame < 0 or end_frame < start_frame:
        raise ValueError(f"shot {s.index} has frames {start_frame}..{end_frame}")
    conf = s.confidence
    return Shot(
        int(s.index),
        start_ms,
        end_ms,
        start_frame,
        end_frame,
        None if conf is None else float(conf),
    )


def _det(
    kind: str,
    seq: int,
    name: str,
    start: int,
    end: int,
    conf: float | None,
    extra: Mapping[str, Any],
) -> Detection:
    start_ms, end_ms = int(start), int(end)
    if start_ms < 0 or end_ms < start_ms:
        raise ValueError(f"{kind} {name!r} has the range [{start_ms}, {end_ms}) ms")
    return Detection(
        kind, seq, str(name), start_ms, end_ms, None if conf is None else float(conf), extra
    )
