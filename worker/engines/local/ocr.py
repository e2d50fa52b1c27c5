"""Offline OCR for the text engine: PaddleOCR's PP-OCR text detector (DB) and recogniser
(CTC) as the ONNX files two wheels ship, run by onnxruntime; their pre- and
post-processing is written with numpy and Pillow (no OpenCV, pyclipper or shapely), here
and in ocr_boxes.py.

Detection: the DB network gives each pixel a text probability; ocr_boxes.py turns the map
into text lines (quadrilaterals).

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

from worker.engines.local.ocr_boxes import det_input, text_boxes
from worker.engines.local.packaged import package_file

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

# (package, file inside it): PP-OCRv4's mobile detector, PP-OCRv6's small recogniser
# (Apache-2.0, both; the packages are never imported)
DETECTOR = ("rapidocr_onnxruntime", "models/ch_PP-OCRv4_det_infer.onnx")
RECOGNISER = ("rapidocr", "models/PP-OCRv6_rec_small.onnx")

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


# ---------------------------------------------------------------- reading again

# A line's look: how much ink each column of its crop holds (grey distance from the crop's
# median, summed down the column), at LOOK_BINS columns, scaled to a maximum of 1. Summing
# down the columns makes it blind to where the box's edges fall above and below the text,
# which move by a few pixels from picture to picture. Measured on the development
# programmes (1 s apart, aspect within 15 %): 117 of 176 pairs of the same line differ by
# less than LOOK_SAME, no pair of 676 different lines by less than 0.18.
LOOK_BINS = 256
LOOK_ASPECT = 0.15  # two lines' width/height ratios differ by at most this share
LOOK_SAME = 0.08  # mean absolute difference of the looks under which they are one line
Reading = tuple[Decoded, float]  # a recognised line: its decoding and time steps' count


@dataclass(frozen=True)
class Look:
    aspect: float  # the crop's width / height
    ink: F32  # (LOOK_BINS,)


def look_of(crop: U8) -> Look:
    from PIL import Image

    grey = np.asarray(Image.fromarray(crop).convert("L"), dtype=np.float32)
    column = np.abs(grey - np.median(grey)).sum(axis=0)
    ink = np.asarray(
        Image.fromarray(column[None, :]).resize((LOOK_BINS, 1), Image.Resampling.BOX),
        dtype=np.float32,
    )[0]
    h, w = crop.shape[:2]
    return Look(w / max(h, 1), ink / max(float(ink.max()), 1e-6))


class LineMemory:
    """The lines of the last picture read, by their looks, for Ocr.read to reuse. The
    words' boxes are placed again along the new line (line_of), so a reused reading
    moves with its line. Held by one video's reader (text.TextRun): results depend on the
    pictures before, always the same ones for the same file."""

    def __init__(self) -> None:
        self._last: list[tuple[Look, Reading]] = []
        self.reused = 0

    def find(self, look: Look) -> Reading | None:
        for seen, reading in self._last:
            if abs(seen.aspect - look.aspect) > LOOK_ASPECT * seen.aspect:
                continue
            if float(np.abs(seen.ink - look.ink).mean()) < LOOK_SAME:
                self.reused += 1
                return reading
        return None

    def keep(self, lines: list[tuple[Look, Reading]]) -> None:
        self._last = lines


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

    def read(self, picture: U8, long_side: int, memory: LineMemory | None = None) -> list[Line]:
        """The text lines of an upright RGB picture, in reading order. With `memory` (the
        lines of the picture read before), a line that looks the same as one of them (a
        roll's line moved up, a caption that stays) takes that reading instead of being
        recognised again."""
        boxes = self.detect(picture, long_side)
        if not boxes:
            if memory is not None:
                memory.keep([])
            return []
        crops = [crop_line(picture, quad) for quad, _ in boxes]
        looks = [look_of(c) for c in crops]
        known = [memory.find(look) if memory is not None else None for look in looks]
        todo = [k for k, hit in enumerate(known) if hit is None]
        fresh = dict(zip(todo, self.recognise([crops[k] for k in todo]), strict=True))
        readings = [fresh[k] if hit is None else hit for k, hit in enumerate(known)]
        if memory is not None:
            memory.keep(list(zip(looks, readings, strict=True)))
        lines = []
        for (quad, _), (decoded, n_steps) in zip(boxes, readings, strict=True):
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
