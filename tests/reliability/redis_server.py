"""A private redis-server for outage tests: start, kill, restart on the same port.

Never the machine's Redis on 6379 (other tests use it): each RedisServer picks a free port
and a directory of its own. Ready means it answers PING, checked by polling with a deadline
(a failure bound, never a sleep standing in for the event).
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from tests.e2e_support import free_port

READY_TIMEOUT_S = 30.0


class RedisServer:
    """One redis-server process on 127.0.0.1:`port`, working in `workdir`.

    `persist=False` keeps nothing across a restart (a fresh broker); `persist=True` writes
    an append-only file flushed on every write, so a killed server comes back with its
    queues (a crash, not a wipe).
    """

    def __init__(self, workdir: Path, port: int | None = None, persist: bool = False) -> None:
        if shutil.which("redis-server") is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.workdir = workdir
        self.port = port or free_port()
        self.persist = persist
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        workdir.mkdir(parents=True, exist_ok=True)

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    @property
    def log(self) -> Path:
        return self.workdir / "redis.log"

    def argv(self) -> list[str]:
        durable = ["--appendonly", "yes", "--appendfsync", "always"] if self.persist else []
        return [
            "redis-server",
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.workdir),
            "--logfile", str(self.log),
            "--save", "",
            "--appendonly", "no",
            *durable,  # later options win
        ]  # fmt: skip

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.proc = subprocess.Popen(
            self.argv(), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        self.starts += 1
        self.wait_ready()

    def wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout_s
        while not self.ping():
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited {self.proc.returncode}: {self.tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server on {self.port} not ready: {self.tail()}")
            time.sleep(0.05)

    def ping(self) -> bool:
        client = redis.Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def kill(self) -> None:
        """An outage: SIGKILL, no goodbye to the clients; returns once the port is closed."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)
        assert not self.ping(), f"something else answers on port {self.port}"

    def freeze(self) -> None:
        """A hung broker: SIGSTOP. Connections stay open, nothing answers."""
        assert self.proc is not None and self.proc.poll() is None, "not running"
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)

    def restart(self) -> None:
        self.kill()
        self.start()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.thaw()
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def tail(self, chars: int = 2000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return "(no log)"


@contextmanager
def redis_server(workdir: Path, persist: bool = False) -> Iterator[RedisServer]:
    """A started private RedisServer, stopped afterwards."""
    server = RedisServer(workdir, persist=persist)
    server.start()
    try:
        yield server
    finally:
        server.stop()
