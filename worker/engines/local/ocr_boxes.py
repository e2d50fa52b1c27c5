"""The text detector's input and post-processing (DB, "Real-time Scene Text Detection with
Differentiable Binarization", as PaddleOCR runs it), in numpy instead of OpenCV, pyclipper
and shapely: the probability map's pixels above BINARIZE (dilated by one pixel) form
8-connected components; each component's minimum-area rectangle, kept when its mean
probability is at least BOX_SCORE, is grown on every side by area x UNCLIP / perimeter (DB's
unclip: for a rectangle, the minimum rectangle of its rounded offset is the rectangle grown
by that distance) and is a text line, scaled to the picture."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

BINARIZE = 0.3  # DB: probability over which a pixel is text
BOX_SCORE = 0.5  # DB: mean probability under which a component is dropped
UNCLIP = 1.6  # DB: how far a kept rectangle is grown (area x UNCLIP / perimeter)
MIN_SIDE = 3  # DB: components whose rectangle's short side is shorter (map pixels) are noise


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
