"""The local labels engine on real media: the dev set's per-shot hits, no labels on the
synthetic programme's bars/black/slate, determinism, an odd video, and `vidx run
--features labels` + `vidx query --kind label` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import botocore.session
import pytest
from typer.testing import CliRunner

from worker.cli import app
from worker.engines.local.labels import detect_labels
from worker.media.probe import probe

pytestmark = pytest.mark.integration


def _shot_table(response: dict, shots: list[dict]) -> tuple[int, str]:
    """Hits by the issue's rule: a label at a timestamp in the shot's middle ([start+500,
    end-500)) whose name is one of the shot's labels_any, any case."""
    hits, rows = 0, []
    for shot in shots:
        got: dict[str, float] = {}
        for item in response["Labels"]:
            if shot["start_ms"] + 500 <= item["Timestamp"] < shot["end_ms"] - 500:
                name = item["Label"]["Name"]
                got[name] = max(got.get(name, 0.0), item["Label"]["Confidence"])
        wanted = {n.lower() for n in shot["labels_any"]}
        ok = sorted(n for n in got if n.lower() in wanted)
        hits += bool(ok)
        top = ", ".join(f"{n} {c:.0f}" for n, c in sorted(got.items(), key=lambda x: -x[1])[:6])
        rows.append(f"{shot['index']:2d} {shot['image']:24s} {'HIT ' if ok else 'miss'} {top}")
    return hits, "\n".join(rows)


def test_the_dev_set_scores_at_least_10_of_12(media: Path) -> None:
    path = media / "ml" / "objects_dev_720p25.mp4"
    response = detect_labels(path, probe(path))  # MinConfidence 50, as Rekognition's default
    shots = json.loads(path.with_suffix(".truth.json").read_text())["shots"]
    hits, table = _shot_table(dict(response), shots)
    assert len(shots) == 12
    assert hits >= 10, f"{hits}/12 shots hit:\n{table}"


def test_no_labels_on_bars_black_and_slate(media: Path) -> None:
    path = media / "synthetic" / "programme_720p25.mp4"
    truth = json.loads(path.with_suffix(".truth.json").read_text())
    special = [
        (s["start_ms"], s["end_ms"])
        for s in truth["shots"]
        if s["kind"] in ("ColorBars", "BlackFrames", "Slate")
    ]
    assert len(special) >= 3
    response = detect_labels(path, probe(path), min_confidence=0.0)
    wrong = [
        (i["Timestamp"], i["Label"]["Name"])
        for i in response["Labels"]
        if any(a <= i["Timestamp"] < b for a, b in special)
    ]
    assert wrong == []


def test_no_labels_on_a_flat_fade(media: Path) -> None:
    path = media / "real" / "fades.mp4"
    assert detect_labels(path, probe(path), min_confidence=0.0)["Labels"] == []


def test_labels_are_deterministic_and_shaped_like_get_label_detection(media: Path) -> None:
    path = media / "real" / "bikes.mp4"
    info = probe(path)
    first = detect_labels(path, info)
    assert first == detect_labels(path, info)
    assert first["Labels"] and any(i["Label"]["Name"] == "Vehicle" for i in first["Labels"])
    model = botocore.session.get_session().get_service_model("rekognition")
    shape = model.operation_model("GetLabelDetection").output_shape
    assert set(first) <= set(shape.members)
    assert set(first["VideoMetadata"]) <= set(shape.members["VideoMetadata"].members)


def test_a_variable_rate_rotated_video(media: Path) -> None:
    path = media / "synthetic" / "vfr_phone.mp4"
    info = probe(path)
    assert info.rotation
    response = detect_labels(path, info, min_confidence=0.0)
    assert response["JobStatus"] == "SUCCEEDED"
    assert response["VideoMetadata"]["DurationMillis"] == info.duration_ms
    times = [i["Timestamp"] for i in response["Labels"]]
    assert times == sorted(times) and all(0 <= t <= info.duration_ms for t in times)


def test_vidx_run_with_labels_then_query_a_cat(media: Path) -> None:
    video = media / "ml" / "objects_dev_720p25.mp4"
    args = ["run", str(video), "--features", "labels", "--clips", "none", "--format", "json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["status"] == "INDEXED"
    assert summary["features"]["labels"]["status"] == "SUCCEEDED"
    query = CliRunner().invoke(
        app, ["query", "--kind", "label", "--name", "Cat", "--format", "json"]
    )
    assert query.exit_code == 0, query.output
    rows = json.loads(query.stdout)
    assert rows and all(3000 <= r["start_ms"] < 6000 for r in rows), rows
