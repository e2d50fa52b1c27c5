"""Liveness files for long-running processes (`vidx worker`, `vidx poll`, `vidx beat`).

Each process touches `<data dir>/heartbeats/<name>` as it makes progress; `vidx health
NAME` (the compose healthcheck) fails when the file is older than allowed. A file, not
a port: these processes serve nothing, and a hung loop stops touching it. The worker's
file carries the host name (worker/liveness.py).
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

NAMES = ("worker", "poll", "beat")


def path(data_dir: Path, name: str) -> Path:
    if name == "worker":
        # per host: compose may scale the worker to replicas sharing the data volume, and
        # each container's healthcheck must see its own worker, not a healthy sibling
        name = f"worker@{socket.gethostname()}"
    return data_dir / "heartbeats" / name


def beat(data_dir: Path, name: str) -> None:
    target = path(data_dir, name)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.touch()


def age_s(data_dir: Path, name: str) -> float | None:
    try:
        return time.time() - path(data_dir, name).stat().st_mtime
    except FileNotFoundError:
        return None
