"""The local segment engine: one GetSegmentDetection-shaped response for a video.

One decode feeds both detectors: each batch of tiny frames updates the shot change
scores and the cue statistics, then the frames are dropped. Times come from the
decoded pts (relative to the first frame, integer ms rounded half up), so variable
frame rate files and files that start late are timed correctly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import accumulate
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast

import numpy as np
import numpy.typing as npt

from worker.engines.local.cues import F64, Cue, CueFeatures, classify
from worker.engines.local.frames import FrameTimes, U8Frames, decode_frames
from worker.engines.local.page_shapes import (
    AudioMetadata,
    Segment,
    SegmentResponse,
    SegmentType,
    VideoMetadata,
)
from worker.engines.local.shots import (
    ChangeScores,
    Shot,
    detect_cuts,
    near_misses,
    shots_from_cuts,
)
from worker.engines.local.text_evidence import TextEvidence
from worker.engines.port import Progress
from worker.errors import EngineError
from worker.media.decode_errors import refuse_if_corrupt
from worker.media.info import MediaInfo
from worker.timecode import round_half_up, smpte

if TYPE_CHECKING:
    from worker.engines.local.text import TextRun
    from worker.engines.local.vision import PictureRun

MODEL_VERSION = "vidx-local-1"
SEGMENT_TYPES: tuple[SegmentType, ...] = ("TECHNICAL_CUE", "SHOT")

_FORMATS = {
    "mov": "QuickTime / MOV",
    "matroska": "Matroska / WebM",
    "avi": "AVI (Audio Video Interleaved)",
}


def _check(name: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise EngineError(f"{name} must be between {low:g} and {high:g}, got {value!r}")


def _color_range(info: MediaInfo, times: FrameTimes | None) -> Literal["FULL", "LIMITED"]:
    """FULL or LIMITED, as the stream declares it (untagged YUV is limited)."""
    declared_full = times is not None and times.source_range == "pc"
    if declared_full or (info.pix_fmt or "").startswith("yuvj"):
        return "FULL"
    return "LIMITED"


def video_metadata(info: MediaInfo, times: FrameTimes | None = None) -> VideoMetadata:
    """Rekognition's VideoMetadata for a probed file (`times`: the decode, if any, which
    knows the stream's declared colour range)."""
    first = info.container.split(",")[0]
    return {
        "Codec": info.video_codec,
        "DurationMillis": int(info.duration_ms),
        "Format": _FORMATS.get(first, first),
        "FrameRate": float(info.fps),
        "FrameHeight": info.height,
        "FrameWidth": info.width,
        "ColorRange": _color_range(info, times),
    }


def _audio_metadata(info: MediaInfo) -> list[AudioMetadata]:
    if not info.has_audio:
        return []
    return [
        {
            "Codec": info.audio_codec,
            "DurationMillis": int(info.duration_ms),
            "SampleRate": info.audio_sample_rate or 0,
            "NumberOfChannels": info.audio_channels or 0,
        }
    ]


def _segment(
    kind: SegmentType, start: int, end: int, frame_ms: list[int], fps: Fraction
) -> Segment:
    # Rekognition's convention: the end is the START of the last frame and the
    # durations are end - start (its documented example: frames 0..299 -> 299).
    return {
        "Type": kind,
        "StartTimestampMillis": frame_ms[start],
        "EndTimestampMillis": frame_ms[end],
        "DurationMillis": frame_ms[end] - frame_ms[start],
        "StartTimecodeSMPTE": smpte(start, fps),
        "EndTimecodeSMPTE": smpte(end, fps),
        "DurationSMPTE": smpte(end - start, fps),
        "StartFrameNumber": start,
        "EndFrameNumber": end,
        "DurationFrames": end - start,
    }


