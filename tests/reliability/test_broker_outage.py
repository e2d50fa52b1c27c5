"""`vidx worker` (the compose command) through Redis outages, and when it is stuck.

A private redis-server (tests/reliability/redis_server.py) is killed and started again on
the same port while the worker holds an unacknowledged task: its pool processes are
SIGSTOPped before the submit, so the task it received is still running (not acked) when
the broker goes, every time. On celery/kombu 5.7.0 that crashed the worker on the first
outage ("Restoring 1 unacknowledged message(s)", then AttributeError: 'NoneType' object
has no attribute 'hostname'; worker/broker.py has the story).

Waits poll for events in the worker's log or for a command's answer; their deadlines are
failure bounds only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.compose import healthcheck_shell, vidx_argv
from tests.e2e_support import VIDX, clean_env, pg_schema_url, start, stop, vidx, wait_status
from tests.reliability.redis_server import RedisServer, redis_server

pytestmark = [pytest.mark.integration, pytest.mark.slow]

__all__ = ["pg_schema_url"]  # the fixture, for this module

OUTAGES = 3  # each one a delivered, unacked message: 5.7.0 crashed at the first, 3 of 3 runs
DEADLINE_S = 120.0  # bound on any one wait (reconnects back off to 30 s between tries)
STALE_AGE_S = 8  # `vidx health worker --max-age`: well over the 2 s heartbeat period


@dataclass
class Worker:
    proc: subprocess.Popen[bytes]
    log: Path
    env: dict[str, str]
    redis: RedisServer
    root: Path
    videos: int = field(default=0)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def count(self, needle: str) -> int:
        return self.text().count(needle)

    def wait(
        self, what: str, ok: Callable[[], bool], timeout_s: float = DEADLINE_S, every_s: float = 0.2
    ) -> None:
        deadline = time.monotonic() + timeout_s
        while not ok():
            assert time.monotonic() < deadline, f"{what}: not within {timeout_s} s\n{self.tail()}"
            time.sleep(every_s)

    def wait_health(self, passing: bool) -> subprocess.CompletedProcess[str]:
        """Run `vidx health worker` (about once a second) until it passes or fails."""
        last: list[subprocess.CompletedProcess[str]] = []

        def answered() -> bool:
            last[:] = [self.health(STALE_AGE_S)]
            return (last[0].returncode == 0) is passing

        self.wait(f"health check {'passing' if passing else 'failing'}", answered, every_s=1.0)
        return last[0]

    def wait_log(self, needle: str, at_least: int) -> None:
        what = f"{at_least}x {needle!r} in the worker log"
        self.wait(what, lambda: self.count(needle) >= at_least)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, chars: int = 6000) -> str:
        return f"worker exit status: {self.proc.poll()}\n{self.text()[-chars:]}"

    def pool(self) -> list[int]:
        """The worker's child processes: its prefork pool."""
        return children(self.proc.pid)

    def health(self, max_age: float) -> subprocess.CompletedProcess[str]:
        return vidx(["health", "worker", "--max-age", str(max_age)], self.env, timeout=60)

    def compose_healthcheck(self) -> subprocess.CompletedProcess[str]:
        """docker-compose.yml's worker healthcheck, run as the container runs it."""
        env = {
            **self.env,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{self.env.get('PATH', '')}",
            "HOSTNAME": socket.gethostname(),
        }
        return subprocess.run(
            ["sh", "-c", healthcheck_shell("worker")],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def submit_new_video(self) -> str:
        """A video with content no earlier submit had (a new id, so new work is queued)."""
        self.videos += 1
        path = self.root / f"v{self.videos}.mp4"
        made = subprocess.run(
            ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
             f"testsrc2=size=160x120:rate=10:duration={1 + self.videos / 10}",
             "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        sub = vidx(["submit", str(path), "--clips", "none"], self.env)
        assert sub.returncode == 0, sub.stderr
        return sub.stdout.strip()


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def signal_all(pids: list[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def start_worker(root: Path, redis: RedisServer, database_url: str, **settings: str) -> Worker:
    env = clean_env(
        broker_url=redis.url(0), database_url=database_url, data_dir=str(root / "data"), **settings
    )
    migrate = vidx(vidx_argv("migrate"), env)
    assert migrate.returncode == 0, migrate.stderr
    log = root / "worker.log"
    proc = start(VIDX + vidx_argv("worker"), env, log, "ready.", timeout_s=DEADLINE_S)
    return Worker(proc, log, env, redis, root)


@pytest.fixture(scope="module")
def worker(pg_schema_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    root = tmp_path_factory.mktemp("outage")
    with redis_server(root / "redis") as server:
        w = start_worker(root, server, pg_schema_url)
        try:
            yield w
        finally:
            signal_all([w.proc.pid, *w.pool()], signal.SIGCONT)
            stop(w.proc)


def test_worker_survives_broker_outages_with_unacked_tasks(worker: Worker) -> None:
    ok = worker.compose_healthcheck()
    assert ok.returncode == 0, ok.stdout + ok.stderr + worker.tail()
    for n in range(1, OUTAGES + 1):
        pool = worker.pool()
        assert pool, f"no pool processes\n{worker.tail()}"
        signal_all(pool, signal.SIGSTOP)  # what the worker receives now stays unacked
        received = worker.count("] received")
        try:
            worker.submit_new_video()
            worker.wait_log("] received", received + 1)

            worker.redis.kill()
            worker.wait_log("Connection to broker lost", n)
            # while the broker is gone the consumer's heartbeat stops: the check fails
            stale = worker.wait_health(passing=False)
            assert "worker: last heartbeat" in stale.stderr, stale.stderr
            assert worker.alive(), f"outage {n}: the worker died\n{worker.tail()}"

            worker.redis.start()
            worker.wait_log("Connected to", n + 1)  # the first was at startup
        finally:
            signal_all(pool, signal.SIGCONT)  # the task runs on, then acks (or fails to)
        worker.wait_health(passing=True)
        assert worker.alive(), f"outage {n}: the worker died\n{worker.tail()}"

    log = worker.text()
    # each outage hit a delivered, unacknowledged message: the case that crashed 5.7.0
    assert log.count("unacknowledged message(s)") >= OUTAGES, worker.tail()
    assert "Unrecoverable error" not in log, worker.tail()
    assert "AttributeError" not in log, worker.tail()

    # and it still does new work: a video submitted now gets indexed
    video_id = worker.submit_new_video()
    status = wait_status(video_id, worker.env, "INDEXED", DEADLINE_S, [worker.log])
    assert status["features"]["segments"]["status"] == "SUCCEEDED"
    ok = worker.compose_healthcheck()
    assert ok.returncode == 0, ok.stdout + ok.stderr + worker.tail()


def test_a_frozen_worker_fails_its_health_check(worker: Worker) -> None:
    """Its event loop not running (the whole process stopped): the heartbeat ages out."""
    worker.wait_health(passing=True)
    os.kill(worker.proc.pid, signal.SIGSTOP)
    try:
        failed = worker.wait_health(passing=False)
        lines = failed.stderr.strip().splitlines()
        assert len(lines) == 1 and "worker: last heartbeat" in lines[0], failed.stderr
    finally:
        os.kill(worker.proc.pid, signal.SIGCONT)
    worker.wait_health(passing=True)


def test_worker_shuts_down_cleanly_on_sigterm(worker: Worker) -> None:
    # after the outages (when run in order); a warm shutdown: status 0, nothing stuck
    assert worker.alive(), worker.tail()
    rc = stop(worker.proc, grace_s=DEADLINE_S)
    assert rc == 0, f"SIGTERM: exit status {rc}\n{worker.tail()}"
    assert "exiting so that it is restarted" not in worker.text()


def test_a_worker_stuck_on_a_hung_broker_exits_to_be_restarted(
    pg_schema_url: str, tmp_path: Path
) -> None:
    """Redis stops answering (SIGSTOP) with the connection open: no heartbeat from then
    on, and past VIDX_WORKER_STALL_S the watchdog ends the process, non-zero, one line."""
    with redis_server(tmp_path / "redis") as server:
        w = start_worker(tmp_path, server, pg_schema_url, worker_stall_s="10")
        try:
            w.wait_health(passing=True)
            pool = w.pool()
            server.freeze()
            w.wait("the worker exiting", lambda: not w.alive(), timeout_s=2 * DEADLINE_S)
            assert w.proc.returncode == 70, w.tail()
            lines = [ln for ln in w.text().splitlines() if "exiting so that it is restarted" in ln]
            assert len(lines) == 1, w.tail()
            assert lines[0].startswith("vidx: error: worker: "), lines[0]
            assert "VIDX_WORKER_STALL_S=10" in lines[0], lines[0]
            # and it took its pool processes with it
            w.wait("pool processes gone", lambda: not any(running(pid) for pid in pool))
        finally:
            server.thaw()
            stop(w.proc)


def test_sigterm_stops_a_worker_whose_broker_hangs(pg_schema_url: str, tmp_path: Path) -> None:
    """The other half of "SIGTERM ignored": with Redis frozen the worker's broker calls
    time out (socket_timeout) instead of blocking its event loop and its warm shutdown
    for good; the default VIDX_WORKER_STALL_S (300 s) is not what ends it here."""
    with redis_server(tmp_path / "redis") as server:
        w = start_worker(tmp_path, server, pg_schema_url)
        try:
            w.wait_health(passing=True)
            server.freeze()
            w.wait_health(passing=False)  # stuck on the broker: no heartbeat
            rc = stop(w.proc, grace_s=DEADLINE_S)
            assert rc == 0, f"SIGTERM: exit status {rc}\n{w.tail()}"
            assert "exiting so that it is restarted" not in w.text()
        finally:
            server.thaw()
            stop(w.proc)
