"""Clip batches in parallel: one video's shot clips cut by 1 process, then by 2 at once.

    .venv/bin/python benchmarks/clip_tasks.py [--modes accurate smart] [--repeat N] [VIDEO ...]

What a Celery worker does with `--concurrency N`: the `cut_clips` task plans the clips
and splits the shots into VIDX_CLIP_BATCHES batch tasks (worker.pipeline.clips.batches);
each pool process runs `cut_plans` on a batch against the shared database. Here a
process pool of 1 and of 2 runs the same batches of the same video (segments analysed
once, by the local engine, into a SQLite file), one pool size after the other in this
run; the clips are deleted between runs. Speed-up = wall(1 process) / wall(2 processes).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from sqlalchemy import delete

from models import Clip
from worker.celery_app import reconfigure
from worker.config import Settings
from worker.context import AppContext, use_context
from worker.engines.port import Feature
from worker.pipeline import clips
from worker.service import submit

MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"
DEFAULT = ["synthetic/programme_720p25.mp4", "synthetic/programme_1080p2997.mov"]


def _context(data: Path) -> AppContext:
    return AppContext(Settings(data_dir=data, database_url=f"sqlite:///{data / 'vidx.db'}"))


def _cut_batch(data: Path, video_id: str, items: list[tuple[str, int]], mode: str) -> int:
    """One batch task's work, in a pool process with its own context (as a pool child)."""
    ctx = _context(data)
    with use_context(ctx):
        plans = [p for p in clips.plan_clips(ctx, video_id, ["shots"]) if (p.kind, p.seq) in items]
        return len(clips.cut_plans(ctx, video_id, plans, mode))


def run(data: Path, video_id: str, mode: str, processes: int, parts: int) -> tuple[float, int]:
    ctx = _context(data)
    with ctx.db.session() as s:
        s.execute(delete(Clip))
    shutil.rmtree(ctx.settings.clips_dir, ignore_errors=True)
    plans = clips.plan_clips(ctx, video_id, ["shots"])
    groups = [[(p.kind, p.seq) for p in b] for b in clips.batches(plans, parts)]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(processes) as pool:
        n = len(groups)
        made = sum(pool.map(_cut_batch, [data] * n, [video_id] * n, groups, [mode] * n))
    return time.perf_counter() - t0, made


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("videos", nargs="*", help=f"paths (default: {', '.join(DEFAULT)})")
    parser.add_argument("--modes", nargs="*", default=["accurate", "smart"])
    parser.add_argument("--batches", type=int, default=Settings().clip_batches)
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs per pool size")
    args = parser.parse_args()
    videos = [Path(v) for v in args.videos] or [MEDIA / v for v in DEFAULT]
    reconfigure(None)
    print(f"{'video':<24} {'mode':<9} {'clips':>5} {'batches':>7} {'1 proc s':>9} "
          f"{'2 proc s':>9} {'speed-up':>8}")  # fmt: skip
    print("-" * 77)
    for video in videos:
        with tempfile.TemporaryDirectory(prefix="vidx-bench-") as tmp:
            data = Path(tmp)
            ctx = _context(data)
            ctx.db.upgrade()
            with use_context(ctx):
                video_id = submit(ctx, video, [Feature.SEGMENTS], "local", [], "accurate").video_id
            for mode in args.modes:
                walls: dict[int, float] = {}
                for processes in (1, 2):
                    best = min(
                        run(data, video_id, mode, processes, args.batches)
                        for _ in range(args.repeat)
                    )
                    walls[processes] = best[0]
                    made = best[1]
                n = len(clips.batches(clips.plan_clips(ctx, video_id, ["shots"]), args.batches))
                print(
                    f"{video.name:<24} {mode:<9} {made:>5} {n:>7} {walls[1]:>9.2f} "
                    f"{walls[2]:>9.2f} {walls[1] / walls[2]:>7.2f}x",
                    flush=True,
                )


if __name__ == "__main__":
    main()
