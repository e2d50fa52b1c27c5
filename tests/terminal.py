"""What a terminal would show for a byte stream: enough VT100 for rich's live display
(cursor up, erase line, carriage return, newline); colours and cursor visibility dropped.

Tests read the final screen instead of the frames a live display drew on the way."""

from __future__ import annotations

import os
import pty
import re
import subprocess
from collections.abc import Mapping, Sequence

_TOKEN = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])|\x1b[()][A-Za-z0-9]|(.)", re.DOTALL)


def screen(raw: str) -> list[str]:
    lines = [""]
    row = col = 0
    for m in _TOKEN.finditer(raw):
        args, cmd, ch = m.group(1), m.group(2), m.group(3)
        if cmd == "A":
            row = max(0, row - int(args or 1))
        elif cmd == "K":
            lines[row] = "" if args == "2" else lines[row][:col]
        elif ch == "\n":
            row, col = row + 1, 0
            if row == len(lines):
                lines.append("")
        elif ch == "\r":
            col = 0
        elif ch is not None and ch.isprintable():
            line = lines[row].ljust(col)
            lines[row] = line[:col] + ch + line[col + 1 :]
            col += 1
    return [line.rstrip() for line in lines if line.strip()]


def run_on_terminal(
    args: Sequence[str], env: Mapping[str, str], stdout_too: bool = True, timeout: float = 900
) -> tuple[int, str, str]:
    """Run with stderr (and stdout, when `stdout_too`) on a pseudo-terminal: (exit status,
    what the terminal got, stdout when it went to a pipe instead)."""
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            list(args),
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=slave if stdout_too else subprocess.PIPE,
            stderr=slave,
        )
    finally:
        os.close(slave)
    got = bytearray()
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the last holder of the terminal's other end has exited
            break
        if not chunk:
            break
        got += chunk
    os.close(master)
    out = proc.stdout.read().decode() if proc.stdout else ""
    code = proc.wait(timeout=timeout)
    return code, got.decode(errors="replace"), out
