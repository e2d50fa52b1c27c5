"""Development programmes built on first use: `ensure(name)` returns the path of the built
file, building it into the cache directory when it is missing or was built by other code.

    from benchmarks.media import ensure, NAMES, load_truth
    path = ensure("logo_titles_720p25")          # <cache>/logo_titles_720p25.mp4
    truth = load_truth("logo_titles_720p25")     # the committed media-truth/1 (+ text)

The cache directory is $VIDX_DEV_MEDIA, else <repo>/test-artifacts/dev-media (git-ignored).
Each built file has a stamp (NAME.build.json) naming the programme and the generator's
fingerprint (its code and the ffmpeg version); a file without one, or whose stamp differs, is
rebuilt. A lock file
serialises builds of the same programme across processes (pytest-xdist workers). See
README.md here.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.media import make_programmes as _mp
from benchmarks.media.render import MediaError

NAMES: tuple[str, ...] = tuple(_mp.PROGRAMMES)
load_truth = _mp.load_truth
cache_dir = _mp.default_dir


class DevMediaError(RuntimeError):
    """A programme could not be built, or the built file does not match its truth."""


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def ensure(name: str, directory: Path | None = None) -> Path:
    """The built programme `name` (one of NAMES), built first if needed; its frame count,
    duration, size and rate are checked against the committed truth (container facts, no
    decode: check.verify decodes)."""
    if name not in _mp.PROGRAMMES:
        raise DevMediaError(f"unknown programme {name!r}; known: {', '.join(NAMES)}")
    truth = load_truth(name)
    out_dir = directory or cache_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    path: Path = out_dir / truth["file"]
    try:
        with _locked(out_dir / f"{name}.lock"):
            if not _mp.is_current(name, path):
                _mp.build(name, path)
        problems = _mp.probe_problems(path, truth)
    except MediaError as e:
        raise DevMediaError(f"dev programme {name}: {e}") from e
    if problems:
        raise DevMediaError(f"{path} does not match its truth: " + "; ".join(problems))
    return path
