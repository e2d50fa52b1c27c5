"""`vidx run` / `vidx clips` with a minimum clip length and thumbnails, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.test_run import ok, vidx

pytestmark = pytest.mark.integration


def test_min_length_then_recut_per_shot_with_thumbnails(media: Path, tmp_path: Path) -> None:
    src = media / "synthetic" / "vfr_phone.mp4"  # four 2.5 s shots
    run = ok(
        vidx(["run", str(src), "--clips", "shots", "--min-length", "2600", "--json"], tmp_path)
    )
    assert (run["status"], run["shots"], run["clips"]) == ("INDEXED", 4, 2)  # 0+1, 2+3
    video_id = run["video_id"]
    clips_dir = tmp_path.resolve() / "clips" / video_id
    assert sorted(p.name for p in clips_dir.iterdir()) == [
        "vfr_phone_shot_0000_00-00-00.000.mp4",
        "vfr_phone_shot_0002_00-00-05.000.mp4",
    ]
    # the clips step made the thumbnails too: one per shot, not per clip
    assert len(list((tmp_path / "thumbs" / video_id).glob("shot_*.jpg"))) == 4

    again = ok(vidx(["clips", video_id, "--at", "shots", "--thumbnails", "--json"], tmp_path))
    assert [(c["index"], c["start_ms"], c["end_ms"]) for c in again["clips"]] == [
        (0, 0, 2500), (1, 2500, 5000), (2, 5000, 7500), (3, 7500, 10000)
    ]  # fmt: skip
    assert len(list(clips_dir.iterdir())) == 4  # the two merged clips were replaced
    listed = again["thumbnails"]
    assert [t["index"] for t in listed["shots"]] == [0, 1, 2, 3]
    assert json.loads(Path(listed["sprite"]["index"]).read_text())["tiles"][3]["start_ms"] == 7500
    status = ok(vidx(["status", video_id, "--json"], tmp_path))
    assert status["status"] == "INDEXED"

    bad = vidx(["clips", video_id, "--min-length", "-1"], tmp_path)
    assert bad.returncode != 0 and "minimum clip length" in bad.stderr
