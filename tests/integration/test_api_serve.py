"""`vidx serve` as a real process (uvicorn): health, an upload indexed in the background,
Range downloads; and with a broker and an API key, the work queued for `vidx worker`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from tests.compose import healthcheck_shell, vidx_argv
from tests.conftest import MEDIA
from tests.e2e_support import (
    REDIS_URL,
    VIDX,
    clean_env,
    free_port,
    one_error_line,
    start,
    stop,
    vidx,
)

pytestmark = pytest.mark.integration
SHORT = MEDIA / "synthetic" / "no_audio.mp4"


@contextmanager
def serving(tmp: Path, **settings: str) -> Iterator[httpx.Client]:
    port = free_port()
    env = clean_env(data_dir=str(tmp / "data"), **settings)
    proc = start(
        [*VIDX, "serve", "--port", str(port)],
        env,
        tmp / "serve.log",
        ready="Application startup complete",
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield client
    finally:
        code = stop(proc)
        log = (tmp / "serve.log").read_text()
        # uvicorn shuts down cleanly on SIGTERM, then re-raises it (exit status -15)
        assert code in (0, -15) and "Application shutdown complete" in log, log


def post_video(client: httpx.Client, **form: str) -> httpx.Response:
    with SHORT.open("rb") as fh:
        return client.post("/videos", files={"file": (SHORT.name, fh)}, data=form)


def upload_then_hang_up(port: int) -> None:
    """Half an upload, then the connection closes (a client gone mid-transfer)."""
    data = SHORT.read_bytes()
    head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="gone.mp4"\r\n\r\n'
    request = (
        "POST /videos HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\n"
        f"Content-Length: {len(head) + len(data) + 8}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(request + head + data[: len(data) // 2])
        time.sleep(0.5)  # the server has started writing the file


def test_serve_indexes_an_upload_and_serves_ranges(tmp_path: Path, media: Path) -> None:
    uploads = tmp_path / "data" / "uploads"
    with serving(tmp_path) as client:
        assert client.get("/health").json() == {"status": "ok", "database": "ok"}
        upload_then_hang_up(client.base_url.port or 0)
        deadline = time.monotonic() + 10
        while any(p.is_file() for p in uploads.rglob("*")):  # the partial file goes away
            assert time.monotonic() < deadline, list(uploads.rglob("*"))
            time.sleep(0.1)
        assert (uploads / ".incoming").is_dir()  # (the upload had started)
        res = post_video(client, clips="shots", mode="copy")
        assert res.status_code == 202, res.text
        video_id = res.json()["video_id"]
        deadline = time.monotonic() + 90
        while (st := client.get(f"/videos/{video_id}").json())["status"] == "PROCESSING":
            assert time.monotonic() < deadline, st
            time.sleep(0.3)
        assert st["status"] == "INDEXED", st
        clip = client.get(f"/videos/{video_id}/clips").json()["items"][2]
        assert (clip["start_ms"], clip["end_ms"]) == (5600, 8000)
        whole = client.get(clip["url"]).content
        part = client.get(clip["url"], headers={"Range": "bytes=100-299"})
        assert part.status_code == 206 and part.content == whole[100:300]
        assert part.headers["content-range"] == f"bytes 100-299/{len(whole)}"
        media_part = client.get(f"/videos/{video_id}/media", headers={"Range": "bytes=-64"})
        assert media_part.status_code == 206 and media_part.content == SHORT.read_bytes()[-64:]
        assert client.get("/openapi.json").json()["info"]["title"] == "vidx"
        kept = [p for p in uploads.rglob("*") if p.is_file()]
        assert [p.name for p in kept] == ["no_audio.mp4"]


def test_serve_with_a_broker_queues_the_work_and_needs_the_key(
    tmp_path: Path, media: Path, broker_db: int
) -> None:
    url = f"{REDIS_URL}/{broker_db}"
    queue = redis.Redis.from_url(url)
    try:
        with serving(tmp_path, broker_url=url, api_key="k-123") as client:
            problem: Any = post_video(client).json()
            assert problem["status"] == 401 and problem["type"] == "about:blank"
            client.headers["X-API-Key"] = "k-123"
            res = post_video(client)
            assert res.status_code == 202, res.text
            assert [j["status"] for j in res.json()["jobs"]] == ["PENDING"]
            assert queue.llen("celery") == 1  # one analyze task for `vidx worker`
            st = client.get(f"/videos/{res.json()['video_id']}").json()
            assert st["status"] == "PROCESSING"  # nothing ran in the API process
    finally:
        queue.close()


def test_serve_refuses_a_database_that_is_not_migrated(tmp_path: Path, pg_url: str) -> None:
    env = clean_env(data_dir=str(tmp_path), database_url=pg_url)
    res = vidx(["serve", "--port", str(free_port())], env, timeout=60)
    one_error_line(res, "vidx db upgrade")


def test_the_compose_api_service_runs_and_passes_its_healthcheck(
    tmp_path: Path, pg_schema_url: str, broker_db: int
) -> None:
    """docker-compose.yml's `migrate`, then its `api` command and healthcheck, as processes
    against the local PostgreSQL and Redis (the compose port moved to a free one)."""
    port = str(free_port())
    env = clean_env(
        data_dir=str(tmp_path / "data"),
        database_url=pg_schema_url,
        broker_url=f"{REDIS_URL}/{broker_db}",
    )
    assert vidx(vidx_argv("migrate"), env).returncode == 0
    argv = [port if a == "8000" else a for a in vidx_argv("api")]
    assert argv[:3] == ["serve", "--host", "0.0.0.0"]
    check = healthcheck_shell("api").replace("8000", port)
    path = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    proc = start([*VIDX, *argv], env, tmp_path / "api.log", ready="Application startup complete")
    try:
        ok = subprocess.run(["sh", "-c", check], env={**env, "PATH": path}, timeout=30)
        assert ok.returncode == 0
    finally:
        stop(proc)
    down = subprocess.run(["sh", "-c", check], env={**env, "PATH": path}, capture_output=True)
    assert down.returncode != 0  # the check does fail when nothing answers
