"""Content hash of a media file: the identity that makes retried jobs idempotent."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

CHUNK_BYTES = 1 << 20  # 1 MiB: large enough for throughput, small enough for steady progress

Progress = Callable[[int, int], None]  # (bytes hashed so far, total bytes)


def sha256_file(path: Path, progress: Progress | None = None) -> str:
    """Hex SHA-256 of the file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        total = os.fstat(f.fileno()).st_size
        done = 0
        while chunk := f.read(CHUNK_BYTES):
            digest.update(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, total)
    return digest.hexdigest()
