"""Rich progress bars for the CLI: one bar per pipeline step, only on a terminal."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)


class RichReporter:
    def __init__(self, console: Console, enabled: bool) -> None:
        self._progress = Progress(
            TextColumn("{task.description:<22}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=not enabled,
            transient=False,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> RichReporter:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.done()
        self._progress.stop()

    def step(self, name: str, total: float | None = None) -> None:
        self.done()
        self._task = self._progress.add_task(name, total=1.0 if total is not None else None)

    def advance(self, fraction: float) -> None:
        if self._task is not None:
            self._progress.update(self._task, completed=min(max(fraction, 0.0), 1.0))

    def done(self) -> None:
        if self._task is not None:
            self._progress.update(self._task, total=1.0, completed=1.0)
            self._task = None
