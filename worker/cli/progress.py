"""Rich progress rows for the CLI, on stderr and only on a terminal: one row per pipeline
step, one row counting a video's clips across all its batches (`37/120 clips`)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text


class _Amount(ProgressColumn):
    """`37/120 clips` for a count, `42%` for a fraction, nothing while unknown."""

    def render(self, task: Task) -> Text:
        unit = task.fields.get("unit")
        if unit and task.total is not None:
            return Text(f"{int(task.completed)}/{int(task.total)} {unit}")
        if task.total is None:
            return Text("")
        return Text(f"{task.percentage:>3.0f}%")


class RichReporter:
    """A `worker.progress.Reporter` drawing rich rows. `on_analysed(video_id)` runs once,
    between the analysis rows and the clip rows, with no live display: what it prints
    (the run's analysis summary) lands between them."""

    def __init__(
        self,
        console: Console,
        enabled: bool,
        on_analysed: Callable[[str], None] | None = None,
    ) -> None:
        self._console = console
        self._enabled = enabled
        self._on_analysed = on_analysed
        self._announced = False
        self._progress = self._new_progress()
        self._task: TaskID | None = None
        self._name: str | None = None  # the open row's step name
        self._counting = False
        self._last: tuple[str, TaskID] | None = None  # the row closed last

    def _new_progress(self) -> Progress:
        return Progress(
            TextColumn("{task.description:<22}"),
            BarColumn(),
            _Amount(),
            TimeElapsedColumn(),
            console=self._console,
            disable=not self._enabled,
            transient=False,
            # stdout written while the rows are live goes above them when both are the
            # terminal; stdout to a file or pipe is left alone
            redirect_stdout=sys.stdout.isatty(),
        )

    def __enter__(self) -> RichReporter:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:  # a failed step's row keeps the point it reached
            self.done()
        self._progress.stop()

    def step(self, name: str, total: float | None = None) -> None:
        self.done()
        if self._last is not None and self._last[0] == name:
            # the same step again at once (a job start finding the analysis just made):
            # it goes on in its row instead of a second row at 100% in no time
            self._open(name, self._last[1], counting=False)
            return
        task = self._progress.add_task(name, total=1.0 if total is not None else None)
        self._open(name, task, counting=False)

    def advance(self, fraction: float) -> None:
        if self._task is not None and not self._counting:
            done = self._progress.tasks[self._index(self._task)].completed
            self._progress.update(self._task, completed=max(done, min(max(fraction, 0.0), 1.0)))

    def count(self, name: str, total: int) -> None:
        if self._task is not None and self._counting and self._name == name:
            return  # another batch of the same count
        self.done()
        self._open(name, self._progress.add_task(name, total=total, unit=name), counting=True)

    def add(self, n: int) -> None:
        if self._task is not None and self._counting:
            self._progress.update(self._task, advance=n)

    def analysed(self, video_id: str) -> None:
        if self._announced:
            return
        self._announced = True
        if self._on_analysed is None:
            return
        self.done()
        self._progress.stop()
        self._on_analysed(video_id)
        self._last = None
        self._progress = self._new_progress()
        self._progress.start()

    def done(self) -> None:
        if self._task is None or self._name is None:
            return
        task = self._progress.tasks[self._index(self._task)]
        total = task.total if task.total is not None else 1.0
        self._progress.update(self._task, total=total, completed=total)
        self._last = (self._name, self._task)
        self._task = None
        self._name = None
        self._counting = False

    def _open(self, name: str, task: TaskID, counting: bool) -> None:
        self._task, self._name, self._counting = task, name, counting

    def _index(self, task: TaskID) -> int:
        return next(i for i, t in enumerate(self._progress.tasks) if t.id == task)
