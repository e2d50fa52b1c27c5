"""Local model features: speed (x real time) beside a naive run of the same model and a
plain ffmpeg decode, in this process, on the same files.

    .venv/bin/python benchmarks/ml.py [--repeat N] [--naive-seconds S] [VIDEO ...]

- vidx: what the engine does for the feature (`detect_moderation`: one decode sampled at
  two pictures a second; `detect_faces`: four a second, DEFAULT attributes;
  `detect_labels`: two a second, EfficientNet-Lite0 + the face detector; scaled by
  ffmpeg to 640 px, the models per picture, the response).
- together: the three in one `vision.one_pass` (one decode), as `vidx run` starts them.
- naive: every frame decoded at full resolution into Python (ffmpeg rawvideo pipe), the
  same model called on every frame: the obvious way to write it. Run on the first
  `--naive-seconds` of the file only (it is slow) and given per second of video.
- decode: `ffmpeg -i VIDEO -f null -`, every frame decoded and dropped: the floor any
  frame-based analysis pays once.
Times are the best of N runs; ratios are between runs of the same process, so a busy
machine moves all of them alike.
"""

from __future__ import annotations

import argparse
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from worker.engines.local.faces import FacesRun, detect_faces, load_models
from worker.engines.local.faces import faces_in_picture as faces_of
from worker.engines.local.labels import (
    LabelsRun,
    detect_labels,
    shipped_classifier,
    shipped_face_scorer,
    taxonomy,
)
from worker.engines.local.moderation import ModerationRun, detect_moderation, open_nsfw
from worker.engines.local.vision import one_pass
from worker.media.info import MediaInfo
from worker.media.probe import probe

MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"
DEFAULT = ["ml/objects_dev_720p25.mp4", "synthetic/programme_720p25.mp4"]


def best_of(repeat: int, run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def plain_decode(path: Path) -> None:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:v:0", "-f", "null", "-"],
        check=True,
    )


def naive(path: Path, width: int, height: int, seconds: float, feature: str) -> int:
    """Every frame of the first `seconds`, full size, through Python into the model."""
    if feature == "moderation":
        score = open_nsfw()
    elif feature == "labels":
        run = LabelsRun()

        def score(picture: np.ndarray) -> object:
            run.take(0, picture)
            return None
    else:
        models = load_models()

        def score(picture: np.ndarray) -> object:
            return faces_of(models, picture, "DEFAULT")

    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-t", f"{seconds}", "-i", str(path)]
    cmd += ["-map", "0:v:0", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    size = width * height * 3
    frames = 0
    with subprocess.Popen(cmd, stdout=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        while len(buf := proc.stdout.read(size)) == size:
            score(np.frombuffer(buf, np.uint8).reshape(height, width, 3))
            frames += 1
    return frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("videos", nargs="*", help=f"paths (default: {', '.join(DEFAULT)})")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--naive-seconds", type=float, default=6.0)
    args = parser.parse_args()
    videos = [Path(v) for v in args.videos] or [MEDIA / v for v in DEFAULT]
    # the models' load is not the video's cost
    open_nsfw(), load_models(), shipped_classifier(), shipped_face_scorer(), taxonomy()
    engines = {"moderation": detect_moderation, "faces": detect_faces, "labels": detect_labels}

    header = (
        f"{'video':<26}{'dur s':>7} | {'decode x RT':>11} | {'feature':<10} | {'x RT':>6}"
        f" | {'naive x RT':>10} | {'vs naive':>8} | {'vs decode':>9}"
    )
    print(header)
    print("-" * len(header))
    for video in videos:
        info = probe(video)
        dur = info.duration_ms / 1000
        t_decode = best_of(args.repeat, lambda v=video: plain_decode(v))
        for feature, detect in engines.items():
            t_vidx = best_of(args.repeat, lambda v=video, i=info, d=detect: d(v, i))
            secs = min(args.naive_seconds, dur)
            t_naive = best_of(
                1, lambda v=video, i=info, s=secs, f=feature: naive(v, i.width, i.height, s, f)
            )
            t_naive = t_naive / secs * dur
            print(
                f"{video.name:<26}{dur:>7.1f} | {dur / t_decode:>11.1f} | {feature:<10}"
                f" | {dur / t_vidx:>6.1f} | {dur / t_naive:>10.2f} | {t_naive / t_vidx:>7.1f}x"
                f" | {t_vidx / t_decode:>8.2f}x"
            )

        def together(v: Path = video, i: MediaInfo = info) -> None:
            one_pass(v, i, [ModerationRun(), FacesRun(), LabelsRun()])

        t_together = best_of(args.repeat, together)
        print(
            f"{video.name:<26}{dur:>7.1f} | {'':>11} | {'all three':<10} | {dur / t_together:>6.1f}"
        )


if __name__ == "__main__":
    main()
