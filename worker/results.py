"""The one parser: a Rekognition Get* result page -> typed detections.

Every engine (Rekognition, the local engine, `vidx import` of recorded pages) goes
through here, so the database never sees vendor JSON shapes except in `data`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from worker.engines.port import Feature
from worker.errors import VidxError
from worker.media.decode_errors import PAGE_KEY
from worker.timecode import frame_to_ms

# Rekognition reports FrameRate as a float; snap the NTSC family to their exact rationals.
_NTSC = {
    23.976: Fraction(24000, 1001),
    29.97: Fraction(30000, 1001),
    47.952: Fraction(48000, 1001),
    59.94: Fraction(60000, 1001),
}


DECODE_ERROR = "decode_error"  # the kind of a span of decode errors


class ResultParseError(VidxError):
    """A page that is not the shape of the feature's Get* response."""


@dataclass(frozen=True)
class BoundingBox:
    left: float
    top: float
    width: float
    height: float


@dataclass(frozen=True)
class ParsedDetection:
    kind: str  # shot | cue | label | moderation | face | text | decode_error
    name: str
    start_ms: int
    end_ms: int | None = None  # half-open end where the item spans time
    parent: str | None = None
    start_frame: int | None = None
    end_frame: int | None = None  # inclusive, as Rekognition reports it
    confidence: float | None = None
    bbox: BoundingBox | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class VideoMeta:
    duration_ms: int
    fps: Fraction
    width: int
    height: int
    codec: str | None
    container: str | None


@dataclass(frozen=True)
class ParsedPage:
    feature: Feature
    job_status: str
    status_message: str | None
    next_token: str | None
    video: VideoMeta | None
    model_version: str | None
    items: Sequence[ParsedDetection]


def rate_from_float(rate: float) -> Fraction:
    for approx, exact in _NTSC.items():
        if abs(rate - approx) < 0.005:
            return exact
    return Fraction(rate).limit_denominator(1001)


def parse_page(feature: Feature, page: Mapping[str, Any]) -> ParsedPage:
    if not isinstance(page, Mapping) or "JobStatus" not in page:
        raise ResultParseError(f"not a {feature.value} result page: no JobStatus")
    video = _video_meta(page.get("VideoMetadata"))
    try:
        items = _PARSERS[feature](page, video) + _decode_errors(page)
    except (KeyError, TypeError, ValueError) as exc:
        raise ResultParseError(f"malformed {feature.value} result page: {exc!r}") from exc
    return ParsedPage(
        feature=feature,
        job_status=str(page["JobStatus"]),
        status_message=page.get("StatusMessage"),
        next_token=page.get("NextToken"),
        video=video,
        model_version=_model_version(feature, page),
        items=items,
    )


def _video_meta(meta: Any) -> VideoMeta | None:
    if isinstance(meta, list):  # GetSegmentDetection returns a list
        meta = meta[0] if meta else None
    if not isinstance(meta, Mapping) or "FrameRate" not in meta:
        return None
    return VideoMeta(
        duration_ms=int(meta.get("DurationMillis", 0)),
        fps=rate_from_float(float(meta["FrameRate"])),
        width=int(meta.get("FrameWidth", 0)),
        height=int(meta.get("FrameHeight", 0)),
        codec=meta.get("Codec"),
        container=meta.get("Format"),
    )


def _model_version(feature: Feature, page: Mapping[str, Any]) -> str | None:
    if feature is Feature.SEGMENTS:
        versions = {s.get("ModelVersion") for s in page.get("SelectedSegmentTypes", [])}
        versions.discard(None)
        return ",".join(sorted(versions)) or None
    key = {
        Feature.LABELS: "LabelModelVersion",
        Feature.MODERATION: "ModerationModelVersion",
        Feature.FACES: "FaceModelVersion",  # the local engine's (GetFaceDetection has none)
        Feature.TEXT: "TextModelVersion",
    }
    return page.get(key.get(feature, ""))


def _bbox(box: Any) -> BoundingBox | None:
    if not isinstance(box, Mapping) or "Width" not in box:
        return None
    return BoundingBox(
        left=float(box["Left"]),
        top=float(box["Top"]),
        width=float(box["Width"]),
        height=float(box["Height"]),
    )


def _segment_end(seg: Mapping[str, Any], video: VideoMeta | None) -> int:
    """Half-open end: Rekognition's EndTimestampMillis is the start of the last frame."""
    end_incl = int(seg["EndTimestampMillis"])
    if video is None or video.fps <= 0:
        return end_incl
    last = seg.get("EndFrameNumber")
    if last is not None:
        return end_incl + frame_to_ms(int(last) + 1, video.fps) - frame_to_ms(int(last), video.fps)
    return end_incl + frame_to_ms(1, video.fps)


