"""BlazeFace (MediaPipe's face detector) without MediaPipe's graph: the picture letterboxed
into the model's square input, the raw tensors decoded against the SSD anchors, weighted
non-maximum suppression, and the boxes projected back onto the picture.

The constants are those of MediaPipe 0.10.21's `face_detection_full_range` graph (192x192
input in [-1, 1], one 48x48 layer of fixed-size anchors, 16 numbers per anchor: box centre
and size, then 6 keypoints; sigmoid scores clipped at ±100; weighted NMS at IoU 0.3). The
result matches `mp.solutions.face_detection` (model_selection=1) on the shared media to
within a pixel (tests/integration/test_local_faces.py).

Also here: the bilinear affine warp the face models' crops need (cv2.warpAffine's sampling:
pixel centres, zero border), in numpy so that OpenCV is not a runtime dependency.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

INPUT_SIDE = 192
STRIDE = 4
NUM_KEYPOINTS = 6  # image-left eye, image-right eye, nose tip, mouth, image-left ear, right ear
SCORE_CLIP = 100.0
NMS_IOU = 0.3
# the full-range graph keeps anchors scoring at least 0.6 before NMS (measured against
# mp.solutions.face_detection: its min_detection_confidence=0.5 never admits less)
MIN_SCORE = 0.6

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Detection:
    """A face in picture ratios: (xmin, ymin, width, height), keypoints (6, 2) as (x, y)."""

    score: float
    box: tuple[float, float, float, float]
    keypoints: F64


@cache
def anchors(side: int = INPUT_SIDE, stride: int = STRIDE) -> F64:
    """(n, 2) anchor centres (x, y) in input ratios, row by row; their size is fixed at 1."""
    cells = side // stride
    centre = (np.arange(cells, dtype=np.float64) + 0.5) / cells
    ys, xs = np.meshgrid(centre, centre, indexing="ij")
    return np.column_stack([xs.ravel(), ys.ravel()])


def decode(
    raw_boxes: npt.NDArray[np.floating], raw_scores: npt.NDArray[np.floating], min_score: float
) -> list[Detection]:
    """The anchors scoring at least `min_score`, decoded into input ratios (before NMS)."""
    boxes = np.asarray(raw_boxes, dtype=np.float64).reshape(-1, 4 + 2 * NUM_KEYPOINTS)
    logits = np.clip(np.asarray(raw_scores, dtype=np.float64).reshape(-1), -SCORE_CLIP, SCORE_CLIP)
    scores = 1.0 / (1.0 + np.exp(-logits))
    grid = anchors()
    if len(grid) != len(boxes):
        raise ValueError(f"{len(boxes)} raw boxes for {len(grid)} anchors")
    out = []
    for i in np.flatnonzero(scores >= min_score):
        raw = boxes[i] / INPUT_SIDE
        cx, cy = raw[0] + grid[i, 0], raw[1] + grid[i, 1]
        w, h = raw[2], raw[3]
        kps = raw[4:].reshape(NUM_KEYPOINTS, 2) + grid[i]
        box = (float(cx - w / 2), float(cy - h / 2), float(w), float(h))
        out.append(Detection(float(scores[i]), box, kps))
    return out


def iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def weighted_nms(detections: list[Detection], threshold: float = NMS_IOU) -> list[Detection]:
    """MediaPipe's WEIGHTED suppression: the best remaining detection takes every other one
    overlapping it by more than `threshold` IoU; its box and keypoints become their
    score-weighted mean, its score stays the best one's."""
    remaining = sorted(detections, key=lambda d: -d.score)
    out = []
    while remaining:
        top = remaining[0]
        group = [d for d in remaining if iou(top.box, d.box) > threshold]
        remaining = [d for d in remaining if iou(top.box, d.box) <= threshold and d is not top]
        weights = np.array([d.score for d in group])
        corners = np.array(
            [(d.box[0], d.box[1], d.box[0] + d.box[2], d.box[1] + d.box[3]) for d in group]
        )
        x0, y0, x1, y1 = (float(v) for v in (weights @ corners) / weights.sum())
        kps = np.tensordot(weights, np.stack([d.keypoints for d in group]), axes=1) / weights.sum()
        out.append(Detection(top.score, (x0, y0, x1 - x0, y1 - y0), kps))
    return out


