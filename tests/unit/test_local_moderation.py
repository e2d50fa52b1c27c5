"""The local moderation engine's labelling rule and response shape (engines/local/moderation.py),
with a stand-in scorer: the model itself is exercised on real media in the integration tests."""

from __future__ import annotations

import botocore.session
import numpy as np
import pytest

from worker.engines.local.moderation import GATE, ModerationItem, ModerationRun, Scorer, preprocess
from worker.engines.local.sampling import Pictures


def _batches(scores: list[float]) -> list[Pictures]:
    # each picture carries its score in its first pixel: the stand-in scorer reads it back
    frames = np.zeros((len(scores), 4, 4, 3), np.uint8)
    frames[:, 0, 0, 0] = [round(s * 100) for s in scores]
    return [Pictures([500 * k for k in range(len(scores))], frames)]


def label_pictures(
    batches: list[Pictures], score: Scorer, min_confidence: float
) -> list[ModerationItem]:
    """The engine's run fed the batches' pictures as vision.one_pass feeds it."""
    run = ModerationRun(min_confidence=min_confidence, scorer=score)
    for batch in batches:
        for at, picture in zip(batch.at_ms, batch.frames, strict=True):
            run.take(at, picture)
    return run.items


def _score(picture: np.ndarray) -> float:
    return float(picture[0, 0, 0]) / 100


def test_only_pictures_at_the_gate_and_min_confidence_are_labelled() -> None:
    items = label_pictures(_batches([0.1, 0.79, 0.8, 0.95, 0.5]), _score, min_confidence=50)
    assert [(i["Timestamp"], i["ModerationLabel"]["Confidence"]) for i in items] == [
        (1000, 80.0),
        (1500, 95.0),
    ]
    assert GATE == 0.8  # a safe cartoon scored 0.61 (benchmarks/scouting/moderation)
    strict = label_pictures(_batches([0.85, 0.95]), _score, min_confidence=90)
    assert [i["Timestamp"] for i in strict] == [500]


def test_items_have_rekognitions_moderation_label_shape() -> None:
    [item] = label_pictures(_batches([0.9]), _score, min_confidence=50)
    model = botocore.session.get_session().get_service_model("rekognition")
    shape = model.shape_for("ContentModerationDetection")
    assert set(item) <= set(shape.members)
    label = item["ModerationLabel"]
    assert set(label) <= set(shape.members["ModerationLabel"].members)
    assert label == {"Confidence": 90.0, "Name": "Explicit", "ParentName": "", "TaxonomyLevel": 1}


def test_preprocess_matches_the_models_input() -> None:
    x = preprocess(np.full((360, 640, 3), 200, np.uint8))
    assert x.shape == (1, 224, 224, 3) and x.dtype == np.float32
    # BGR minus the training mean (104, 117, 123), after a JPEG round trip of a flat picture
    assert np.allclose(x[0, 100, 100], [200 - 104, 200 - 117, 200 - 123], atol=2)


@pytest.mark.parametrize("bad", [-1.0, 100.5])
def test_min_confidence_out_of_range_is_refused(bad: float) -> None:
    from pathlib import Path

    from worker.engines.local.moderation import detect_moderation
    from worker.errors import EngineError
    from worker.media.info import MediaInfo

    info = MediaInfo.__new__(MediaInfo)
    with pytest.raises(EngineError, match="min_confidence"):
        detect_moderation(Path("x.mp4"), info, min_confidence=bad, scorer=_score)


def test_flagged_pictures_two_a_second_merge_into_ranges() -> None:
    from fractions import Fraction

    from worker.engines.port import Feature
    from worker.pipeline.timeline import VideoClock, build_ranges
    from worker.results import parse_page

    scores = [0.0, 0.0, 0.9, 0.95, 0.85, 0.0, 0.0, 0.0, 0.0, 0.0, 0.9]  # 0 .. 5000 ms
    items = label_pictures(_batches(scores), _score, min_confidence=50)
    page = {"JobStatus": "SUCCEEDED", "ModerationLabels": items}
    parsed = parse_page(Feature.MODERATION, page)
    ranges = build_ranges(parsed.items, VideoClock(5500, 138, Fraction(25)))
    assert [(r.name, r.start_ms, r.end_ms, r.detections) for r in ranges] == [
        ("Explicit", 1000, 2040, 3),  # 1000, 1500, 2000 ms: one range, to the last frame's end
        ("Explicit", 5000, 5040, 1),
    ]
    assert ranges[0].max_confidence == 95.0
