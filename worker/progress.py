"""Progress reporting without threading callbacks through Celery task signatures.

The CLI sets a reporter for the current context; pipeline steps report to whatever
is set (nothing, in a worker process). Eager tasks run in the caller's context.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol


class Reporter(Protocol):
    def step(self, name: str, total: float | None = None) -> None: ...

    def advance(self, fraction: float) -> None: ...

    def done(self) -> None: ...


class _Null:
    def step(self, name: str, total: float | None = None) -> None:
        pass

    def advance(self, fraction: float) -> None:
        pass

    def done(self) -> None:
        pass


_NULL = _Null()
_current: ContextVar[Reporter] = ContextVar("vidx_progress")


def reporter() -> Reporter:
    return _current.get(_NULL)


@contextmanager
def reporting(rep: Reporter) -> Iterator[Reporter]:
    token = _current.set(rep)
    try:
        yield rep
    finally:
        _current.reset(token)
