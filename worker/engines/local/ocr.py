"""Offline OCR for the text engine: PaddleOCR's PP-OCR text detector (DB) and recogniser
(CTC) as the ONNX files a wheel ships, run by onnxruntime; their pre- and post-processing
is written here with numpy and Pillow (no OpenCV, pyclipper or shapely).

Detection (DB, "Real-time Scene Text Detection with Differentiable Binarization"): the
network gives each pixel a text probability; pixels above BINARIZE (dilated by one pixel,
as PaddleOCR does) form connected components; each component's minimum-area rectangle,
kept when its mean probability is at least BOX_SCORE, is grown on every side by
area x UNCLIP / perimeter (DB's unclip of a rectangle, whose rounded offset's minimum
rectangle is the rectangle grown by that distance) and is a text line.

Recognition: each line is cut out upright (a quadrilateral to rectangle warp), scaled to 48
pixels high, and read by the CTC recogniser; greedy decoding keeps each time step's best
class, drops repeats and blanks. A time step covers 8 input columns, so the steps where
characters were emitted place each character along the line: that gives the words' boxes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from worker.engines.local.packaged import package_file

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

# (package, file inside it): PP-OCRv4's mobile detector, PP-OCRv6's small recogniser
# (Apache-2.0, both; the packages are never imported)
DETECTOR = ("rapidocr_onnxruntime", "models/ch_PP-OCRv4_det_infer.onnx")
RECOGNISER = ("rapidocr", "models/PP-OCRv6_rec_small.onnx")

BINARIZE = 0.3  # DB: probability over which a pixel is text
BOX_SCORE = 0.5  # DB: mean probability under which a component is dropped
UNCLIP = 1.6  # DB: how far a kept rectangle is grown (area x UNCLIP / perimeter)
MIN_SIDE = 3  # DB: components whose rectangle's short side is shorter (map pixels) are noise
REC_HEIGHT = 48  # the recogniser's input height
# PaddleOCR pads narrower crops to 320 columns; unpadded crops read the same on the
# shared media at a third less time (benchmarks/scouting/text/findings.md)
REC_MIN_WIDTH = REC_HEIGHT
REC_STEP = 8  # input columns per CTC time step
REC_BATCH = 6
# onnxruntime threads per session, not spinning while they wait: on 2 idle cores two
# threads read 1.3-1.5x faster than one; spinning threads burned 1.7x the CPU time of one
# when the cores were busy (ffmpeg's decode, other jobs), idle ones only 1.1x
THREADS = 2
SPACE_SPLIT = 0.01  # a space this likely between two characters splits words
# the recogniser also knows Chinese, Japanese and Korean; Rekognition reads words of Latin
# script (and a few others), so a word holding a CJK character (U+2E80-U+9FFF, Hangul,
# compatibility ideographs, full-width forms) is dropped: on Latin text and patterns such
# words are the recogniser's low-confidence guesses
CJK = re.compile("[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")


@dataclass(frozen=True)
class Word:
    text: str
    confidence: float  # mean probability of its characters, 0-1
    quad: F64  # (4, 2) picture pixels: top-left, top-right, bottom-right, bottom-left


@dataclass(frozen=True)
class Line:
    text: str
    confidence: float
    quad: F64
    words: tuple[Word, ...]


# ---------------------------------------------------------------- detection


def dilate(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """OpenCV's dilation by a 2x2 kernel (anchor at its centre, (1, 1)): a pixel is set
    when it or its upper, left or upper-left neighbour is."""
    out = mask.copy()
    out[1:, :] |= mask[:-1, :]
    out[:, 1:] |= mask[:, :-1]
    out[1:, 1:] |= mask[:-1, :-1]
    return out


def runs(mask: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.intp], ...]:
    """Horizontal runs of set pixels: (row, first column, last column), row by row."""
    padded = np.zeros((mask.shape[0], mask.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    edges = np.diff(padded, axis=1)
    rows, starts = np.nonzero(edges == 1)
    _, stops = np.nonzero(edges == -1)  # same row order: every run opens and closes
    return rows, starts, stops - 1


def components(mask: npt.NDArray[np.bool_]) -> list[F64]:
    """8-connected components of `mask`, each as the (x, y) ends of its runs (enough for
    its convex hull and so its minimum-area rectangle)."""
    rows, starts, ends = runs(mask)
    n = len(rows)
    if n == 0:
        return []
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    # runs of adjacent rows touch (8-connected) when their column spans overlap by
    # at least a diagonal; both lists are sorted by row, then column
    row_start = np.searchsorted(rows, np.arange(int(rows[-1]) + 2))
    for r in range(int(rows[0]) + 1, int(rows[-1]) + 1):
        above = range(int(row_start[r - 1]), int(row_start[r]))
        here = range(int(row_start[r]), int(row_start[r + 1]))
        if not above or not here:
            continue
        j0 = above.start
        for i in here:
            # skip the runs above that end left of this one's reach
            while j0 < above.stop and ends[j0] < starts[i] - 1:
                j0 += 1
            j = j0
            while j < above.stop and starts[j] <= ends[i] + 1:
                a, b = find(i), find(j)
                if a != b:
                    parent[max(a, b)] = min(a, b)
                j += 1
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    out = []
    for members in groups.values():
        idx = np.array(members)
        ys = rows[idx].astype(np.float64)
        points = np.concatenate(
            [np.stack([starts[idx], ys], axis=1), np.stack([ends[idx], ys], axis=1)]
        ).astype(np.float64)
        out.append(points)
    return out


def convex_hull(points: F64) -> F64:
    """Andrew's monotone chain; counter-clockwise in image axes, no repeated point."""
    pts = np.unique(points, axis=0)  # sorted by x, then y
    if len(pts) < 3:
        return pts

    def half(seq: F64) -> list[F64]:
        chain: list[F64] = []
        for p in seq:
            while len(chain) >= 2:
                o, a = chain[-2], chain[-1]
                if (a[0] - o[0]) * (p[1] - o[1]) - (a[1] - o[1]) * (p[0] - o[0]) <= 0:
                    chain.pop()
                else:
                    break
            chain.append(p)
        return chain

    lower, upper = half(pts), half(pts[::-1])
    return np.array(lower[:-1] + upper[:-1])