@dataclass(frozen=True)
class SegmentParams:
    """The segment job's parameters, checked (GetSegmentDetection's Filters, as ours)."""

    types: tuple[SegmentType, ...] = SEGMENT_TYPES
    black_max_pixel_threshold: float = 0.2
    black_min_coverage: float = 99.0
    min_shot_confidence: float = 50.0
    min_cue_confidence: float = 50.0

    def __post_init__(self) -> None:
        asked = self.types
        if not asked or len(set(asked)) != len(asked) or any(t not in SEGMENT_TYPES for t in asked):
            raise EngineError(f"segment types must be among {SEGMENT_TYPES}, got {list(asked)!r}")
        _check("black_max_pixel_threshold", self.black_max_pixel_threshold, 0.0, 0.99)
        _check("black_min_coverage", self.black_min_coverage, 0.0, 100.0)
        _check("min_shot_confidence", self.min_shot_confidence, 50.0, 100.0)
        _check("min_cue_confidence", self.min_cue_confidence, 50.0, 100.0)

    @property
    def cues(self) -> bool:
        return "TECHNICAL_CUE" in self.types

    @classmethod
    def of(cls, segment_types: Sequence[str] = SEGMENT_TYPES, **filters: float) -> SegmentParams:
        types = cast(tuple[SegmentType, ...], tuple(dict.fromkeys(segment_types)))
        return cls(types, **filters)


class FrameMeasures:
    """What the segment engine keeps of every decoded frame: its time, the shot change
    scores and the cue statistics (a few floats a frame; the frames are dropped)."""

    def __init__(self, params: SegmentParams) -> None:
        self.times = FrameTimes()
        self.scores = ChangeScores()
        self.features = CueFeatures(params.black_max_pixel_threshold, params.black_min_coverage)

    def add(self, planes: U8Frames) -> None:
        self.scores.add(planes)
        self.features.add(planes)


def _measure_every_frame(
    path: Path, info: MediaInfo, measures: FrameMeasures, progress: Progress | None
) -> None:
    """Decode every frame of `path` small (no pictures asked), into `measures`."""
    expected = max(info.frame_count, 1)
    for batch in decode_frames(Path(path), info.width, info.height, info.rotation, measures.times):
        measures.add(batch.planes)
        if progress is not None:
            progress(min(0.99, (batch.start + batch.count) / expected))


@dataclass(frozen=True)
class Decoded:
    """What a whole decode's measures give the shots and the technical cues: each frame's
    time, the shots, and the per-frame statistics the cue rules read (plain values, so a
    benchmark can keep them: benchmarks/cues.py)."""

    frame_ms: list[int]
    shots: list[Shot]
    features: dict[str, F64]
    black: npt.NDArray[np.bool_]
    black_confidence: F64
    lit_confidence: F64
    motion: F64

    @classmethod
    def of(cls, measures: FrameMeasures, min_shot_confidence: float) -> Decoded:
        # pts of decoded frames only go forward; a damaged file must not make time run back
        frame_ms = list(accumulate((round_half_up(t) for t in measures.times.relative_ms()), max))
        score, strong = measures.scores.arrays()
        features = measures.features
        black = features.black()
        cuts = detect_cuts(score, strong, black)
        near = near_misses(score, strong, black)
        return cls(
            frame_ms,
            shots_from_cuts(len(frame_ms), cuts, min_shot_confidence, near),
            features.arrays(),
            black,
            features.black_confidence(),
            features.lit_confidence(),
            score,
        )

    def cues(self, text: TextEvidence | None) -> list[Cue]:
        """The technical cues, every frame labelled; `text` None: the pixel rules alone."""
        return classify(
            self.shots,
            self.features,
            self.black,
            self.black_confidence,
            self.motion,
            self.frame_ms,
            self.lit_confidence,
            text,
        )


