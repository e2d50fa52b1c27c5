"""One decode for the picture models (engines/local/vision.py, LocalEngine.start_many):
each model gets exactly the pictures it gets alone, from the same decoded frames."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from worker.engines.local.engine import LocalEngine
from worker.engines.local.sampling import sample_pictures
from worker.engines.local.vision import LONG_SIDE, one_pass
from worker.engines.port import Feature, JobRequest, VideoSource
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
