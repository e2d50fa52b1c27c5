"""Shot thumbnails + sprite sheet: one decode with `select` vs one ffmpeg run per shot.

    .venv/bin/python benchmarks/thumbnails.py [--repeat N] [VIDEO ...]

Shots are the media truth's. "vidx" is `worker.media.thumbnails.make_thumbnails` (every
shot's middle frame, the sprite and its index, files checked and renamed into place).
"per shot" is the obvious alternative: for each shot, `ffmpeg -ss <middle> -i VIDEO
-frames:v 1` scaled to the same size (accurate seek: ffmpeg decodes from the keyframe
before the middle frame), no sprite. Times are the best of N runs, in seconds and as
x real time (video duration / time).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from worker.media.probe import probe
from worker.media.thumbnails import ShotSpan, make_thumbnails

MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"
DEFAULT = [
    "synthetic/programme_720p25.mp4",
    "synthetic/programme_1080p2997.mov",
    "synthetic/vfr_phone.mp4",
    "synthetic/programme_prores.mov",
    "synthetic/programme.webm",
]


def best_of(repeat: int, run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def per_shot(video: Path, shots: list[ShotSpan], width: int, folder: Path) -> None:
    for s in shots:
        middle = (s.start_ms + s.end_ms) // 2 / 1000
        subprocess.run(
            ["ffmpeg", "-nostdin", "-v", "error", "-y", "-ss", f"{middle:.3f}", "-i", str(video),
             "-frames:v", "1", "-vf", f"scale={width}:-2:flags=area", "-q:v", "3",
             str(folder / f"s{s.seq}.jpg")],
            check=True,
        )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("videos", nargs="*", help=f"paths (default: {', '.join(DEFAULT)})")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    videos = [Path(v) for v in args.videos] or [MEDIA / v for v in DEFAULT]
    print(f"{'video':<26}{'dur s':>7}{'shots':>6} | {'vidx s':>7} {'x RT':>6} | {'per shot s':>10}")
    print("-" * 70)
    for video in videos:
        print(measure(video, args.repeat))


def measure(video: Path, repeat: int) -> str:
    truth = json.loads(video.with_name(video.stem + ".truth.json").read_text())
    shots = [ShotSpan(s["index"], s["start_ms"], s["end_ms"]) for s in truth["shots"]]
    info = probe(video)
    width = min(640, info.display_size[0])
    with tempfile.TemporaryDirectory() as tmp:
        ours = best_of(repeat, lambda: make_thumbnails(video, info, shots, Path(tmp)))
        theirs = best_of(repeat, lambda: per_shot(video, shots, width, Path(tmp)))
    duration = info.duration_ms / 1000
    return (
        f"{video.name:<26}{duration:>7.2f}{len(shots):>6} | {ours:>7.2f} "
        f"{duration / ours:>6.1f} | {theirs:>10.2f}"
    )


if __name__ == "__main__":
    main()
