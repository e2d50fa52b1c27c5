"""Writing an export to a file without ever leaving half of it behind."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from worker.errors import VidxError


def write_atomic(path: Path, text: str) -> None:
    """Write `text` (UTF-8) to a temporary file beside `path`, then rename it over `path`.

    A failure (disk full, interrupt) leaves any previous file untouched and no temporary.
    """
    if path.is_dir():
        raise VidxError(f"{path}: is a directory, not a file to write")
    if not path.parent.is_dir():
        raise VidxError(f"{path}: no such directory {str(path.parent)!r}")
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        # os.open applies the umask, so the result gets the same mode as a plain write
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
    except OSError as exc:
        raise VidxError(f"{path}: cannot write: {exc.strerror or exc}") from None
    except UnicodeEncodeError as exc:
        # e.g. a file name with undecodable bytes carried into the text
        raise VidxError(f"{path}: cannot write: {exc.reason} at character {exc.start}") from None
    finally:
        tmp.unlink(missing_ok=True)
