"""Run ffmpeg commands to completion, or stop them: no orphaned encoder, one clear error."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from worker.errors import MediaToolError


def run_ffmpeg(command: list[str], src: Path, timeout_s: float, doing: str) -> None:
    """Run `command`; `doing` names the work in errors ("cutting", "transcoding")."""
    run_ffmpeg_together([command], src, timeout_s, doing)


def run_ffmpeg_together(
    commands: Sequence[list[str]], src: Path, timeout_s: float, doing: str
) -> None:
    """Run `commands` side by side, one process each, all within `timeout_s`. The first
    failure (in command order) is raised once every process has ended; a timeout or an
    interruption (KeyboardInterrupt, a cancelled task) stops them all.

    One ffmpeg process keeps about 1.3 of 2 cores busy on short cuts (its demuxing,
    filtering and muxing run on one thread), so independent work splits into two."""
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for command in commands:
            procs.append(_start(command, src))
        deadline = time.monotonic() + timeout_s
        failures: list[str] = []
        for proc in procs:
            try:
                _, stderr = proc.communicate(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                raise MediaToolError(
                    f"{src}: {doing} took over {timeout_s:.0f} s, stopped"
                ) from None
            if proc.returncode != 0:
                failures.append(_reason(proc.returncode, stderr))
        if failures:
            raise MediaToolError(f"{src}: {doing} failed: {failures[0]}")
    except BaseException:
        for proc in procs:
            _stop(proc)
        raise


def _start(command: list[str], src: Path) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
    except OSError as exc:
        raise MediaToolError(f"{src}: cannot run ffmpeg: {exc.strerror}") from None


def _reason(returncode: int, stderr: bytes) -> str:
    if returncode < 0:
        return f"ffmpeg was killed by signal {-returncode}"
    lines = stderr.decode("utf-8", "replace").strip().splitlines()
    return lines[-1] if lines else f"exit status {returncode}"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.kill()  # a no-op for a process that has already ended
    proc.wait()
