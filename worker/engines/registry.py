"""Build the engine a setting names; clients are made here, never at import time."""

from __future__ import annotations

from worker.config import Settings
from worker.engines.port import Engine
from worker.errors import VidxError

ENGINES = ("local", "aws")


def make_engine(name: str, settings: Settings) -> Engine:
    if name == "local":
        from worker.engines.local.engine import LocalEngine

        return LocalEngine(settings.results_dir / "local")
    if name == "aws":
        raise VidxError("the aws engine is not available yet (see README: Not done yet)")
    raise VidxError(f"unknown engine {name!r} (choose from: {', '.join(ENGINES)})")
