"""The local face engine on real media: the dev set's face found and its face-free shots
clean, nothing on the synthetic programmes, BlazeFace as mediapipe's own graph finds it,
determinism, a VFR + rotated file, and `vidx run --features faces` + `vidx query`."""

from __future__ import annotations

import json
from pathlib import Path

import botocore.session
import pytest
from typer.testing import CliRunner

from worker.cli import app
from worker.engines.local.faces import MODEL_VERSION, detect, detect_faces, load_models
from worker.engines.local.sampling import sample_pictures
from worker.media.probe import probe

pytestmark = pytest.mark.integration

DEV = "ml/objects_dev_720p25.mp4"


@pytest.fixture(scope="module")
def dev_faces(media: Path) -> dict:  # type: ignore[type-arg]
    path = media / DEV
    return dict(detect_faces(path, probe(path), face_attributes="ALL"))


def test_dev_set_face_shots_and_face_free_shots(media: Path, dev_faces: dict) -> None:  # type: ignore[type-arg]
    truth = json.loads((media / "ml" / "objects_dev_720p25.truth.json").read_text())
    times = [item["Timestamp"] for item in dev_faces["Faces"]]
    for shot in truth["shots"]:
        middle = [t for t in times if shot["start_ms"] + 500 <= t < shot["end_ms"] - 500]
        if shot["faces"] == "some":
            assert middle, f"no face in shot {shot['index']} ({shot['image']})"
        elif shot["faces"] == "none":
            inside = [t for t in times if shot["start_ms"] <= t < shot["end_ms"]]
            assert inside == [], f"a face in shot {shot['index']} ({shot['image']})"


def test_dev_faces_have_get_face_detection_shape_and_attributes(dev_faces: dict) -> None:  # type: ignore[type-arg]
    model = botocore.session.get_session().get_service_model("rekognition")
    shape = model.operation_model("GetFaceDetection").output_shape
    assert set(dev_faces) - {"FaceModelVersion"} <= set(shape.members)
    assert dev_faces["FaceModelVersion"] == MODEL_VERSION
    face_shape = shape.members["Faces"].member.members["Face"]
    astronaut = [i["Face"] for i in dev_faces["Faces"] if i["Timestamp"] < 3000]
    assert len(astronaut) >= 8  # four pictures a second, one face each
    for face in astronaut:
        assert set(face) <= set(face_shape.members)
        assert len(face["Landmarks"]) == 30
        assert 80 < face["Confidence"] < 95  # BlazeFace scores this face 0.86
        assert face["Gender"]["Value"] == "Female"
        assert face["Emotions"][0]["Type"] == "HAPPY"
        assert face["AgeRange"]["Low"] <= 31 <= face["AgeRange"]["High"]
        assert abs(face["Pose"]["Yaw"]) < 10 and abs(face["Pose"]["Roll"]) < 10
        eyes = {m["Type"]: m for m in face["Landmarks"]}
        assert eyes["eyeLeft"]["X"] < eyes["eyeRight"]["X"]  # image left, as Rekognition
        box = face["BoundingBox"]
        assert box["Left"] < eyes["nose"]["X"] < box["Left"] + box["Width"]


def test_default_attributes_leave_out_age_gender_and_emotions(media: Path) -> None:
    path = media / DEV
    info = probe(path)
    found = detect_faces(path, info)["Faces"]
    assert found and all(
        set(i["Face"]) == {"BoundingBox", "Confidence", "Landmarks", "Pose", "Quality"}
        for i in found
    )


# mp.solutions.face_detection(model_selection=1) on the dev set's 2 fps, 640 px frames
# (ffmpeg fps=2,scale=640:-2): first picture of shot 0, score and box (benchmarks/scouting)
def test_blazeface_matches_mediapipes_graph(media: Path) -> None:
    path = media / DEV
    info = probe(path)
    batch = next(
        iter(sample_pictures(path, info.width, info.height, 0, every_ms=500, long_side=640))
    )
    [d] = detect(load_models(), batch.frames[0])
    assert d.score == pytest.approx(0.8638, abs=0.004)
    assert d.box[2] * 640 == pytest.approx(d.box[3] * 360, rel=0.05)  # square in pixels


@pytest.mark.parametrize(
    "name",
    [
        "synthetic/programme_720p25.mp4",
        "synthetic/programme.webm",
        "synthetic/no_audio.mp4",
        "real/bigbuckbunny.mp4",  # cartoon faces are not faces
    ],
)
def test_no_face_on_patterns_and_cartoons(media: Path, name: str) -> None:
    path = media / name
    assert detect_faces(path, probe(path))["Faces"] == []


def test_faces_are_deterministic(media: Path) -> None:
    path = media / "real" / "bikes.mp4"
    info = probe(path)
    first = detect_faces(path, info, face_attributes="ALL")
    assert first["Faces"]  # a man's face near 1 s
    assert json.dumps(first) == json.dumps(detect_faces(path, info, face_attributes="ALL"))


def test_vfr_rotated_file(media: Path) -> None:
    path = media / "synthetic" / "vfr_phone.mp4"
    info = probe(path)
    response = detect_faces(path, info)
    assert response["Faces"] == []
    assert response["VideoMetadata"]["DurationMillis"] == info.duration_ms


def test_vidx_run_with_faces_and_query(media: Path) -> None:
    video = media / DEV
    args = ["run", str(video), "--features", "faces", "--clips", "none", "--format", "json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["status"] == "INDEXED"
    assert summary["features"]["faces"]["status"] == "SUCCEEDED"
    query = CliRunner().invoke(
        app,
        ["query", "--kind", "face", "--from", "00:00:00", "--to", "00:00:03", "--format", "json"],
    )
    assert query.exit_code == 0, query.output
    rows = json.loads(query.stdout)
    assert rows and all(r["start_ms"] < 3000 for r in rows)


def test_vidx_run_prints_no_native_log_lines(media: Path, tmp_path: Path) -> None:
    """LiteRT's C++ log ("INFO: Created TensorFlow Lite XNNPACK delegate") stays off stderr."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "VIDX_DATA_DIR": str(tmp_path / "data")}
    cmd = [sys.executable, "-m", "worker", "run", str(media / "synthetic" / "no_audio.mp4")]
    done = subprocess.run(
        [*cmd, "--features", "faces", "--clips", "none"], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    assert "XNNPACK" not in done.stderr and "INFO" not in done.stderr


def test_the_shared_models_are_safe_from_several_threads(media: Path) -> None:
    """One process loads the models once; the fake Rekognition completes jobs in threads,
    and LiteRT refuses concurrent invokes ("reference to internal data") without the lock."""
    import threading

    from worker.engines.local import faces
    from worker.engines.local.sampling import sample_pictures
    from worker.media.probe import probe

    path = media / "ml" / "objects_dev_720p25.mp4"
    info = probe(path)
    pictures = sample_pictures(path, info.width, info.height, 0, every_ms=1000, long_side=640)
    frames = [f for b in pictures for f in b.frames][:8]
    models = faces.load_models()
    alone = [len(faces.detect(models, f)) for f in frames]
    errors: list[Exception] = []
    found: list[list[int]] = []

    def work() -> None:
        try:
            for _ in range(10):
                found.append([len(faces.detect(models, f)) for f in frames])
        except Exception as exc:  # collected: an exception in a thread is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and found == [alone] * 40
