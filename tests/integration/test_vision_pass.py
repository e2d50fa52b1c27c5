"""One decode for the picture models and the segment engine (engines/local/vision.py,
together.py, LocalEngine.start_many): each gets exactly what it gets alone, from the same
decoded frames."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from worker.engines.local.engine import LocalEngine
from worker.engines.local.frames import FrameTimes, decode_frames
from worker.engines.local.sampling import Pictures, sample_pictures
from worker.engines.local.together import decode_together
from worker.engines.local.vision import LONG_SIDE, one_pass
from worker.engines.port import Feature, JobRequest, VideoSource
from worker.errors import InputError
from worker.media.probe import probe

pytestmark = pytest.mark.integration


class Recorder:
    def __init__(self, every_ms: int) -> None:
        self.every_ms = every_ms
        self.taken: list[tuple[int, np.ndarray]] = []

    def take(self, at_ms: int, picture: np.ndarray) -> None:
        self.taken.append((at_ms, picture))


@pytest.mark.parametrize("name", ["ml/objects_dev_720p25.mp4", "synthetic/vfr_phone.mp4"])
def test_each_run_gets_the_pictures_it_gets_alone_from_one_decode(media: Path, name: str) -> None:
    path = media / name
    info = probe(path)
    fine, coarse = Recorder(250), Recorder(500)
    one_pass(path, info, [fine, coarse])
    alone = sample_pictures(
        path, info.width, info.height, info.rotation, every_ms=500, long_side=LONG_SIDE
    )
    assert [t for t, _ in coarse.taken] == [t for b in alone for t in b.at_ms]
    # the coarse run's pictures are the fine run's own arrays: one decode fed both
    by_time = {t: p for t, p in fine.taken}
    assert all(p is by_time[t] for t, p in coarse.taken)


def test_start_many_stores_what_separate_starts_store(media: Path, tmp_path: Path) -> None:
    path = media / "ml" / "objects_dev_720p25.mp4"
    source = VideoSource("v1", "sha", path=path)
    requests = [
        JobRequest(Feature.MODERATION, source, "tok-moderation", {"min_confidence": 0.0}),
        JobRequest(Feature.FACES, source, "tok-faces", {"face_attributes": "ALL"}),
        JobRequest(Feature.LABELS, source, "tok-labels", {"min_confidence": 50.0}),
    ]
    together, apart = LocalEngine(tmp_path / "together"), LocalEngine(tmp_path / "apart")
    together.start_many(requests)
    for r in requests:
        apart.start(r)
    for r in requests:
        stored = json.loads(together.result_path(r.client_token).read_text())
        assert stored == json.loads(apart.result_path(r.client_token).read_text())
    faces = json.loads(together.result_path("tok-faces").read_text())["Faces"]
    assert faces and all(f["Timestamp"] < 3000 or 15000 <= f["Timestamp"] < 18000 for f in faces)
    labels = json.loads(together.result_path("tok-labels").read_text())["Labels"]
    assert any(i["Label"]["Name"] == "Cat" and 3000 <= i["Timestamp"] < 6000 for i in labels)
    together.start_many(requests)  # finished jobs: nothing runs again


@pytest.mark.parametrize(
    "name",
    [
        "synthetic/no_audio.mp4",
        "synthetic/vfr_phone.mp4",  # rotated, variable rate
        "synthetic/programme.webm",  # first pts 7 ms
        "real/delayed_start.mp4",  # first pts 1.075 s, 96 px wide
    ],
)
def test_one_decode_gives_the_tiny_frames_and_pictures_two_decodes_give(
    media: Path, name: str
) -> None:
    """together.py: one ffmpeg, two pipes; every byte and time as the separate decoders'."""
    path = media / name
    info = probe(path)
    alone_times = FrameTimes()
    alone = [
        b.planes for b in decode_frames(path, info.width, info.height, info.rotation, alone_times)
    ]
    pictures = list(
        sample_pictures(path, info.width, info.height, info.rotation, every_ms=250, long_side=640)
    )
    times = FrameTimes()
    small: list[np.ndarray] = []
    both: list[Pictures] = []
    for got in decode_together(
        path, info.width, info.height, info.rotation, every_ms=250, long_side=640, times=times
    ):
        if isinstance(got, Pictures):
            both.append(got)
        else:
            small.append(got.planes)
    assert np.array_equal(np.concatenate(alone), np.concatenate(small))
    assert times.pts == alone_times.pts and times.source_range == alone_times.source_range
    assert [t for b in both for t in b.at_ms] == [t for b in pictures for t in b.at_ms]
    assert np.array_equal(
        np.concatenate([b.frames for b in both]), np.concatenate([b.frames for b in pictures])
    )


def test_segments_with_picture_models_store_what_separate_starts_store(
    media: Path, tmp_path: Path
) -> None:
    """Segments join the one decode; its text evidence is the text job's own reading."""
    path = media / "synthetic" / "programme_720p25.mp4"
    source = VideoSource("v1", "sha", path=path)
    segments = {"segment_types": ["TECHNICAL_CUE", "SHOT"]}
    requests = [
        JobRequest(Feature.SEGMENTS, source, "tok-segments", segments),
        JobRequest(Feature.TEXT, source, "tok-text", {"min_confidence": 80.0}),
    ]
    together, apart = LocalEngine(tmp_path / "together"), LocalEngine(tmp_path / "apart")
    seen: list[float] = []
    together.start_many(requests, progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0
    for r in requests:
        apart.start(r)
    for r in requests:
        stored = json.loads(together.result_path(r.client_token).read_text())
        assert stored == json.loads(apart.result_path(r.client_token).read_text()), r.feature
    cues = [
        s["TechnicalCueSegment"]["Type"]
        for s in json.loads(together.result_path("tok-segments").read_text())["Segments"]
        if s["Type"] == "TECHNICAL_CUE"
    ]
    assert "OpeningCredits" in cues and "EndCredits" in cues


def test_a_too_damaged_file_leaves_no_result_for_any_job(media: Path, tmp_path: Path) -> None:
    path = media / "bad" / "truncated_faststart.mp4"  # decoding stops at 60 %
    source = VideoSource("v1", "sha", path=path)
    requests = [
        JobRequest(Feature.SEGMENTS, source, "tok-segments", {}),
        JobRequest(Feature.TEXT, source, "tok-text", {}),
    ]
    engine = LocalEngine(tmp_path, max_decode_error_ratio=0.0)
    with pytest.raises(InputError):
        engine.start_many(requests)
    assert list(tmp_path.iterdir()) == []