def letterbox(width: int, height: int, side: int = INPUT_SIDE) -> tuple[float, float, float]:
    """(scale, pad_x, pad_y): picture pixels -> input pixels, the picture centred, aspect kept."""
    scale = side / max(width, height)
    return scale, (side - width * scale) / 2, (side - height * scale) / 2


def input_tensor(picture: npt.NDArray[np.uint8], side: int = INPUT_SIDE) -> npt.NDArray[np.float32]:
    """(1, side, side, 3) float32 in [-1, 1], letterboxed with black (0 before scaling)."""
    h, w = picture.shape[:2]
    scale, px, py = letterbox(w, h, side)
    to_input = np.array([[scale, 0.0, px], [0.0, scale, py]])
    crop = warp_affine(picture, to_input, side, side)
    return (crop[None] / 127.5 - 1.0).astype(np.float32)


def project(detections: list[Detection], width: int, height: int) -> list[Detection]:
    """Input ratios -> picture ratios (undo the letterbox)."""
    scale, px, py = letterbox(width, height)
    sx, sy = INPUT_SIDE / (width * scale), INPUT_SIDE / (height * scale)
    ox, oy = px / INPUT_SIDE, py / INPUT_SIDE
    out = []
    for d in detections:
        x, y, w, h = d.box
        kps = (d.keypoints - (ox, oy)) * (sx, sy)
        box = (float((x - ox) * sx), float((y - oy) * sy), float(w * sx), float(h * sy))
        out.append(Detection(d.score, box, kps))
    return out


def warp_affine(
    image: npt.NDArray[Any], forward: F64, out_w: int, out_h: int
) -> npt.NDArray[np.float64]:
    """cv2.warpAffine(image, forward, (out_w, out_h)) with bilinear sampling and a zero
    border, as float64: `forward` (2x3) maps image pixels to output pixels."""
    a = np.vstack([forward, [0.0, 0.0, 1.0]])
    inv = np.linalg.inv(a)[:2]
    ys, xs = np.mgrid[0:out_h, 0:out_w].astype(np.float64)
    sx = inv[0, 0] * xs + inv[0, 1] * ys + inv[0, 2]
    sy = inv[1, 0] * xs + inv[1, 1] * ys + inv[1, 2]
    return sample_bilinear(image, sx, sy)


def sample_bilinear(image: npt.NDArray[Any], sx: F64, sy: F64) -> npt.NDArray[np.float64]:
    """image at the (sx, sy) pixel positions, bilinear, zero outside."""
    img = image.astype(np.float64)
    if img.ndim == 2:
        img = img[:, :, None]
    h, w = img.shape[:2]
    padded = np.zeros((h + 2, w + 2, img.shape[2]))
    padded[1:-1, 1:-1] = img
    x0 = np.floor(sx)
    y0 = np.floor(sy)
    fx, fy = (sx - x0)[..., None], (sy - y0)[..., None]
    # indices in the padded image, clamped to its zero border
    xi = np.clip(x0.astype(np.int64) + 1, 0, w + 1)
    yi = np.clip(y0.astype(np.int64) + 1, 0, h + 1)
    xj = np.clip(x0.astype(np.int64) + 2, 0, w + 1)
    yj = np.clip(y0.astype(np.int64) + 2, 0, h + 1)
    top = padded[yi, xi] * (1 - fx) + padded[yi, xj] * fx
    bottom = padded[yj, xi] * (1 - fx) + padded[yj, xj] * fx
    out = top * (1 - fy) + bottom * fy
    return out if image.ndim == 3 else out[..., 0]
