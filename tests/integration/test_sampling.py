"""Pictures for the local models (engines/local/sampling.py): one decode, the first frame of
each interval at its real pts, upright, scaled, in bounded batches."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from worker.engines.local.sampling import Pictures, sample_pictures
from worker.errors import EngineError, MediaToolError
from worker.media.probe import probe


def _all(path: Path, every_ms: int = 500, long_side: int = 640, **kw: int) -> list[Pictures]:
    info = probe(path)
    return list(
        sample_pictures(
            path,
            info.width,
            info.height,
            info.rotation,
            every_ms=every_ms,
            long_side=long_side,
            **kw,
        )
    )


def _expected(frame_ms: list[float], every_ms: int) -> list[int]:
    """The first frame of each interval slot, as the truth's frame times give them."""
    picked, last_slot = [], -1
    for t in frame_ms:
        slot = math.floor(t / every_ms + 1e-9)
        if slot > last_slot:
            picked.append(math.floor(t + 0.5))
            last_slot = slot
    return picked


def test_constant_rate_picks_each_slots_first_frame_at_its_time(media: Path) -> None:
    path = media / "ml" / "objects_dev_720p25.mp4"
    batches = _all(path, batch_frames=8)
    at = [t for b in batches for t in b.at_ms]
    assert at == _expected([k * 40.0 for k in range(900)], 500)  # 0, 520, 1000, 1520 …
    assert all(len(b.at_ms) == len(b.frames) <= 8 for b in batches)  # bounded batches
    frames = np.concatenate([b.frames for b in batches])
    assert frames.shape == (72, 360, 640, 3) and frames.dtype == np.uint8
    # each picture belongs to the photo shown at its time: 12 stills, 3 s each
    shot = [t // 3000 for t in at]
    means = frames.reshape(len(frames), -1, 3).astype(float).mean(axis=1)
    for k in range(1, len(at)):
        change = float(np.abs(means[k] - means[k - 1]).max())
        if shot[k] == shot[k - 1]:
            assert change < 2.0, (at[k], change)
    firsts = [k for k in range(1, len(at)) if shot[k] != shot[k - 1]]
    assert len(firsts) == 11
    assert sum(float(np.abs(means[k] - means[k - 1]).max()) > 5 for k in firsts) >= 10


def test_variable_rate_and_rotation(media: Path) -> None:
    path = media / "synthetic" / "vfr_phone.mp4"
    truth = json.loads(path.with_suffix(".truth.json").read_text())
    batches = _all(path, every_ms=250)
    at = [t for b in batches for t in b.at_ms]
    assert at == _expected(truth["frame_pts_ms"], 250)
    # coded 640x360 with rotation 90: the pictures are upright portrait, 360 wide
    assert {b.frames.shape[1:] for b in batches} == {(640, 360, 3)}


def test_late_start_counts_from_the_first_frame(media: Path) -> None:
    at = [t for b in _all(media / "real" / "delayed_start.mp4") for t in b.at_ms]
    assert at == [0, 520]  # first pts 1.075 s; 25 fps


def test_never_enlarged_and_even(media: Path) -> None:
    [batch, *_] = _all(media / "real" / "delayed_start.mp4", long_side=4000)
    assert batch.frames.shape[1:] == (320, 480, 3)
    [batch, *_] = _all(media / "real" / "bikes.mp4", long_side=301)
    height, width = batch.frames.shape[1:3]
    assert width == 300 and height % 2 == 0  # 640x272 -> 300x128 (even)


def test_a_bad_file_or_request_is_refused_by_name(media: Path, tmp_path: Path) -> None:
    bad = tmp_path / "not_a_video.mp4"
    bad.write_text("hello")
    with pytest.raises(MediaToolError, match=r"not_a_video\.mp4"):
        list(sample_pictures(bad, 640, 360, 0, every_ms=500, long_side=320))
    good = media / "real" / "bikes.mp4"
    with pytest.raises(EngineError, match="interval"):
        _all(good, every_ms=0)
    with pytest.raises(EngineError, match="16 pixels"):
        _all(good, long_side=8)


def test_sampled_reports_progress_up_to_done(media: Path) -> None:
    from worker.engines.local.sampling import sampled

    path = media / "synthetic" / "no_audio.mp4"  # 10 s: 20 pictures at 500 ms
    seen: list[float] = []
    batches = list(sampled(path, probe(path), 500, 320, seen.append))
    assert sum(len(b.at_ms) for b in batches) == 20
    assert seen == sorted(seen) and seen[-1] == 1.0 and all(p < 1.0 for p in seen[:-1])
    assert len(seen) == len(batches) + 1