def respond(
    path: Path,
    info: MediaInfo,
    params: SegmentParams,
    measures: FrameMeasures,
    text: TextEvidence | None,
    max_decode_error_ratio: float | None = None,
) -> SegmentResponse:
    """The GetSegmentDetection response from a whole decode's measures; `text` is the
    text read in the video (needed for the technical cues: credits, studio logos)."""
    times = measures.times
    decoded = Decoded.of(measures, params.min_shot_confidence)
    frame_ms = decoded.frame_ms
    decode = times.errors.report(frame_ms, info.frame_count, info.duration_ms)
    refuse_if_corrupt(path, decode, max_decode_error_ratio)
    shots = decoded.shots

    segments: list[Segment] = []
    for kind in params.types:
        if kind == "SHOT":
            for shot in shots:
                seg = _segment("SHOT", shot.start, shot.end, frame_ms, info.fps)
                seg["ShotSegment"] = {"Index": shot.index, "Confidence": shot.confidence}
                segments.append(seg)
        else:
            if text is None:
                raise EngineError("technical cues need the video's text evidence")
            cues = decoded.cues(text)
            for cue in cues:
                if cue.confidence < params.min_cue_confidence:
                    continue
                seg = _segment("TECHNICAL_CUE", cue.start, cue.end, frame_ms, info.fps)
                seg["TechnicalCueSegment"] = {"Type": cue.type, "Confidence": cue.confidence}
                segments.append(seg)
    response: SegmentResponse = {
        "JobStatus": "SUCCEEDED",
        "VideoMetadata": [video_metadata(info, times)],
        "AudioMetadata": _audio_metadata(info),
        "Segments": segments,
        "SelectedSegmentTypes": [{"Type": t, "ModelVersion": MODEL_VERSION} for t in params.types],
    }
    if decode.errors:
        response["VidxDecodeErrors"] = decode.to_page()  # PAGE_KEY
    return response


def detect_segments(
    path: Path,
    info: MediaInfo,
    *,
    segment_types: Sequence[str] = SEGMENT_TYPES,
    progress: Progress | None = None,
    max_decode_error_ratio: float | None = None,
    **filters: float,
) -> SegmentResponse:
    """Shots and technical cues of `path` as one complete GetSegmentDetection response.

    `filters`: SegmentParams' (black_max_pixel_threshold, black_min_coverage,
    min_shot_confidence, min_cue_confidence). The technical cues read the video's text
    (the local OCR, in the same decode: `analyse`).
    Decode errors are counted on the way (decode_errors.py): over
    `max_decode_error_ratio` of the frames damaged the file is refused (InputError);
    below it the response carries them under PAGE_KEY, a vidx extension."""
    params = SegmentParams.of(segment_types, **filters)
    return analyse(path, info, params, [], progress, max_decode_error_ratio)


def analyse(
    path: Path,
    info: MediaInfo,
    params: SegmentParams,
    runs: Sequence[PictureRun],
    progress: Progress | None = None,
    max_decode_error_ratio: float | None = None,
) -> SegmentResponse:
    """The segments of `path`, with the picture model `runs` fed from the same decode.

    The technical cues read the text of the video: the evidence of a TextRun among `runs`
    (the text job's), else of a TextRun of its own."""
    runs, reader = with_text_reader(runs, params)
    measures = FrameMeasures(params)
    if runs:
        from worker.engines.local.vision import one_pass

        one_pass(path, info, runs, progress, frames=measures)
    else:
        _measure_every_frame(path, info, measures, progress)
    text = reader.evidence if reader is not None else None
    response = respond(path, info, params, measures, text, max_decode_error_ratio)
    if progress is not None:
        progress(1.0)
    return response


def with_text_reader(
    runs: Sequence[PictureRun], params: SegmentParams
) -> tuple[list[PictureRun], TextRun | None]:
    """`runs` and the TextRun the cues read: the text job's if it is among them, else one
    added (none when no cues are asked)."""
    from worker.engines.local.text import TextRun

    runs = list(runs)
    if not params.cues:
        return runs, None
    reader = next((r for r in runs if isinstance(r, TextRun)), None)
    if reader is None:
        reader = TextRun()
        runs.append(reader)
    return runs, reader
