"""Local segment engine vs PySceneDetect: speed (x real time) and cut F1.

    .venv/bin/python benchmarks/segments.py [--repeat N] [--text] [VIDEO ...]

Columns: shots alone (`detect_segments(segment_types=["SHOT"])`: one decode, the cut
detector; what PySceneDetect does) beside PySceneDetect; with --text also the whole
segment job (shots and technical cues, which read the video's text: one decode feeding the
OCR at one picture a second) and segments + the text job together (`segments.analyse` with
the text job's TextRun, as `vidx run --features segments,text` runs them: still one decode
and one reading).

All run in this process on the same files, one after the other; a run's time is
the best of N. The local engine's times cover everything it does (decode, shots,
cues, the response); PySceneDetect's is `scenedetect.detect(path, ContentDetector())`
with its default auto-downscale.
Cut F1 counts a found cut within one frame of a truth cut (`cuts[]` of the media
truth) as a hit.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

from scenedetect import ContentDetector, detect

from worker.engines.local.segments import SegmentParams, analyse, detect_segments
from worker.engines.local.text import TextRun
from worker.media.info import MediaInfo
from worker.media.probe import probe
from worker.testing.metrics import cut_f1

MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"
DEFAULT = [
    "synthetic/programme_720p25.mp4",
    "real/bigbuckbunny.mp4",
    "synthetic/programme_1080p2997.mov",
    "synthetic/programme_prores.mov",
    "synthetic/programme.webm",
]


def best_of(repeat: int, run: Callable[[], list[int]]) -> tuple[float, list[int]]:
    best, cuts = float("inf"), []
    for _ in range(repeat):
        start = time.perf_counter()
        cuts = run()
        best = min(best, time.perf_counter() - start)
    return best, cuts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("videos", nargs="*", help=f"paths (default: {', '.join(DEFAULT)})")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--text", action="store_true", help="also time the whole segment job and segments + text"
    )
    args = parser.parse_args()
    logging.getLogger("pyscenedetect").setLevel(logging.ERROR)
    videos = [Path(v) for v in args.videos] or [MEDIA / v for v in DEFAULT]

    header = f"{'video':<26}{'dur s':>7} | {'shots x RT':>9} {'F1':>5} | {'PySD x RT':>9} {'F1':>5}"
    extra = f" | {'segments x RT':>11} | {'seg+text x RT':>13}" if args.text else ""
    print(header + f" | {'speed ratio':>11}" + extra)
    print("-" * (len(header) + 14 + len(extra)))
    for video in videos:
        truth = json.loads(video.with_name(video.stem + ".truth.json").read_text())
        truth_cuts = [c["frame"] for c in truth["cuts"]]
        info = probe(video)
        seconds = info.duration_ms / 1000

        def ours(video: Path = video, info: MediaInfo = info) -> list[int]:
            response = detect_segments(video, info, segment_types=["SHOT"])
            shots = [s for s in response["Segments"] if s["Type"] == "SHOT"]
            return [s["StartFrameNumber"] for s in shots[1:]]

        def cues(video: Path = video, info: MediaInfo = info) -> list[int]:
            detect_segments(video, info, segment_types=["SHOT", "TECHNICAL_CUE"])
            return []

        def pysd(video: Path = video) -> list[int]:
            scenes = detect(str(video), ContentDetector())
            return [start.frame_num for start, _ in scenes[1:]]

        def text(video: Path = video, info: MediaInfo = info) -> list[int]:
            run = TextRun()
            analyse(video, info, SegmentParams(), [run])
            run.response(info)
            return []

        ours_s, ours_cuts = best_of(args.repeat, ours)
        pysd_s, pysd_cuts = best_of(args.repeat, pysd)
        with_text = ""
        if args.text:
            cues_s, _ = best_of(args.repeat, cues)
            text_s, _ = best_of(args.repeat, text)
            with_text = f" | {seconds / cues_s:>11.1f} | {seconds / text_s:>13.1f}"
        print(
            f"{video.name:<26}{seconds:>7.2f} | {seconds / ours_s:>9.1f} "
            f"{cut_f1(ours_cuts, truth_cuts):>5.3f} | {seconds / pysd_s:>9.1f} "
            f"{cut_f1(pysd_cuts, truth_cuts):>5.3f} | {pysd_s / ours_s:>10.2f}x" + with_text
        )


if __name__ == "__main__":
    main()
