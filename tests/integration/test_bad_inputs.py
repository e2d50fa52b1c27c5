"""Bad input never corrupts state: one clear line, non-zero exit, nothing persisted."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.damaged_media import garbage_middle

pytestmark = pytest.mark.integration

VIDX = [sys.executable, "-m", "worker"]


def vidx(
    args: list[str], data_dir: Path, db_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VIDX_DATA_DIR": str(data_dir)}
    env.pop("VIDX_BROKER_URL", None)
    if db_url:
        env["VIDX_DATABASE_URL"] = db_url
    else:
        env.pop("VIDX_DATABASE_URL", None)
    return subprocess.run(VIDX + args, env=env, capture_output=True, text=True, timeout=300)


def snapshot(root: Path) -> dict[str, object]:
    """Every file with its size, and row counts of every table of the embedded database."""
    files = {
        str(p.relative_to(root)): p.stat().st_size
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.endswith(("-wal", "-shm"))
    }
    counts: dict[str, int] = {}
    db = root / "vidx.db"
    if db.exists():
        with sqlite3.connect(db) as conn:
            tables = [
                r[0] for r in conn.execute("select name from sqlite_master where type='table'")
            ]
            counts = {t: conn.execute(f'select count(*) from "{t}"').fetchone()[0] for t in tables}
    return {"files": files, "rows": counts}


def bad_cases(media: Path) -> list[tuple[Path, str]]:
    spec = json.loads((media / "bad" / "bad_inputs.json").read_text())
    return [(media / "bad" / name, entry["expected"]) for name, entry in spec.items()]


EXPECTED_WORDS = {
    "empty.mp4": "empty",
    "not_a_video.mp4": "not a media file",
    "truncated.mp4": "truncated",
    "truncated_faststart.mp4": "truncated",
    "audio_only.m4a": "no video stream",
    "still.mp4": "still image",
    "huge_dimensions_header.mp4": "15360x8640",
}


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir that already holds a migrated database, so 'unchanged' means something."""
    data = tmp_path_factory.mktemp("data")
    res = vidx(["db", "upgrade"], data)
    assert res.returncode == 0, res.stderr
    return data


@pytest.mark.parametrize("name", sorted(EXPECTED_WORDS))
def test_bad_input_refused_and_nothing_persisted(media: Path, populated: Path, name: str) -> None:
    path = media / "bad" / name
    before = snapshot(populated)
    res = vidx(["run", str(path)], populated)
    assert res.returncode != 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert str(path) in lines[0]
    assert EXPECTED_WORDS[name] in lines[0].lower()
    assert snapshot(populated) == before


@pytest.fixture(scope="module")
def corrupt_middle(media: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """programme_720p25.mp4 with the middle third of its media data overwritten: the
    index is intact, so it probes as whole; 740 decode errors, 149 frames lost."""
    src = media / "synthetic" / "programme_720p25.mp4"
    return garbage_middle(src, tmp_path_factory.mktemp("damaged") / "corrupt_middle.mp4")


def test_corrupt_middle_refused_and_nothing_persisted(
    corrupt_middle: Path, populated: Path
) -> None:
    before = snapshot(populated)
    res = vidx(["run", str(corrupt_middle)], populated)
    assert res.returncode != 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert str(corrupt_middle) in lines[0]
    assert re.search(r": \d+ decode errors between \S+ and \S+ \(\d+ % of frames damaged", lines[0])
    assert lines[0].endswith("the file is corrupt")
    assert snapshot(populated) == before


def test_corrupt_middle_on_fresh_machine_creates_no_data_dir(
    corrupt_middle: Path, tmp_path: Path
) -> None:
    data = tmp_path / "never-created"
    res = vidx(["run", str(corrupt_middle), "--json"], data)
    assert res.returncode != 0 and res.stdout == ""
    assert not data.exists()


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_missing_path_and_directory(populated: Path, tmp_path: Path, kind: str) -> None:
    target = tmp_path / "nope.mp4" if kind == "missing" else tmp_path
    before = snapshot(populated)
    res = vidx(["run", str(target)], populated)
    assert res.returncode != 0
    assert len(res.stderr.strip().splitlines()) == 1 and str(target) in res.stderr
    assert snapshot(populated) == before


def test_bad_input_on_fresh_machine_creates_no_data_dir(media: Path, tmp_path: Path) -> None:
    data = tmp_path / "never-created"
    res = vidx(["run", str(media / "bad" / "not_a_video.mp4")], data)
    assert res.returncode != 0
    assert not data.exists()


def test_unknown_feature_and_mode_refused_before_work(media: Path, tmp_path: Path) -> None:
    data = tmp_path / "d"
    video = media / "synthetic" / "no_audio.mp4"
    res = vidx(["run", str(video), "--features", "segments,colour"], data)
    assert res.returncode != 0 and "unknown feature" in res.stderr
    # (the local engine detects every feature since labels: an unknown engine instead)
    res = vidx(["run", str(video), "--features", "labels", "--engine", "nosuch"], data)
    assert res.returncode != 0 and "unknown engine" in res.stderr
    res = vidx(["run", str(video), "--mode", "quick"], data)
    assert res.returncode != 0 and "unknown clip mode" in res.stderr
    assert not data.exists()
