"""Fixtures of the fault suite: a real-process stack per module, distinct tiny videos.

A module sets `STACK_OPTIONS = StackOptions(...)` to change the stack it gets.
VIDX_FAULTS_CODE=/path/to/an/exported/tree runs the vidx processes from that tree (the
suite against an older commit: `git archive <rev> | tar -x -C /tmp/old`).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import fresh_pg_schema
from tests.reliability.stack import Stack, StackOptions, VideoFactory


@pytest.fixture(scope="module")
def stack(
    request: pytest.FixtureRequest, pg_ok: bool, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    options = getattr(request.module, "STACK_OPTIONS", StackOptions())
    if code := os.environ.get("VIDX_FAULTS_CODE"):
        options = dataclasses.replace(options, code=Path(code))
    root = tmp_path_factory.mktemp("stack")
    with fresh_pg_schema(pg_ok, options.label) as url:
        running = Stack(root, url, options).start()
        try:
            yield running
        finally:
            running.close()


@pytest.fixture(scope="session")
def videos(tmp_path_factory: pytest.TempPathFactory) -> VideoFactory:
    return VideoFactory(tmp_path_factory.mktemp("videos"))
