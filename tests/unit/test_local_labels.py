"""The local labels engine's rules (engines/local/labels.py): the taxonomy, the no-content
gate, confidences, filters and the item shape, with stand-in models; the network itself
runs on real media in the integration tests."""

from __future__ import annotations

import importlib.util
import io
import pickle
from pathlib import Path

import botocore.session
import numpy as np
import pytest

from worker.engines.local import labels
from worker.engines.local.labels import (
    MODEL_VERSION,
    THRESHOLD,
    Filters,
    LabelsRun,
    check_filters,
    confidence_of,
    has_content,
    picture_labels,
    taxonomy,
    taxonomy_from,
)
from worker.errors import EngineError

ROOT = Path(__file__).resolve().parents[2]

# a 4-class world: two cats, a car, a mug
SMALL = {
    "classes": [
        {"wnid": "n1", "name": "Tabby", "parents": ["Cat", "Animal"]},
        {"wnid": "n2", "name": "Egyptian Cat", "parents": ["Cat", "Animal"]},
        {"wnid": "n3", "name": "Car", "parents": ["Vehicle"]},
        {"wnid": "n4", "name": "Mug", "parents": []},
    ],
    "labels": {
        "Tabby": {"parents": ["Cat", "Animal"], "category": "Animals and Pets"},
        "Egyptian Cat": {"parents": ["Cat", "Animal"], "category": "Animals and Pets"},
        "Cat": {"parents": ["Animal"], "category": "Animals and Pets"},
        "Animal": {"parents": [], "category": "Animals and Pets"},
        "Car": {"parents": ["Vehicle"], "category": "Vehicles and Automotive"},
        "Vehicle": {"parents": [], "category": "Vehicles and Automotive"},
        "Mug": {"parents": [], "category": None},
        "Person": {"parents": [], "category": "Person Description"},
        "Head": {"parents": ["Person"], "category": "Person Description"},
        "Face": {"parents": ["Head", "Person"], "category": "Person Description"},
    },
}


def _textured(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (90, 160, 3), dtype=np.uint8)


def _classifier(p: list[float]):  # type: ignore[no-untyped-def]
    return lambda picture: np.asarray(p, dtype=np.float64)


def _labels(p: list[float], faces: list[float] | None = None, **filters: object) -> dict:
    out = picture_labels(
        _textured(),
        _classifier(p),
        lambda picture: faces or [],
        taxonomy_from(SMALL),
        check_filters(**filters),  # type: ignore[arg-type]
    )
    return {label["Name"]: label for label in out}


def test_the_shipped_taxonomy_names_imagenet_classes_in_rekognitions_style() -> None:
    tax = taxonomy()
    assert tax.membership.shape == (1000, len(tax.names))
    cat = tax.names.index("Egyptian Cat")
    assert tax.membership[285, cat] == 1.0  # ImageNet 285: Egyptian cat
    assert {"Cat", "Feline", "Mammal", "Animal", "Pet"} <= set(tax.parents["Egyptian Cat"])
    assert tax.parents["Espresso"] == ["Coffee", "Beverage", "Food"]
    assert tax.category["Espresso"] == "Food and Beverage"
    assert tax.parents["Face"] == ["Head", "Person"] and tax.parents["Person"] == []
    assert tax.category["Person"] == "Person Description"
    # every class sums into its leaf and its parents, and every name has an entry
    assert all(row.sum() >= 1 for row in tax.membership)
    assert set(tax.names) <= set(tax.parents)


def test_the_shipped_taxonomy_is_what_the_build_script_writes() -> None:
    if not Path("/usr/share/wordnet/data.noun").is_file():
        pytest.skip("WordNet 3.0 (Debian wordnet-base) is not installed")
    spec = importlib.util.spec_from_file_location(
        "build_label_taxonomy", ROOT / "scripts" / "build_label_taxonomy.py"
    )
    assert spec and spec.loader
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.build() == labels.TAXONOMY_FILE.read_text()
    assert "Princeton University" in " ".join(taxonomy_notice())


def taxonomy_notice() -> list[str]:
    import json

    notice: list[str] = json.loads(labels.TAXONOMY_FILE.read_text())["notice"]
    return notice


def test_the_data_file_carries_its_licences() -> None:
    text = " ".join(taxonomy_notice())
    assert "WordNet 3.0 Copyright 2006 by Princeton University" in text
    assert "timm" in text and "Apache-2.0" in text


def _bars() -> np.ndarray:
    colours = [(192, 192, 192), (192, 192, 0), (0, 192, 192), (0, 192, 0), (192, 0, 192)]
    picture = np.zeros((360, 640, 3), np.uint8)
    for k, c in enumerate(colours):
        picture[:240, k * 128 : (k + 1) * 128] = c
    picture[240:] = 16
    picture[300:, 100:200] = 235
    return picture