def min_area_rect(points: F64) -> tuple[F64, float, float]:
    """The smallest rectangle holding `points`: its corners (4, 2) in no set order, its
    width and height (along its first axis and across)."""
    hull = convex_hull(points)
    if len(hull) < 3:
        lo, hi = points.min(axis=0), points.max(axis=0)
        corners = np.array([lo, [hi[0], lo[1]], hi, [lo[0], hi[1]]], dtype=np.float64)
        return corners, float(hi[0] - lo[0]), float(hi[1] - lo[1])
    edges = np.roll(hull, -1, axis=0) - hull
    angles = np.arctan2(edges[:, 1], edges[:, 0])
    best: tuple[float, F64, float, float] | None = None
    for a in np.unique(np.mod(angles, np.pi / 2)):
        u = np.array([math.cos(a), math.sin(a)])
        v = np.array([-u[1], u[0]])
        pu, pv = hull @ u, hull @ v
        w, h = float(pu.max() - pu.min()), float(pv.max() - pv.min())
        if best is None or w * h < best[0] - 1e-9:
            c = [
                pu.min() * u + pv.min() * v,
                pu.max() * u + pv.min() * v,
                pu.max() * u + pv.max() * v,
                pu.min() * u + pv.max() * v,
            ]
            best = (w * h, np.array(c), w, h)
    assert best is not None
    return best[1], best[2], best[3]


def order_corners(box: F64) -> F64:
    """Top-left, top-right, bottom-right, bottom-left (PaddleOCR's order: the two
    leftmost points by x, the upper of them first)."""
    by_x = box[np.argsort(box[:, 0], kind="stable")]
    left = by_x[:2][np.argsort(by_x[:2, 1], kind="stable")]
    right = by_x[2:][np.argsort(by_x[2:, 1], kind="stable")]
    return np.array([left[0], right[0], right[1], left[1]], dtype=np.float64)


def grow(box: F64, distance: float) -> F64:
    """A rectangle (corners in order around it) grown by `distance` on every side."""
    centre = box.mean(axis=0)
    u = box[1] - box[0]
    v = box[3] - box[0]
    lu, lv = float(np.hypot(*u)), float(np.hypot(*v))
    u = u / lu if lu else np.array([1.0, 0.0])
    v = v / lv if lv else np.array([0.0, 1.0])
    hu, hv = lu / 2 + distance, lv / 2 + distance
    return np.array(
        [
            centre - hu * u - hv * v,
            centre + hu * u - hv * v,
            centre + hu * u + hv * v,
            centre - hu * u + hv * v,
        ]
    )


