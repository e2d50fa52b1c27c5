"""`vidx import`: recorded Get* pages through the one parser into the store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models import Detection, Video
from tests.conftest import FIXTURES, RECORDED
from worker.context import AppContext
from worker.engines.port import Feature
from worker.errors import InputError
from worker.pipeline.importer import import_pages
from worker.query import timeline

pytestmark = pytest.mark.integration


def _count(ctx: AppContext) -> int:
    with ctx.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(Detection)) or 0)


@pytest.mark.parametrize(("rel", "feature", "key"), RECORDED)
def test_import_every_item_idempotently(
    ctx: AppContext, rel: str, feature: Feature, key: str
) -> None:
    path = FIXTURES / rel
    items = len(json.loads(path.read_text())[key])
    first = import_pages(ctx, feature, [path])
    assert first.items == items == _count(ctx)
    again = import_pages(ctx, feature, [path])
    assert again.video_id == first.video_id and _count(ctx) == items
    with ctx.db.session() as s:
        video = s.get_one(Video, first.video_id)
        doc = timeline(s, first.video_id)
        timestamps = s.scalars(select(Detection.start_ms).order_by(Detection.item_index)).all()
    page = json.loads(path.read_text())
    meta = page["VideoMetadata"]
    meta = meta[0] if isinstance(meta, list) else meta
    assert video.duration_ms == meta["DurationMillis"] and video.sha256 is None
    assert doc["features"][feature.value]["status"] == "SUCCEEDED"
    expected = [i.get("StartTimestampMillis", i.get("Timestamp")) for i in page[key]]
    assert list(timestamps) == expected


def test_moderation_timeline_ranges(ctx: AppContext) -> None:
    done = import_pages(ctx, Feature.MODERATION, [FIXTURES / RECORDED[1][0]])
    with ctx.db.session() as s:
        doc = timeline(s, done.video_id)
    assert doc["moderation"], "moderation ranges expected"
    assert sum(r["detections"] for r in doc["moderation"]) == done.items
    assert all(r["start_ms"] < r["end_ms"] for r in doc["moderation"])


def test_import_onto_an_existing_video(ctx: AppContext) -> None:
    seg = import_pages(ctx, Feature.SEGMENTS, [FIXTURES / RECORDED[0][0]])
    mod = import_pages(ctx, Feature.MODERATION, [FIXTURES / RECORDED[1][0]], seg.video_id)
    assert mod.video_id == seg.video_id
    with ctx.db.session() as s:
        doc = timeline(s, seg.video_id)
    assert set(doc["features"]) == {"segments", "moderation"}


def test_bad_page_refused_before_anything_is_written(ctx: AppContext, tmp_path: Path) -> None:
    good = FIXTURES / RECORDED[0][0]
    bad = tmp_path / "bad.json"
    bad.write_text('{"JobStatus": "SUCCEEDED", "Segments": [{"Type": "SHOT"}]}')
    with pytest.raises(InputError, match=r"bad\.json"):
        import_pages(ctx, Feature.SEGMENTS, [good, bad])
    with ctx.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Video)) == 0
    assert _count(ctx) == 0


def test_cli_import_prints_the_video_id(tmp_path: Path) -> None:
    env = {**os.environ, "VIDX_DATA_DIR": str(tmp_path)}
    env.pop("VIDX_DATABASE_URL", None)
    cmd = [sys.executable, "-m", "worker", "import", "--feature", "labels"]
    res = subprocess.run(
        [*cmd, str(FIXTURES / RECORDED[3][0]), "--json"], env=env, capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    vid = json.loads(res.stdout)["video_id"]
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "worker",
            "query",
            "--video",
            vid,
            "--kind",
            "label",
            "--format",
            "json",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0 and json.loads(res.stdout)[0]["name"] == "Boy"
    res = subprocess.run(
        [*cmd, str(tmp_path / "missing.json")], env=env, capture_output=True, text=True
    )
    assert res.returncode != 0 and "missing.json: no such file" in res.stderr
