"""Run one ffmpeg command to completion, or stop it: no orphaned encoder, one clear error."""

from __future__ import annotations

import subprocess
from pathlib import Path

from worker.errors import MediaToolError


def run_ffmpeg(command: list[str], src: Path, timeout_s: float, doing: str) -> None:
    """Run `command`; `doing` names the work in errors ("cutting", "transcoding")."""
    try:
        proc = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
    except OSError as exc:
        raise MediaToolError(f"{src}: cannot run ffmpeg: {exc.strerror}") from None
    try:
        _, stderr = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _stop(proc)
        raise MediaToolError(f"{src}: {doing} took over {timeout_s:.0f} s, stopped") from None
    except BaseException:  # KeyboardInterrupt, a cancelled task: stop ffmpeg, go on raising
        _stop(proc)
        raise
    if proc.returncode != 0:
        lines = stderr.decode("utf-8", "replace").strip().splitlines()
        reason = lines[-1] if lines else f"exit status {proc.returncode}"
        if proc.returncode < 0:
            reason = f"ffmpeg was killed by signal {-proc.returncode}"
        raise MediaToolError(f"{src}: {doing} failed: {reason}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.kill()
    proc.wait()
