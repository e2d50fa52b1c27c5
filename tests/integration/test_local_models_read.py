"""Offline labels, faces and moderation as every reader sees them: one video indexed with
all four local features, then its timeline through the API, the exports and the
detections search, on SQLite and PostgreSQL (the viewer's lanes: test_viewer_browser.py)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import MEDIA, context_on
from worker.api import create_app
from worker.engines.port import Feature
from worker.service import submit

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`"),
]
DEV = MEDIA / "ml" / "objects_dev_720p25.mp4"  # 12 photos, 3 s each: astronaut first, cat second
ALL = [Feature.SEGMENTS, Feature.LABELS, Feature.FACES, Feature.MODERATION]


@dataclass
class Indexed:
    client: TestClient
    video_id: str
    doc: dict[str, Any]  # GET /videos/{id}/timeline


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def indexed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, pg_ok: bool
) -> Iterator[Indexed]:
    if not DEV.is_file():
        pytest.skip(f"test media not found at {MEDIA}")
    tmp = tmp_path_factory.mktemp("local-read")
    with ExitStack() as stack:
        ctx = stack.enter_context(context_on(request.param, tmp, pg_ok, "localread"))
        video_id = submit(ctx, DEV, ALL, "local", [], "copy").video_id
        client = stack.enter_context(TestClient(create_app(ctx)))
        res = client.get(f"/videos/{video_id}/timeline")
        assert res.status_code == 200, res.text
        yield Indexed(client, video_id, res.json())


def test_every_feature_ran_locally_and_names_its_models(indexed: Indexed) -> None:
    features = indexed.doc["features"]
    assert set(features) == {"segments", "labels", "faces", "moderation"}
    for name, run in features.items():
        assert (run["status"], run["engine"]) == ("SUCCEEDED", "local"), name
    assert "efficientnet-lite0" in features["labels"]["model_version"]
    assert "mediapipe" in features["faces"]["model_version"]
    assert "open_nsfw" in features["moderation"]["model_version"]


def test_the_timeline_holds_the_dev_sets_cat_and_face_and_nothing_unsafe(
    indexed: Indexed,
) -> None:
    doc = indexed.doc
    cats = [r for r in doc["labels"] if r["name"] == "Cat"]
    assert cats and all(r["start_ms"] >= 3000 and r["end_ms"] <= 6000 for r in cats), cats
    assert all(r["max_confidence"] >= 50 for r in doc["labels"])
    # faces in the astronaut shot, maybe in the cameraman's (truth: not scored), no other
    assert any(r["start_ms"] < 3000 for r in doc["faces"]), doc["faces"]
    assert all(r["end_ms"] <= 3000 or 15000 <= r["start_ms"] < 18000 for r in doc["faces"])
    assert doc["moderation"] == []


def test_detections_search_finds_them(indexed: Indexed) -> None:
    def rows(**params: Any) -> list[dict[str, Any]]:
        res = indexed.client.get("/detections", params={"video": indexed.video_id, **params})
        assert res.status_code == 200, res.text
        items: list[dict[str, Any]] = res.json()["items"]
        return items

    cats = rows(kind="label", name="Cat", min_confidence=80)
    assert cats and {r["name"] for r in cats} == {"Cat"}
    assert all(3000 <= r["start_ms"] < 6000 and r["confidence"] >= 80 for r in cats)
    faces = rows(kind="face", **{"from": "00:00:00", "to": "00:00:03"})
    assert faces and all(r["start_ms"] < 3000 for r in faces)
    assert faces and rows(kind="face", **{"from": "00:00:18", "to": "00:00:36"}) == []
    assert rows(kind="moderation") == []


def _export(indexed: Indexed, fmt: str) -> str:
    res = indexed.client.get(f"/videos/{indexed.video_id}/timeline", params={"format": fmt})
    assert res.status_code == 200, res.text
    return res.text


def test_exports_carry_the_local_detections(indexed: Indexed) -> None:
    doc = indexed.doc
    vtt = _export(indexed, "vtt")
    assert vtt.startswith("WEBVTT")
    # one cue per range, its id naming the kind, its text the name and confidence
    blocks = [b.splitlines() for b in vtt.split("\n\n")[1:] if b.strip()]
    by_kind = {k: [b for b in blocks if b[0].startswith(f"{k}-")] for k in ("label", "face")}
    assert len(by_kind["label"]) == len(doc["labels"])
    assert len(by_kind["face"]) == len(doc["faces"])
    assert any(b[2].startswith("Cat (") for b in by_kind["label"])
    table = list(csv.DictReader(io.StringIO(_export(indexed, "csv"))))
    kinds = [row.get("kind") for row in table]
    assert kinds.count("label") == len(doc["labels"])
    assert kinds.count("face") == len(doc["faces"])
    otio = json.loads(_export(indexed, "otio"))
    assert "Cat" in json.dumps(otio)