def inside(box: F64, xs: F64, ys: F64) -> npt.NDArray[np.bool_]:
    """Which of the points (xs, ys) lie in the convex quadrilateral `box` (corners in
    order around it, either way), borders included."""
    signs = []
    for k in range(4):
        a, b = box[k], box[(k + 1) % 4]
        signs.append((b[0] - a[0]) * (ys - a[1]) - (b[1] - a[1]) * (xs - a[0]))
    s = np.stack(signs)
    tol = 1e-6
    return np.asarray((s >= -tol).all(axis=0) | (s <= tol).all(axis=0))


def box_score(prob: F32, box: F64) -> float:
    """Mean probability over the map's pixels inside `box` (DB's "fast" score)."""
    h, w = prob.shape
    x0 = int(np.clip(np.floor(box[:, 0].min()), 0, w - 1))
    x1 = int(np.clip(np.ceil(box[:, 0].max()), 0, w - 1))
    y0 = int(np.clip(np.floor(box[:, 1].min()), 0, h - 1))
    y1 = int(np.clip(np.ceil(box[:, 1].max()), 0, h - 1))
    ys, xs = np.mgrid[y0 : y1 + 1, x0 : x1 + 1].astype(np.float64)
    keep = inside(box, xs, ys)
    if not keep.any():
        return 0.0
    return float(prob[y0 : y1 + 1, x0 : x1 + 1][keep].mean())


def text_boxes(
    prob: F32,
    out_size: tuple[int, int],
    *,
    binarize: float = BINARIZE,
    box_score_min: float = BOX_SCORE,
    unclip: float = UNCLIP,
) -> list[tuple[F64, float]]:
    """DB post-processing: the probability map (h, w) -> text lines as (corners in
    `out_size` (width, height) pixels, top-left first, clockwise; their mean probability)."""
    h, w = prob.shape
    out_w, out_h = out_size
    found = []
    for points in components(dilate(prob > binarize)):
        box, bw, bh = min_area_rect(points)
        if min(bw, bh) < MIN_SIDE:
            continue
        box = order_corners(box)
        score = box_score(prob, box)
        if score < box_score_min:
            continue
        # the pixel grid's rectangle is measured between pixel centres, as OpenCV's is
        area, perimeter = bw * bh, 2 * (bw + bh)
        grown = grow(box, area * unclip / perimeter)
        side_u = float(np.hypot(*(grown[1] - grown[0])))
        side_v = float(np.hypot(*(grown[3] - grown[0])))
        if min(side_u, side_v) < MIN_SIDE + 2:
            continue
        scaled = np.empty_like(grown)
        scaled[:, 0] = np.clip(np.round(grown[:, 0] / w * out_w), 0, out_w - 1)
        scaled[:, 1] = np.clip(np.round(grown[:, 1] / h * out_h), 0, out_h - 1)
        scaled = order_corners(scaled)
        if np.hypot(*(scaled[1] - scaled[0])) <= 3 or np.hypot(*(scaled[3] - scaled[0])) <= 3:
            continue
        found.append((scaled, score))
    return reading_order(found)


def reading_order(boxes: list[tuple[F64, float]]) -> list[tuple[F64, float]]:
    """Top to bottom, then left to right among boxes whose tops are within 10 px
    (PaddleOCR's sorted_boxes)."""
    out = sorted(boxes, key=lambda b: (float(b[0][0, 1]), float(b[0][0, 0])))
    for i in range(len(out) - 1):
        for j in range(i, -1, -1):
            a, b = out[j][0], out[j + 1][0]
            if abs(b[0, 1] - a[0, 1]) < 10 and b[0, 0] < a[0, 0]:
                out[j], out[j + 1] = out[j + 1], out[j]
            else:
                break
    return out


def det_input(picture: U8, long_side: int) -> F32:
    """(1, 3, H, W) for the detector: the picture scaled so its long side is about
    `long_side`, each side a multiple of 32, BGR, (x / 255 - 0.5) / 0.5."""
    from PIL import Image

    h, w = picture.shape[:2]
    ratio = long_side / max(h, w)
    rh = max(32, int(round(h * ratio / 32) * 32))
    rw = max(32, int(round(w * ratio / 32) * 32))
    img = picture
    if (rh, rw) != (h, w):
        img = np.asarray(
            Image.fromarray(picture).resize((rw, rh), resample=Image.Resampling.BILINEAR)
        )
    x = (img[..., ::-1].astype(np.float32) / 255.0 - 0.5) / 0.5
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


