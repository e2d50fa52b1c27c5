"""Recorded Rekognition pages made importable as whole responses, for tests that need
results on a video they were not recorded on.

`vidx import` accepts only one whole response whose VideoMetadata is the video's. The
labels recording is page 1 of a longer set (it has a NextToken) and every recording is
of another video than the test media, so tests that want those results on a programme
import a copy: NextToken dropped, VideoMetadata set to the programme's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from models import Video
from tests.conftest import FIXTURES


def metadata_of(video: Video) -> dict[str, Any]:
    """A stored video's facts as Rekognition's VideoMetadata."""
    return {
        "Codec": video.video_codec or "h264",
        "DurationMillis": video.duration_ms,
        "Format": video.container or "QuickTime / MOV",
        "FrameRate": video.fps_num / video.fps_den,
        "FrameHeight": video.height,
        "FrameWidth": video.width,
    }


def whole(rel: str, out_dir: Path, metadata: Mapping[str, Any] | None = None) -> Path:
    """A copy of FIXTURES/rel as the last page of its set, optionally of another video."""
    page = json.loads((FIXTURES / rel).read_text())
    page.pop("NextToken", None)
    if metadata is not None:
        segments = isinstance(page.get("VideoMetadata"), list)
        page["VideoMetadata"] = [dict(metadata)] if segments else dict(metadata)
    out = out_dir / ("whole-" + rel.replace("/", "-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(page))
    return out
