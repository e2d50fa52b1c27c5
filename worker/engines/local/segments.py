"""The local segment engine: one GetSegmentDetection-shaped response for a video.

One decode feeds both detectors: each batch of tiny frames updates the shot change
scores and the cue statistics, then the frames are dropped. Times come from the
decoded pts (relative to the first frame, integer ms rounded half up), so variable
frame rate files and files that start late are timed correctly.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from itertools import accumulate
from pathlib import Path
from typing import Literal, cast

from worker.engines.local.cues import CueFeatures, classify
from worker.engines.local.frames import FrameTimes, decode_frames
from worker.engines.local.page_shapes import (
    AudioMetadata,
    Segment,
    SegmentResponse,
    SegmentType,
    VideoMetadata,
)
from worker.engines.local.shots import ChangeScores, detect_cuts, near_misses, shots_from_cuts
from worker.engines.port import Progress
from worker.errors import EngineError
from worker.media.decode_errors import refuse_if_corrupt
from worker.media.info import MediaInfo
from worker.timecode import round_half_up, smpte

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


def detect_segments(
    path: Path,
    info: MediaInfo,
    *,
    segment_types: Sequence[str] = SEGMENT_TYPES,
    black_max_pixel_threshold: float = 0.2,
    black_min_coverage: float = 99.0,
    min_shot_confidence: float = 50.0,
    min_cue_confidence: float = 50.0,
    progress: Progress | None = None,
    max_decode_error_ratio: float | None = None,
) -> SegmentResponse:
    """Shots and technical cues of `path` as one complete GetSegmentDetection response.

    Decode errors are counted on the way (decode_errors.py): over
    `max_decode_error_ratio` of the frames damaged the file is refused (InputError);
    below it the response carries them under PAGE_KEY, a vidx extension."""
    asked = list(dict.fromkeys(segment_types))
    if not asked or any(t not in SEGMENT_TYPES for t in asked):
        raise EngineError(f"segment types must be among {SEGMENT_TYPES}, got {segment_types!r}")
    types = cast(list[SegmentType], asked)  # checked just above
    _check("black_max_pixel_threshold", black_max_pixel_threshold, 0.0, 0.99)
    _check("black_min_coverage", black_min_coverage, 0.0, 100.0)
    _check("min_shot_confidence", min_shot_confidence, 50.0, 100.0)
    _check("min_cue_confidence", min_cue_confidence, 50.0, 100.0)

    times = FrameTimes()
    scores = ChangeScores()
    features = CueFeatures(black_max_pixel_threshold, black_min_coverage)
    expected = max(info.frame_count, 1)
    for batch in decode_frames(Path(path), info.width, info.height, info.rotation, times):
        scores.add(batch.planes)
        features.add(batch.planes)
        if progress is not None:
            progress(min(0.99, (batch.start + batch.count) / expected))

    # pts of decoded frames only go forward; a damaged file must not make time run back
    frame_ms = list(accumulate((round_half_up(t) for t in times.relative_ms()), max))
    decode = times.errors.report(frame_ms, info.frame_count, info.duration_ms)
    refuse_if_corrupt(path, decode, max_decode_error_ratio)
    score, strong = scores.arrays()
    black = features.black()
    cuts = detect_cuts(score, strong, black)
    near = near_misses(score, strong, black)
    shots = shots_from_cuts(len(frame_ms), cuts, min_shot_confidence, near)

    segments: list[Segment] = []
    for kind in types:
        if kind == "SHOT":
            for shot in shots:
                seg = _segment("SHOT", shot.start, shot.end, frame_ms, info.fps)
                seg["ShotSegment"] = {"Index": shot.index, "Confidence": shot.confidence}
                segments.append(seg)
        else:
            cues = classify(
                shots,
                features.arrays(),
                black,
                features.black_confidence(),
                score,
                frame_ms,
                features.lit_confidence(),
            )
            for cue in cues:
                if cue.confidence < min_cue_confidence:
                    continue
                seg = _segment("TECHNICAL_CUE", cue.start, cue.end, frame_ms, info.fps)
                seg["TechnicalCueSegment"] = {"Type": cue.type, "Confidence": cue.confidence}
                segments.append(seg)
    if progress is not None:
        progress(1.0)
    response: SegmentResponse = {
        "JobStatus": "SUCCEEDED",
        "VideoMetadata": [video_metadata(info, times)],
        "AudioMetadata": _audio_metadata(info),
        "Segments": segments,
        "SelectedSegmentTypes": [{"Type": t, "ModelVersion": MODEL_VERSION} for t in types],
    }
    if decode.errors:
        response["VidxDecodeErrors"] = decode.to_page()  # PAGE_KEY
    return response
