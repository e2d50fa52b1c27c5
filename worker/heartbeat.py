"""Liveness files for long-running processes (`vidx poll`, `vidx beat`).

Each process touches `<data dir>/heartbeats/<name>` as it makes progress; `vidx health
NAME` (the compose healthcheck) fails when the file is older than allowed. A file, not
a port: these processes serve nothing, and a hung loop stops touching it.
"""

from __future__ import annotations

import time
from pathlib import Path

NAMES = ("poll", "beat")


def path(data_dir: Path, name: str) -> Path:
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
