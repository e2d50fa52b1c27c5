"""A real `vidx worker` (the compose worker's command) on Redis and PostgreSQL, driven by the CLI.

The worker's argv, the migration step and the healthcheck are read from docker-compose.yml,
so the stack and this test cannot drift apart. Everything goes through separate processes,
as in production: `vidx submit` enqueues, the worker does the work, `vidx status` and
`vidx timeline` read the database.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.compose import healthcheck_shell, vidx_argv
from tests.e2e_support import REDIS_URL, VIDX, clean_env, one_error_line, stop, vidx
from worker.media.probe import probe

pytestmark = pytest.mark.integration

INDEX_TIMEOUT_S = 180


@dataclass
class Stack:
    env: dict[str, str]
    data_dir: Path
    worker: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def healthcheck(self) -> subprocess.CompletedProcess[str]:
        """The compose worker healthcheck, run as the container would run it."""
        env = {
            **self.env,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{self.env.get('PATH', '')}",
            "HOSTNAME": socket.gethostname(),  # set by Docker; Celery names nodes after it
        }
        return subprocess.run(
            ["sh", "-c", healthcheck_shell("worker")],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )


@pytest.fixture(scope="module")
def stack(
    broker_db: int, pg_schema_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """docker-compose.yml's `migrate` then `worker` commands against the local services."""
    root = tmp_path_factory.mktemp("e2e")
    data_dir = root / "data"
    env = clean_env(
        broker_url=f"{REDIS_URL}/{broker_db}",
        database_url=pg_schema_url,
        data_dir=str(data_dir),
    )
    migrate = vidx(vidx_argv("migrate"), env)
    assert migrate.returncode == 0, migrate.stderr
    log = root / "worker.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            VIDX + vidx_argv("worker"),
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: the pool children die with it
        )
    stack = Stack(env, data_dir, proc, log)
    try:
        deadline = time.monotonic() + 30
        while "ready." not in stack.log_text():
            assert proc.poll() is None, f"worker exited {proc.returncode}:\n{stack.log_text()}"
            assert time.monotonic() < deadline, f"worker not ready:\n{stack.log_text()}"
            time.sleep(0.2)
        yield stack
    finally:
        rc = stop(proc)
    assert rc == 0, f"worker did not shut down cleanly on SIGTERM ({rc}):\n{stack.log_text()}"


