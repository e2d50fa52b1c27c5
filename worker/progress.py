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
    def step(self, name: str, total: float | None = None) -> None:
        """A new step; `total` given: it reports a fraction done with `advance`."""

    def advance(self, fraction: float) -> None: ...

    def count(self, name: str, total: int) -> None:
        """A step counting `total` things (`37/120 clips`) with `add`; while a count of
        the same name is open it goes on (the clip batches of one video share one)."""

    def add(self, n: int) -> None: ...

    def analysed(self, video_id: str) -> None:
        """The video's analysis is done and stored; its clips are cut next."""

    def done(self) -> None: ...


class _Null:
    def step(self, name: str, total: float | None = None) -> None:
        pass

    def advance(self, fraction: float) -> None:
        pass

    def count(self, name: str, total: int) -> None:
        pass

    def add(self, n: int) -> None:
        pass

    def analysed(self, video_id: str) -> None:
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