def _segments(page: Mapping[str, Any], video: VideoMeta | None) -> list[ParsedDetection]:
    out = []
    for seg in page.get("Segments", []):
        if seg["Type"] == "SHOT":
            info = seg["ShotSegment"]
            kind, name = "shot", "Shot"
        elif seg["Type"] == "TECHNICAL_CUE":
            info = seg["TechnicalCueSegment"]
            kind, name = "cue", str(info["Type"])
        else:
            raise ValueError(f"unknown segment type {seg['Type']!r}")
        extra = {k: v for k, v in seg.items() if k not in ("ShotSegment", "TechnicalCueSegment")}
        extra.update({"index": info.get("Index")} if kind == "shot" else {})
        out.append(
            ParsedDetection(
                kind=kind,
                name=name,
                start_ms=int(seg["StartTimestampMillis"]),
                end_ms=_segment_end(seg, video),
                start_frame=_opt_int(seg.get("StartFrameNumber")),
                end_frame=_opt_int(seg.get("EndFrameNumber")),
                confidence=float(info["Confidence"]),
                data=extra,
            )
        )
    return out


def _labels(page: Mapping[str, Any], video: VideoMeta | None) -> list[ParsedDetection]:
    out = []
    for item in page.get("Labels", []):
        label = item["Label"]
        instances = label.get("Instances") or []
        best = max(instances, key=lambda i: i.get("Confidence", 0), default=None)
        parents = [p["Name"] for p in label.get("Parents", [])]
        out.append(
            ParsedDetection(
                kind="label",
                name=str(label["Name"]),
                parent=parents[0] if parents else None,
                start_ms=int(item.get("StartTimestampMillis", item["Timestamp"])),
                end_ms=_opt_int(item.get("EndTimestampMillis")),
                confidence=float(label["Confidence"]),
                bbox=_bbox(best.get("BoundingBox")) if best else None,
                data={"Timestamp": item["Timestamp"], **label, "Parents": parents},
            )
        )
    return out


def _moderation(page: Mapping[str, Any], video: VideoMeta | None) -> list[ParsedDetection]:
    out = []
    for item in page.get("ModerationLabels", []):
        label = item["ModerationLabel"]
        out.append(
            ParsedDetection(
                kind="moderation",
                name=str(label["Name"]),
                parent=label.get("ParentName") or None,
                start_ms=int(item.get("StartTimestampMillis", item["Timestamp"])),
                end_ms=_opt_int(item.get("EndTimestampMillis")),
                confidence=float(label["Confidence"]),
                data={"Timestamp": item["Timestamp"], **label, **_rest(item, "ModerationLabel")},
            )
        )
    return out


def _faces(page: Mapping[str, Any], video: VideoMeta | None) -> list[ParsedDetection]:
    out = []
    for item in page.get("Faces", []):
        face = item["Face"]
        out.append(
            ParsedDetection(
                kind="face",
                name="Face",
                start_ms=int(item["Timestamp"]),
                confidence=float(face["Confidence"]) if "Confidence" in face else None,
                bbox=_bbox(face.get("BoundingBox")),
                data=dict(face),
            )
        )
    return out


TEXT_NAME_MAX = 256  # the name column's size: longer lines are cut (the whole text is in data)


def _text(page: Mapping[str, Any], video: VideoMeta | None) -> list[ParsedDetection]:
    """LINEs and WORDs alike (`data["Type"]` tells them apart); a WORD's parent is its
    LINE's text (ParentId within the frame), None when that line is on another page."""
    out = []
    for item in page.get("TextDetections", []):
        text = item["TextDetection"]
        kind = str(text["Type"])
        if kind not in ("LINE", "WORD"):
            raise ValueError(f"unknown text type {kind!r}")
        out.append((int(item["Timestamp"]), text))
    lines = {
        (at, t.get("Id")): " ".join(str(t["DetectedText"]).split())
        for at, t in out
        if t["Type"] == "LINE"
    }
    return [
        ParsedDetection(
            kind="text",
            name=" ".join(str(t["DetectedText"]).split())[:TEXT_NAME_MAX],
            parent=None if t["Type"] == "LINE" else lines.get((at, t.get("ParentId"))),
            start_ms=at,
            confidence=float(t["Confidence"]) if "Confidence" in t else None,
            bbox=_bbox((t.get("Geometry") or {}).get("BoundingBox")),
            data={"Timestamp": at, **t},
        )
        for at, t in out
    ]


def _decode_errors(page: Mapping[str, Any]) -> list[ParsedDetection]:
    """The local engine's decode errors (a vidx extension of the page, decode_errors.py):
    one item per span, kept as detections only (not timeline ranges)."""
    report = page.get(PAGE_KEY)
    if not report:
        return []
    return [
        ParsedDetection(
            kind=DECODE_ERROR,
            name="DecodeErrors",
            start_ms=int(span["StartTimestampMillis"]),
            end_ms=int(span["EndTimestampMillis"]),
            data={"errors": int(span["Errors"]), "frames": int(span.get("Frames", 0))},
        )
        for span in report.get("Spans", [])
    ]


def _rest(item: Mapping[str, Any], *skip: str) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in skip and k != "Timestamp"}


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


_PARSERS = {
    Feature.SEGMENTS: _segments,
    Feature.LABELS: _labels,
    Feature.MODERATION: _moderation,
    Feature.TEXT: _text,
    Feature.FACES: _faces,
}