# ---------------------------------------------------------------- recognition


def crop_line(picture: U8, quad: F64) -> U8:
    """The line's quadrilateral warped to an upright rectangle (PaddleOCR's
    get_rotate_crop_image: bicubic; a crop 1.5 times taller than wide is turned a
    quarter so vertical text reads left to right)."""
    from PIL import Image

    w = max(1, int(max(np.hypot(*(quad[0] - quad[1])), np.hypot(*(quad[2] - quad[3])))))
    h = max(1, int(max(np.hypot(*(quad[0] - quad[3])), np.hypot(*(quad[1] - quad[2])))))
    tl, tr, br, bl = quad
    data = (*tl, *bl, *br, *tr)  # PIL's QUAD: upper-left, lower-left, lower-right, upper-right
    crop = np.asarray(
        Image.fromarray(picture).transform(
            (w, h),
            Image.Transform.QUAD,
            data=tuple(float(v) for v in data),
            resample=Image.Resampling.BICUBIC,
        )
    )
    if h / w >= 1.5:
        crop = np.rot90(crop)
    return np.ascontiguousarray(crop)


def rec_input(crops: Sequence[U8], min_width: int = REC_MIN_WIDTH) -> tuple[F32, list[int]]:
    """(n, 3, 48, W) for the recogniser, W = 48 x the widest crop's aspect (at least
    REC_MIN_WIDTH), each crop scaled to 48 high (capped at W), BGR, (x / 255 - 0.5) / 0.5,
    zero (grey) on the right; and each crop's scaled width."""
    from PIL import Image

    ratio = max([min_width / REC_HEIGHT] + [c.shape[1] / c.shape[0] for c in crops])
    width = math.ceil(REC_HEIGHT * ratio / REC_STEP) * REC_STEP
    batch = np.zeros((len(crops), 3, REC_HEIGHT, width), dtype=np.float32)
    widths = []
    for k, crop in enumerate(crops):
        rw = min(width, math.ceil(REC_HEIGHT * crop.shape[1] / crop.shape[0]))
        img = np.asarray(
            Image.fromarray(crop).resize((rw, REC_HEIGHT), resample=Image.Resampling.BILINEAR)
        )
        x = (img[..., ::-1].astype(np.float32) / 255.0 - 0.5) / 0.5
        batch[k, :, :, :rw] = x.transpose(2, 0, 1)
        widths.append(rw)
    return batch, widths


@dataclass(frozen=True)
class Decoded:
    text: str
    probs: tuple[float, ...]  # per character
    steps: tuple[int, ...]  # the time step each character was emitted at
    # per character: the recogniser's highest probability of a space from the previous
    # character's step to this one's (0 for the first)
    space_before: tuple[float, ...]


def ctc_greedy(probs: F32, charset: Sequence[str]) -> Decoded:
    """Best class per time step (T, C); repeats merged, blanks (class 0) dropped. The
    space is the last class."""
    best = probs.argmax(axis=1)
    top = probs.max(axis=1)
    keep = best != 0
    keep[1:] &= best[1:] != best[:-1]
    steps = [int(s) for s in np.flatnonzero(keep)]
    space = probs[:, -1]
    gaps = [0.0] + [float(space[a : b + 1].max()) for a, b in pairwise(steps)]
    return Decoded(
        text="".join(charset[int(best[s])] for s in steps),
        probs=tuple(float(top[s]) for s in steps),
        steps=tuple(steps),
        space_before=tuple(gaps),
    )


def word_spans(
    decoded: Decoded, n_steps: float, space_split: float = SPACE_SPLIT
) -> list[tuple[str, float, float, float]]:
    """The line's words: (text, mean character probability, start and end as fractions of
    the line's length). Words are split on decoded spaces and where the recogniser gave a
    space at least `space_split` probability between two characters (a narrow space the
    blank outscored: "NO PARKING" read as "NOPARKING"). A character spans half the line's
    median character pitch (in time steps) either side of the step it was emitted at."""
    text, steps = decoded.text, decoded.steps
    groups: list[list[int]] = []
    current: list[int] = []
    for i, ch in enumerate(text):
        if ch.isspace():
            if current:
                groups.append(current)
            current = []
            continue
        if current and decoded.space_before[i] >= space_split:
            groups.append(current)
            current = []
        current.append(i)
    if current:
        groups.append(current)
    pitches = [steps[g[k + 1]] - steps[g[k]] for g in groups for k in range(len(g) - 1)]
    half = (float(np.median(pitches)) if pitches else 3.0) / 2
    out = []
    for g in groups:
        start = max(0.0, steps[g[0]] + 0.5 - half) / n_steps
        end = min(n_steps, steps[g[-1]] + 0.5 + half) / n_steps
        word = "".join(text[i] for i in g)
        out.append((word, float(np.mean([decoded.probs[i] for i in g])), start, end))
    return out


