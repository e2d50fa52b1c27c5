"""Helpers for tests that run vidx as real processes against the machine's services."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.conftest import fresh_pg_schema

VIDX = [sys.executable, "-m", "worker"]
REDIS_URL = "redis://127.0.0.1:6379"
LOCK_KEY = "vidx-test:e2e-lock"


def vidx(
    args: list[str], env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(VIDX + args, env=env, capture_output=True, text=True, timeout=timeout)


def clean_env(**vidx_vars: str) -> dict[str, str]:
    """This process's environment without any VIDX_ setting, plus the given ones."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDX_")}
    env.update({f"VIDX_{k.upper()}": v for k, v in vidx_vars.items()})
    return env


def one_error_line(proc: subprocess.CompletedProcess[str], *words: str) -> str:
    assert proc.returncode != 0, proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def broker_db() -> Iterator[int]:
    """A Redis database (not 0) for this module alone, emptied before and after.

    A lock key claims it, so two test sessions on one machine never share a queue (a
    worker would take the other session's tasks, and a flush would drop them).
    """
    token = uuid.uuid4().hex
    for n in [*range(9, 16), *range(1, 9)]:
        client = redis.Redis.from_url(f"{REDIS_URL}/{n}")
        if client.set(LOCK_KEY, token, nx=True, ex=900):
            break
        client.close()
    else:
        pytest.fail("no free Redis database (1-15) for the worker test")
    try:
        # leftovers (e.g. unacked tasks of a killed worker) would be redelivered to ours
        for key in client.scan_iter():
            if key != LOCK_KEY.encode():
                client.delete(key)
        yield n
    finally:
        client.flushdb()
        client.close()


@pytest.fixture(scope="module")
def pg_schema_url(pg_ok: bool) -> Iterator[str]:
    with fresh_pg_schema(pg_ok, "e2e") as url:
        yield url


def stop(proc: subprocess.Popen[bytes], grace_s: float = 30) -> int:
    """SIGTERM (Celery's warm shutdown), then SIGKILL the whole process group."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    return proc.wait(10)


def start(
    args: list[str],
    env: dict[str, str],
    log: Path,
    ready: str,
    timeout_s: float = 30,
) -> subprocess.Popen[bytes]:
    """Start a long-running process (own process group), wait for `ready` in its log."""
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            args, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + timeout_s
    while ready not in log.read_text(errors="replace"):
        if proc.poll() is not None:
            raise AssertionError(f"{args} exited {proc.returncode}:\n{log.read_text()}")
        if time.monotonic() > deadline:
            stop(proc)
            raise AssertionError(f"{args} not ready in {timeout_s} s:\n{log.read_text()}")
        time.sleep(0.2)
    return proc


def wait_status(
    video_id: str, env: dict[str, str], want: str, timeout_s: float, logs: list[Path]
) -> dict[str, Any]:
    """Poll `vidx status` until the video reaches `want` (fails early on FAILED)."""
    deadline = time.monotonic() + timeout_s
    while True:
        st = vidx(["status", video_id, "--json"], env)
        assert st.returncode == 0, st.stderr
        status: dict[str, Any] = json.loads(st.stdout)
        if status["status"] == want:
            return status
        text = "\n".join(p.read_text(errors="replace")[-4000:] for p in logs)
        assert status["status"] == "PROCESSING", f"{status}\n{text}"
        assert time.monotonic() < deadline, f"not {want} in {timeout_s} s: {status}\n{text}"
        time.sleep(0.5)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


__all__ = [
    "REDIS_URL",
    "VIDX",
    "broker_db",
    "clean_env",
    "free_port",
    "one_error_line",
    "pg_schema_url",
    "start",
    "stop",
    "vidx",
    "wait_status",
]
