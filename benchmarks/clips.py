"""Clip cutting: copy, smart and accurate modes against PySceneDetect's split_video_ffmpeg.

    .venv/bin/python benchmarks/clips.py [--only MODE ...] [VIDEO ...]

Every shot of the media truth is cut from each video, in each mode, in this one run,
one mode after the other (one clip at a time, as a Celery task cuts them; with
--repeat N each mode's best of N runs):

- copy (batch): `cut_copy_many`, all of the video's clips in one ffmpeg run
- copy: `cut_copy` per clip (what `cut_clip(..., "copy")` does)
- smart (batch): `cut_smart_many`, pieces and joins of 6 clips to a pair of runs
- smart: `cut_smart` per clip; accurate: `cut_accurate` per clip
- PySceneDetect: `split_video_ffmpeg(path, scenes)` with the scenes built from the
  truth's shot frames (its default arguments: `-ss` before `-i`, re-encode with
  libx264 veryfast CRF 22)

x real time = seconds of media cut / wall seconds. Frame accuracy = the fraction of
clips whose first decoded frame matches the source frame at the cut (PSNR >= 40 dB);
exact count = the fraction holding exactly the shot's frames.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scenedetect import FrameTimecode, split_video_ffmpeg

from worker.media.cut import cut_accurate
from worker.media.cut_copy import cut_copy, cut_copy_many
from worker.media.cut_smart import cut_smart, cut_smart_many
from worker.media.frames import decode_frame_at, psnr
from worker.media.info import MediaInfo
from worker.media.probe import probe

MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"
DEFAULT = ["synthetic/programme_1080p2997.mov", "synthetic/programme_720p25.mp4"]
MODES = ["copy (batch)", "copy", "smart (batch)", "smart", "accurate", "PySceneDetect"]
MIN_PSNR_DB = 40.0

Shot = dict[str, Any]


@dataclass(frozen=True)
class Row:
    seconds: float
    media_s: float
    clips: list[Path]
    notes: list[str]


def run_mode(mode: str, src: Path, info: MediaInfo, shots: list[Shot], out: Path) -> Row:
    paths = [out / f"{i:04d}.mp4" for i in range(len(shots))]
    notes: list[str] = []
    start = time.perf_counter()
    if mode in ("copy (batch)", "smart (batch)"):
        many = cut_copy_many if mode == "copy (batch)" else cut_smart_many
        results = many(
            src, info, [(s["start_ms"], s["end_ms"], p) for s, p in zip(shots, paths, strict=True)]
        )
        notes = [r.note or "" for r in results]
    elif mode == "PySceneDetect":
        scenes = [
            (
                FrameTimecode(s["start_frame"], info.fps),
                FrameTimecode(s["end_frame_inclusive"] + 1, info.fps),
            )
            for s in shots
        ]
        split_video_ffmpeg(
            str(src), scenes, output_dir=out, output_file_template="$SCENE_NUMBER.mp4"
        )
        paths = sorted(out.glob("*.mp4"))
    else:
        cutter: Callable[..., Any] = {
            "copy": cut_copy,
            "smart": cut_smart,
            "accurate": cut_accurate,
        }[mode]
        for shot, path in zip(shots, paths, strict=True):
            result = cutter(src, info, shot["start_ms"], shot["end_ms"], path)
            notes.append(result.note or "")
    seconds = time.perf_counter() - start
    media_s = sum(s["end_ms"] - s["start_ms"] for s in shots) / 1000
    return Row(seconds, media_s, paths, notes)


def accuracy(
    src: Path, info: MediaInfo, shots: list[Shot], clips: list[Path]
) -> tuple[float, float, list[int]]:
    """(fraction whose first frame matches the source at the cut, fraction with the
    shot's exact frame count, indices of the shots whose first frame does not)."""
    wrong: list[int] = []
    count_ok = 0
    for shot, clip in zip(shots, clips, strict=True):
        written = probe(clip)
        frame = decode_frame_at(clip, 0, written)
        if psnr(decode_frame_at(src, shot["start_ms"], info), frame) < MIN_PSNR_DB:
            wrong.append(int(shot["index"]))
        count_ok += written.frame_count == shot["end_frame_inclusive"] - shot["start_frame"] + 1
    return 1 - len(wrong) / len(shots), count_ok / len(shots), wrong


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("videos", nargs="*", help=f"paths (default: {', '.join(DEFAULT)})")
    parser.add_argument("--only", nargs="*", choices=MODES, default=MODES)
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs per mode")
    args = parser.parse_args()
    logging.getLogger("pyscenedetect").setLevel(logging.ERROR)
    videos = [Path(v) for v in args.videos] or [MEDIA / v for v in DEFAULT]
    print(f"load average before: {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores")
    header = (
        f"{'video':<25}{'mode':<15}{'clips':>6}{'media s':>9}{'wall s':>8}{'x RT':>8}"
        f"{'first ok':>10}{'exact n':>9}"
    )
    print(header)
    print("-" * len(header))
    for video in videos:
        truth = json.loads(video.with_name(video.stem + ".truth.json").read_text())
        info = probe(video)
        shots: list[Shot] = truth["shots"]
        wall: dict[str, float] = {}
        folder = Path(tempfile.mkdtemp(prefix="vidx-bench-clips-"))
        try:
            for mode in args.only:
                out = folder / mode.replace(" ", "_").replace("(", "").replace(")", "")
                out.mkdir()
                rows = []
                for _ in range(args.repeat):
                    shutil.rmtree(out)
                    out.mkdir()
                    rows.append(run_mode(mode, video, info, shots, out))
                row = min(rows, key=lambda r: r.seconds)
                wall[mode] = row.seconds
                first_ok, count_ok, wrong = accuracy(video, info, shots, row.clips)
                print(
                    f"{video.name:<25}{mode:<15}{len(shots):>6}{row.media_s:>9.2f}{row.seconds:>8.2f}"
                    f"{row.media_s / row.seconds:>8.1f}{first_ok:>10.0%}{count_ok:>9.0%}"
                )
                if wrong and mode.startswith(("smart", "accurate", "PySceneDetect")):
                    print(f"    first frame wrong in shots {wrong}")
                if fallbacks := [n for n in row.notes if n.startswith("smart: fell back")]:
                    print(f"    {len(fallbacks)} fell back: {fallbacks[0]}")
        finally:
            shutil.rmtree(folder)
        for smart in ("smart", "smart (batch)"):
            for other in ("accurate", "PySceneDetect"):
                if smart in wall and other in wall:
                    ratio = wall[other] / wall[smart]
                    print(f"{video.name:<25}{smart} is {ratio:.1f}x faster than {other}")
        print()


if __name__ == "__main__":
    main()