def along(quad: F64, start: float, end: float) -> F64:
    """The part of a line's quadrilateral between two fractions of its length."""
    tl, tr, br, bl = quad
    return np.array(
        [
            tl + start * (tr - tl),
            tl + end * (tr - tl),
            bl + end * (br - bl),
            bl + start * (br - bl),
        ]
    )


def line_of(quad: F64, decoded: Decoded, n_steps: float) -> Line | None:
    """A detected line's quadrilateral and its reading as a Line of words (None when no
    word is left: nothing read, or only CJK words)."""
    spans = [s for s in word_spans(decoded, n_steps) if not CJK.search(s[0])]
    if not spans:
        return None
    words = tuple(Word(t, c, along(quad, s, e)) for t, c, s, e in spans)
    # the line's confidence: its words' characters' mean probability
    confidence = float(
        np.average([w.confidence for w in words], weights=[len(w.text) for w in words])
    )
    return Line(" ".join(w.text for w in words), confidence, quad, words)


# ---------------------------------------------------------------- models


class Ocr:
    """The detector and recogniser, each an onnxruntime session with a fixed number of
    threads (a session's run() may be called from several threads at once)."""

    def __init__(
        self,
        det: Path,
        rec: Path,
        charset: Sequence[str] | None = None,
        *,
        threads: int = THREADS,
        rec_min_width: int = REC_MIN_WIDTH,
    ) -> None:
        import onnxruntime as ort

        self.rec_min_width = rec_min_width

        def session(path: Path) -> Any:
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            return ort.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )

        self.det = session(det)
        self.rec = session(rec)
        if charset is None:
            meta = self.rec.get_modelmeta().custom_metadata_map
            charset = meta["character"].splitlines()
        # class 0 is CTC's blank; the last class is a space
        self.charset = ["", *charset, " "]

    def detect(self, picture: U8, long_side: int) -> list[tuple[F64, float]]:
        x = det_input(picture, long_side)
        prob = np.asarray(self.det.run(None, {self.det.get_inputs()[0].name: x})[0])
        h, w = picture.shape[:2]
        return text_boxes(prob[0, 0], (w, h))

    def recognise(self, crops: Sequence[U8]) -> list[tuple[Decoded, float]]:
        """Each crop's decoding and its time steps' count over the crop's own width."""
        order = sorted(range(len(crops)), key=lambda k: crops[k].shape[1] / crops[k].shape[0])
        out: dict[int, tuple[Decoded, float]] = {}
        name = self.rec.get_inputs()[0].name
        for b in range(0, len(order), REC_BATCH):
            chunk = order[b : b + REC_BATCH]
            batch, widths = rec_input([crops[k] for k in chunk], self.rec_min_width)
            probs = np.asarray(self.rec.run(None, {name: batch})[0])
            per_step = batch.shape[3] / probs.shape[1]  # input columns per time step
            for k, p, rw in zip(chunk, probs, widths, strict=True):
                out[k] = (ctc_greedy(p, self.charset), rw / per_step)
        return [out[k] for k in range(len(crops))]

    def read(self, picture: U8, long_side: int) -> list[Line]:
        """The text lines of an upright RGB picture, in reading order."""
        boxes = self.detect(picture, long_side)
        if not boxes:
            return []
        crops = [crop_line(picture, quad) for quad, _ in boxes]
        lines = []
        for (quad, _), (decoded, n_steps) in zip(boxes, self.recognise(crops), strict=True):
            line = line_of(quad, decoded, n_steps)
            if line is not None:
                lines.append(line)
        return lines


def model_files() -> tuple[Path, Path]:
    """The detector's and the recogniser's files (EngineError naming the first missing)."""
    what = "the text models"
    return package_file(*DETECTOR, what), package_file(*RECOGNISER, what)


@cache
def shipped() -> Ocr:
    """The shipped detector and recogniser (loaded once per process)."""
    return Ocr(*model_files())
