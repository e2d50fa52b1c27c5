"""Persisting large results: the project's bulk path vs. one ORM object per row.

Synthesises label pages in GetLabelDetection's recorded shape (1,000 items a page,
realistic names, parents, instances and bounding boxes), then stores the same pages
twice in the same run on each database:
  - bulk: parse each page once, then `worker.store.write_page` (COPY on PostgreSQL,
    executemany elsewhere), one transaction per page — what collect does per page;
  - naive: parse, then `session.add(Detection(...))` per item and a commit per page.
Both store exactly the same rows. Prints rows/s of each and the ratio; then, for the
whole collect step (`store_pages`: pages + the merged timeline), rows/s and the time
to store one 1,000-item page.

    .venv/bin/python benchmarks/ingest.py [--items 100000] [--pg postgresql://...]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from models import AnalysisJob, Detection, Video
from worker.config import Settings
from worker.context import AppContext
from worker.engines.port import Feature
from worker.pipeline.collect import store_pages
from worker.results import parse_page
from worker.store import get_or_create_job, write_page

LABELS = [
    ("Person", []), ("Human", []), ("Car", ["Vehicle", "Transportation"]),
    ("Dog", ["Animal", "Pet", "Canine"]), ("Tree", ["Plant"]), ("Building", ["Architecture"]),
    ("Sky", []), ("Road", []), ("Text", []), ("Face", ["Person"]), ("Chair", ["Furniture"]),
    ("Boat", ["Vehicle", "Transportation"]), ("Cat", ["Animal", "Pet"]), ("Grass", ["Plant"]),
]  # fmt: skip


def pages(items: int, per_page: int = 1000, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    weights = [1 / (i + 1) for i in range(len(LABELS))]  # Zipf-like: few labels dominate
    out: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for n in range(items):
        name, parents = rng.choices(LABELS, weights)[0]
        box = {"Width": rng.random() / 2, "Height": rng.random() / 2,
               "Left": rng.random() / 2, "Top": rng.random() / 2}  # fmt: skip
        rows.append(
            {
                "Timestamp": n * 40,
                "Label": {
                    "Name": name,
                    "Confidence": rng.uniform(50, 100),
                    "Instances": [{"BoundingBox": box, "Confidence": rng.uniform(50, 100)}]
                    if rng.random() < 0.4
                    else [],
                    "Parents": [{"Name": p} for p in parents],
                    "Aliases": [],
                    "Categories": [{"Name": "Everyday"}],
                },
            }
        )
    for start in range(0, items, per_page):
        out.append(
            {
                "JobStatus": "SUCCEEDED",
                "VideoMetadata": {
                    "Codec": "h264",
                    "DurationMillis": items * 40,
                    "Format": "QuickTime / MOV",
                    "FrameRate": 25.0,
                    "FrameHeight": 720,
                    "FrameWidth": 1280,
                },
                "LabelModelVersion": "3.0",
                "Labels": rows[start : start + per_page],
            }
        )
    return out


def fresh_job(ctx: AppContext, items: int) -> int:
    with ctx.db.session() as s:
        video = Video(
            id=uuid.uuid4().hex[:16], sha256=None, source="bench", filename="bench.mp4",
            duration_ms=items * 40, fps_num=25, fps_den=1, frame_count=items, width=1280,
            height=720, requested_features=["labels"], requested_clips=[],
        )  # fmt: skip
        s.add(video)
        s.flush()
        job = get_or_create_job(s, video, "labels", {"bench": uuid.uuid4().hex}, "import")
        job.engine_job_id = "bench"
        return job.id


def naive(ctx: AppContext, job_id: int, all_pages: list[dict[str, Any]]) -> None:
    with ctx.db.session() as s:
        video_id = s.get_one(AnalysisJob, job_id).video_id
    for page_index, page in enumerate(all_pages):
        parsed = parse_page(Feature.LABELS, page)
        with ctx.db.session() as s:
            for item_index, d in enumerate(parsed.items):
                s.add(
                    Detection(
                        job_id=job_id, video_id=video_id, page_index=page_index,
                        item_index=item_index, kind=d.kind, name=d.name, parent=d.parent,
                        start_ms=d.start_ms, end_ms=d.end_ms, confidence=d.confidence,
                        bbox_left=d.bbox.left if d.bbox else None,
                        bbox_top=d.bbox.top if d.bbox else None,
                        bbox_width=d.bbox.width if d.bbox else None,
                        bbox_height=d.bbox.height if d.bbox else None, data=dict(d.data),
                    )
                )  # fmt: skip


def bulk(ctx: AppContext, job_id: int, all_pages: list[dict[str, Any]]) -> None:
    for page_index, page in enumerate(all_pages):
        parsed = parse_page(Feature.LABELS, page)
        with ctx.db.session() as s:
            write_page(s, s.get_one(AnalysisJob, job_id), page_index, parsed.items)


def timed(fn: Any) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def databases(pg_url: str) -> Iterator[tuple[str, str]]:
    tmp = Path(tempfile.mkdtemp(prefix="vidx-bench-"))
    yield "SQLite", f"sqlite:///{tmp / 'bench.db'}"
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://"))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield "PostgreSQL", f"{pg_url}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    args = ap.parse_args()
    data = pages(args.items)
    print(f"{args.items} label detections in {len(data)} pages of 1,000")
    print(
        f"{'database':<11} | {'bulk rows/s':>11} | {'naive rows/s':>12} | {'ratio':>6} | "
        f"{'collect rows/s':>14} | collect 1k page"
    )
    for name, url in databases(args.pg):
        measure(name, url, data, args.items)


def measure(name: str, url: str, data: list[dict[str, Any]], items: int) -> None:
    ctx = AppContext(Settings(data_dir=Path(tempfile.mkdtemp()), database_url=url))
    ctx.db.upgrade()
    bulk_s = timed(lambda: bulk(ctx, fresh_job(ctx, items), data))
    naive_s = timed(lambda: naive(ctx, fresh_job(ctx, items), data))
    collect_s = timed(lambda: store_pages(ctx, fresh_job(ctx, items), Feature.LABELS, data))
    one_page = min(
        timed(lambda: store_pages(ctx, fresh_job(ctx, 1000), Feature.LABELS, data[:1]))
        for _ in range(3)
    )
    print(
        f"{name:<11} | {items / bulk_s:>11,.0f} | {items / naive_s:>12,.0f} | "
        f"{naive_s / bulk_s:>5.1f}x | {items / collect_s:>14,.0f} | {one_page * 1000:.0f} ms"
    )
    ctx.db.engine.dispose()


if __name__ == "__main__":
    main()
