"""GetTextDetection pages built to the API's shape, for tests.

No recorded GetTextDetection output exists in ../shared/fixtures (NOTES.md): these follow
botocore's rekognition service model (test_text_support checks them against it) and the
API reference: per timestamp, each LINE and then its WORDs, Ids numbered within the frame,
a WORD's ParentId its LINE's Id, Geometry a BoundingBox and a four-point Polygon.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

VIDEO_METADATA = {
    "Codec": "h264",
    "DurationMillis": 10000,
    "Format": "QuickTime / MOV",
    "FrameRate": 25.0,
    "FrameHeight": 720,
    "FrameWidth": 1280,
}
MODEL_VERSION = "3.0"


def _geometry(left: float, top: float, width: float, height: float) -> dict[str, Any]:
    return {
        "BoundingBox": {"Width": width, "Height": height, "Left": left, "Top": top},
        "Polygon": [
            {"X": left, "Y": top},
            {"X": left + width, "Y": top},
            {"X": left + width, "Y": top + height},
            {"X": left, "Y": top + height},
        ],
    }


def frame_items(at_ms: int, lines: Sequence[str], confidence: float = 97.5) -> list[dict[str, Any]]:
    """The items of one timestamp: each line, then its words, stacked down the frame."""
    items: list[dict[str, Any]] = []
    next_id = 0
    for row, line in enumerate(lines):
        top = 0.1 + 0.1 * row
        line_id = next_id
        next_id += 1
        items.append(
            {
                "Timestamp": at_ms,
                "TextDetection": {
                    "DetectedText": line,
                    "Type": "LINE",
                    "Id": line_id,
                    "Confidence": confidence,
                    "Geometry": _geometry(0.1, top, 0.04 * len(line), 0.05),
                },
            }
        )
        left = 0.1
        for word in line.split():
            items.append(
                {
                    "Timestamp": at_ms,
                    "TextDetection": {
                        "DetectedText": word,
                        "Type": "WORD",
                        "Id": next_id,
                        "ParentId": line_id,
                        "Confidence": confidence - 1.0,
                        "Geometry": _geometry(left, top, 0.04 * len(word), 0.05),
                    },
                }
            )
            next_id += 1
            left += 0.04 * (len(word) + 1)
    return items


def text_page(items: Sequence[dict[str, Any]], next_token: str | None = None) -> dict[str, Any]:
    page: dict[str, Any] = {
        "JobStatus": "SUCCEEDED",
        "VideoMetadata": dict(VIDEO_METADATA),
        "TextDetections": list(items),
        "TextModelVersion": MODEL_VERSION,
    }
    if next_token:
        page["NextToken"] = next_token
    return page
