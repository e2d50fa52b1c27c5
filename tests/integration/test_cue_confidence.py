"""The local engine's confidences: the same file gives the same figures every run (that
no cue type has one constant confidence across the programmes is checked beside their
accuracy, on the same analyses: test_segments_accuracy.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from worker.engines.local.segments import detect_segments
from worker.media.probe import probe

pytestmark = pytest.mark.integration


def test_same_file_same_confidences(media: Path) -> None:
    path = media / "real/testvideo.mp4"
    assert detect_segments(path, probe(path)) == detect_segments(path, probe(path))
