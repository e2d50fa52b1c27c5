"""docker-compose.yml read the way `docker compose` reads it, for the tests that check it."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
ENV_EXAMPLE = REPO / ".env.example"
VIDX_IMAGE = "vidx:latest"


def load_compose() -> dict[str, Any]:
    # SafeLoader resolves the `<<: *vidx` merge keys like compose does
    doc = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(doc, dict), f"{COMPOSE_FILE}: not a mapping"
    return doc


def services() -> dict[str, dict[str, Any]]:
    svcs = load_compose()["services"]
    assert isinstance(svcs, dict)
    return svcs


def vidx_services() -> dict[str, dict[str, Any]]:
    """Services running the vidx image (its ENTRYPOINT is `vidx`)."""
    return {n: s for n, s in services().items() if s.get("image") == VIDX_IMAGE or "build" in s}


def as_argv(command: str | list[str]) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else [str(a) for a in command]


def vidx_argv(service: str) -> list[str]:
    """The `vidx` arguments a vidx service runs (its compose `command`)."""
    return as_argv(vidx_services()[service]["command"])


def healthcheck_shell(service: str) -> str:
    """The service's healthcheck as a shell command line, `$$` unescaped as compose does."""
    test = services()[service]["healthcheck"]["test"]
    if isinstance(test, str):
        return test.replace("$$", "$")
    kind, *rest = test
    if kind == "CMD-SHELL":
        return " ".join(rest).replace("$$", "$")
    assert kind == "CMD", f"healthcheck of {service}: unknown form {kind!r}"
    return shlex.join(a.replace("$$", "$") for a in rest)


def env_example() -> dict[str, str]:
    pairs: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{ENV_EXAMPLE}: not KEY=VALUE: {line!r}"
        pairs[key.strip()] = value.strip()
    return pairs