def wait_indexed(stack: Stack, video_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + INDEX_TIMEOUT_S
    while True:
        assert stack.worker.poll() is None, f"worker died:\n{stack.log_text()}"
        st = vidx(["status", video_id, "--json"], stack.env)
        assert st.returncode == 0, st.stderr
        status: dict[str, Any] = json.loads(st.stdout)
        if status["status"] == "INDEXED":
            return status
        log = stack.log_text()
        assert status["status"] == "PROCESSING", f"{status}\n{log}"
        # a task that raised leaves the video PROCESSING: say so now, not at the timeout
        assert "raised unexpected" not in log, f"{status}\n{log}"
        assert time.monotonic() < deadline, f"not indexed in {INDEX_TIMEOUT_S} s: {status}\n{log}"
        time.sleep(0.5)


def submit(stack: Stack, video: Path, *options: str) -> str:
    proc = vidx(["submit", str(video), *options, "--json"], stack.env)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["job_ids"], out
    return str(out["video_id"])


def test_worker_healthcheck_passes(stack: Stack) -> None:
    check = stack.healthcheck()
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.startswith("worker: ok"), check.stdout


def test_submitted_videos_are_indexed_by_the_worker(stack: Stack, media: Path) -> None:
    video = media / "synthetic" / "no_audio.mp4"
    truth = json.loads((media / "synthetic" / "no_audio.truth.json").read_text())
    video_id = submit(stack, video, "--features", "segments", "--clips", "shots,content")
    # a second video at the same time keeps both pool processes busy with database work
    other_id = submit(stack, media / "real" / "bikes.mp4", "--clips", "none")

    status = wait_indexed(stack, video_id)
    assert status["video_id"] == video_id
    assert status["features"] == {"segments": {"status": "SUCCEEDED", "message": None}}
    assert wait_indexed(stack, other_id)["features"]["segments"]["status"] == "SUCCEEDED"

    tl = vidx(["timeline", video_id, "--format", "json"], stack.env)
    assert tl.returncode == 0, tl.stderr
    doc = json.loads(tl.stdout)
    assert doc["schema"] == "vidx.timeline/1"
    assert doc["video"]["frame_count"] == truth["frame_count"]
    assert doc["video"]["duration_ms"] == truth["duration_ms"]

    # shots: exactly the truth's cuts, frames and milliseconds
    shots = [(s["start_frame"], s["end_frame"], s["start_ms"], s["end_ms"]) for s in doc["shots"]]
    want = [
        (t["start_frame"], t["end_frame_inclusive"], t["start_ms"], t["end_ms"])
        for t in truth["shots"]
    ]
    assert shots == want
    assert [s["start_frame"] for s in doc["shots"][1:]] == [c["frame"] for c in truth["cuts"]]
    assert doc["content_range_ms"] == truth["content_range_ms"]

    # clips: one per shot plus the programme, listed, on disk in the data dir, playable
    clips = doc["clips"]
    assert sorted((c["kind"], c["index"]) for c in clips) == sorted(
        [("content", 0)] + [("shot", i) for i in range(len(want))]
    )
    clips_dir = (stack.data_dir / "clips" / video_id).resolve()
    fps = truth["fps"]["float"]
    for clip in clips:
        if clip["kind"] == "shot":
            s = doc["shots"][clip["index"]]
            assert (clip["start_ms"], clip["end_ms"]) == (s["start_ms"], s["end_ms"])
        else:
            assert [clip["start_ms"], clip["end_ms"]] == truth["content_range_ms"]
        path = Path(clip["path"])
        assert path.parent == clips_dir, path
        assert path.is_file() and path.stat().st_size > 0, path
        info = probe(path)
        assert info.frame_count == round((clip["end_ms"] - clip["start_ms"]) * fps / 1000), clip
    assert {p.name for p in clips_dir.iterdir()} == {Path(c["path"]).name for c in clips}

    log = stack.log_text()
    assert "raised unexpected" not in log, log
    assert "vidx.cut_clips" in log  # the work really ran in the worker process


def test_one_videos_clips_are_cut_by_parallel_tasks(stack: Stack, media: Path) -> None:
    """Shot clips go out as several batch tasks, cut by both pool processes at once,
    and end up exactly the planned ones with the mode and the minimum length asked for."""
    video = media / "synthetic" / "vfr_phone.mp4"  # four 2.5 s shots: four batch tasks
    options = ("--clips", "shots", "--mode", "accurate", "--min-length", "2600")
    logged = len(stack.log_text())
    video_id = submit(stack, video, *options)
    wait_indexed(stack, video_id)
    # recorded by the worker, not polled: when each batch started and ended, and where
    spans = _batch_spans(stack.log_text()[logged:])
    assert len(spans) >= 2, spans
    overlapping = [
        (a, b)
        for a, b in itertools.combinations(spans, 2)
        if a[0] != b[0] and a[1] < b[2] and b[1] < a[2]
    ]
    assert overlapping, f"no two batches were cut at the same time: {spans}"
    doc = json.loads(vidx(["timeline", video_id], stack.env).stdout)
    # the 2.6 s minimum merges the shots in pairs (tests/integration/test_clips_cli.py)
    assert [(c["index"], c["start_ms"], c["end_ms"]) for c in doc["clips"]] == [
        (0, 0, 5000), (2, 5000, 10000)
    ]  # fmt: skip
    assert {c["mode"] for c in doc["clips"]} == {"accurate"}
    assert "vidx.cut_clip_batch" in stack.log_text()


_STAMP = r"\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}): INFO/(ForkPoolWorker-\d+)\] "


def _batch_spans(log: str) -> list[tuple[str, datetime, datetime]]:
    """(pool process, start, end) of each cut_clip_batch task, from the worker's log."""
    when = "%Y-%m-%d %H:%M:%S,%f"
    started = {
        task: (proc, datetime.strptime(at, when))
        for at, proc, task in re.findall(_STAMP + r"cut_clip_batch\[([^\]]+)\] started", log)
    }
    spans = []
    for at, _, task in re.findall(_STAMP + r"Task vidx\.cut_clip_batch\[([^\]]+)\] succeeded", log):
        if task in started:
            proc, start = started[task]
            spans.append((proc, start, datetime.strptime(at, when)))
    return spans


def test_submit_and_worker_need_a_broker(tmp_path: Path, media: Path) -> None:
    env = clean_env(data_dir=str(tmp_path))
    video = media / "synthetic" / "no_audio.mp4"
    one_error_line(vidx(["submit", str(video)], env), "VIDX_BROKER_URL")
    one_error_line(vidx(vidx_argv("worker"), env, timeout=30), "VIDX_BROKER_URL")
    assert _no_videos(env), "nothing is registered without a broker"


def _no_videos(env: dict[str, str]) -> bool:
    st = vidx(["status", "--json"], env)
    return st.returncode == 0 and json.loads(st.stdout) == []


def test_submit_to_an_unreachable_broker_fails_in_one_line(tmp_path: Path, media: Path) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = clean_env(data_dir=str(tmp_path), broker_url=f"redis://127.0.0.1:{port}/9")
    line = one_error_line(vidx(["submit", str(media / "real" / "bikes.mp4")], env), "broker")
    assert f"127.0.0.1:{port}" in line
    assert _no_videos(env), "nothing is registered when the work cannot be queued"


def test_worker_refuses_an_unmigrated_server_database(
    tmp_path: Path, pg_url: str, broker_db: int
) -> None:
    env = clean_env(
        data_dir=str(tmp_path), broker_url=f"{REDIS_URL}/{broker_db}", database_url=pg_url
    )
    one_error_line(vidx(vidx_argv("worker"), env, timeout=30), "vidx db upgrade")
