"""The local engine's confidences on the programmes (shared and constructed): computed from
each file's evidence, so no cue type (and not the shots) has one constant confidence across them,
all within Rekognition's 50-100 for reported segments, and the same file gives the same
figures every run."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from benchmarks.media import ensure
from worker.engines.local.segments import detect_segments
from worker.media.probe import probe

pytestmark = pytest.mark.integration

FILES = [
    "synthetic/programme_720p25.mp4",
    "synthetic/programme_1080p2997.mov",
    "real/testvideo.mp4",
]


DEV = ["logo_titles_720p25", "logo_anim_1080p25"]


def analyse(media: Path, name: str) -> dict[str, Any]:
    path = ensure(name) if name in DEV else media / name
    return detect_segments(path, probe(path))


def test_no_constant_confidence_across_programmes(media: Path) -> None:
    by_kind: dict[str, set[float]] = defaultdict(set)
    for name in FILES + DEV:
        for seg in analyse(media, name)["Segments"]:
            detail = seg.get("TechnicalCueSegment") or seg["ShotSegment"]
            kind = detail.get("Type", "SHOT")
            assert 50.0 <= detail["Confidence"] <= 100.0, (name, seg)
            by_kind[kind].add(detail["Confidence"])
    expected = {"ColorBars", "BlackFrames", "Slate", "OpeningCredits", "Content", "EndCredits"}
    assert set(by_kind) == expected | {"StudioLogo", "SHOT"}
    constant = {kind: values for kind, values in by_kind.items() if len(values) < 2}
    assert not constant, constant


def test_same_file_same_confidences(media: Path) -> None:
    name = "real/testvideo.mp4"
    assert analyse(media, name) == analyse(media, name)