@pytest.mark.parametrize(
    "picture",
    [
        np.zeros((360, 640, 3), np.uint8),  # black
        np.full((360, 640, 3), 128, np.uint8),  # flat grey
        np.full((360, 640, 3), (20, 40, 200), np.uint8),  # one colour
        np.clip(np.full((360, 640, 3), 128) + np.random.default_rng(1).normal(0, 2, (360, 640, 3)),
                0, 255).astype(np.uint8),  # grey with grain
        _bars(),
    ],
    ids=["black", "grey", "blue", "grainy grey", "colour bars"],
)  # fmt: skip
def test_pictures_without_content_get_no_labels(picture: np.ndarray) -> None:
    assert not has_content(picture)
    out = picture_labels(
        picture, _classifier([0.9, 0, 0, 0.1]), lambda p: [0.9], taxonomy_from(SMALL), Filters()
    )
    assert out == []


def test_pictures_with_content_pass_the_gate() -> None:
    assert has_content(_textured())
    y, x = np.mgrid[0:360, 0:640]
    ramp = np.repeat(((x + y) * 255 // 1000).astype(np.uint8)[..., None], 3, axis=2)
    ramp[100:200, 200:300] = 30  # a dark square on a diagonal ramp
    assert has_content(ramp)


def test_confidence_maps_the_threshold_to_50() -> None:
    assert THRESHOLD == 0.25  # the scouted plateau is 0.15-0.30 (README)
    assert confidence_of(THRESHOLD) == 50.0
    assert confidence_of(1.0) == 100.0
    assert confidence_of(0.625) == 75.0


def test_parents_sum_their_classes_and_leaves_need_the_threshold() -> None:
    # two cats at 0.15 each: neither leaf is kept, their parents (0.30) are
    got = _labels([0.15, 0.15, 0.6, 0.1], min_confidence=0)
    assert set(got) == {"Cat", "Animal", "Car", "Vehicle"}
    assert got["Cat"]["Confidence"] == got["Animal"]["Confidence"] == confidence_of(0.3)
    assert got["Car"]["Confidence"] == confidence_of(0.6)
    assert [p["Name"] for p in got["Car"]["Parents"]] == ["Vehicle"]
    assert got["Car"]["Categories"] == [{"Name": "Vehicles and Automotive"}]


def test_a_kept_face_gives_face_head_and_person() -> None:
    got = _labels([0.25, 0.25, 0.25, 0.25], faces=[0.7, 0.92])
    assert {"Face", "Head", "Person"} <= set(got)
    assert got["Person"]["Confidence"] == got["Face"]["Confidence"] == 92.0
    assert got["Person"]["Parents"] == [] and got["Person"]["Instances"] == []
    assert [p["Name"] for p in got["Face"]["Parents"]] == ["Head", "Person"]
    assert "Person" not in _labels([0.25, 0.25, 0.25, 0.25], faces=[])


def test_min_confidence_and_filters_apply_after_the_threshold() -> None:
    p = [0.3, 0.0, 0.5, 0.2]
    assert set(_labels(p, min_confidence=0)) == {"Tabby", "Cat", "Animal", "Car", "Vehicle"}
    assert set(_labels(p, min_confidence=60)) == {"Car", "Vehicle"}
    assert set(_labels(p, min_confidence=0, label_inclusion_filters=["cat", "Car"])) == {
        "Cat",
        "Car",
    }
    assert "Cat" not in _labels(p, min_confidence=0, label_exclusion_filters=["Cat"])
    only = _labels(p, min_confidence=0, label_category_inclusion_filters=["Animals and Pets"])
    assert set(only) == {"Tabby", "Cat", "Animal"}
    none = _labels(p, min_confidence=0, label_category_exclusion_filters="Animals and Pets")
    assert set(none) == {"Car", "Vehicle"}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"min_confidence": -1}, "min_confidence"),
        ({"min_confidence": 100.5}, "min_confidence"),
        ({"min_confidence": "high"}, "min_confidence"),
        ({"label_inclusion_filters": [1, 2]}, "label_inclusion_filters"),
        ({"aggregate_by": "SEGMENTS"}, "unknown label parameters: aggregate_by"),
    ],
)
def test_bad_parameters_are_refused(params: dict, message: str) -> None:
    with pytest.raises(EngineError, match=message):
        LabelsRun(classifier=_classifier([0.0] * 4), face_scorer=lambda p: [], **params)


def test_items_have_rekognitions_label_detection_shape() -> None:
    run = LabelsRun(classifier=_classifier([0.0] * 1000), face_scorer=lambda p: [0.9])
    run.take(1500, _textured())
    model = botocore.session.get_session().get_service_model("rekognition")
    detection = model.shape_for("LabelDetection")
    label_shape = detection.members["Label"]
    assert run.items and all(set(i) <= set(detection.members) for i in run.items)
    for item in run.items:
        assert item["Timestamp"] == 1500
        assert set(item["Label"]) <= set(label_shape.members)
        assert set(label_shape.members["Parents"].member.members) >= {"Name"}
    assert [i["Label"]["Name"] for i in run.items] == ["Face", "Head", "Person"]
    assert len(MODEL_VERSION) <= 64  # the store's model_version column


def test_the_pth_reader_refuses_anything_but_tensors(tmp_path: Path) -> None:
    from worker.engines.local.lite0 import _Unpickler

    evil = pickle.dumps(print)  # any global other than torch's tensor rebuilders
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        _Unpickler(io.BytesIO(evil)).load()
