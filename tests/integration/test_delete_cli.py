"""`vidx delete` as a process: JSON and text output, one error line (exit 1) for an unknown
id and for jobs in flight, `--force`, and the user's file left where it was."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import MEDIA, make_context
from tests.e2e_support import clean_env, one_error_line, vidx
from worker.engines.port import Feature
from worker.service import submit

pytestmark = pytest.mark.integration
SHORT = MEDIA / "synthetic" / "no_audio.mp4"


def test_delete_command(tmp_path: Path) -> None:
    if not SHORT.is_file():
        pytest.skip(f"test media not found at {MEDIA}")
    data, db = tmp_path / "data", f"sqlite:///{tmp_path / 'vidx.db'}"
    env = clean_env(data_dir=str(data), database_url=db)
    mine = tmp_path / "mine.mp4"
    shutil.copyfile(SHORT, mine)
    run = vidx(["run", str(mine), "--clips", "shots", "--mode", "copy", "--json"], env)
    assert run.returncode == 0, run.stderr
    vid = json.loads(run.stdout)["video_id"]
    assert (data / "clips" / vid).is_dir()

    done = vidx(["delete", vid[:6], "--format", "json"], env)  # an id prefix, as elsewhere
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["video_id"] == vid and report["rows"]["videos"] == 1
    assert str(data / "clips" / vid) in report["files"]
    assert report["kept"] == [f"{mine} (the source file: vidx never deletes a user's file)"]
    assert mine.is_file() and not (data / "clips" / vid).exists()

    again = vidx(["delete", vid], env)
    assert again.returncode == 1
    assert one_error_line(again) == f"vidx: error: no video with id {vid!r}"

    # a video whose job waits in the queue: refused, then deleted with --force
    ctx = make_context(data, db)
    queued = submit(ctx, mine, [Feature.SEGMENTS], "local", [], "copy", enqueue=lambda *_: None)
    ctx.db.engine.dispose()
    busy = vidx(["delete", queued.video_id], env)
    assert busy.returncode == 1
    one_error_line(busy, "jobs in flight (segments PENDING)", "--force")
    forced = vidx(["delete", queued.video_id, "--force"], env)
    assert forced.returncode == 0, forced.stderr
    assert forced.stdout.startswith(f"deleted video {queued.video_id}: ")
    assert f"  kept: {mine} (the source file" in forced.stdout
