"""The CLI's progress rows as a terminal shows them at the end (tests/terminal.py)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from rich.console import Console

from tests.terminal import screen
from worker.cli.progress import RichReporter


def shown(drive: Callable[[RichReporter], None], enabled: bool = True) -> list[str]:
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=100, color_system=None)

    def summary(video_id: str) -> None:
        console.print(f"summary of {video_id}")

    try:
        with RichReporter(console, enabled=enabled, on_analysed=summary) as rep:
            drive(rep)
    except RuntimeError:
        pass
    return screen(buf.getvalue())


def names(rows: list[str]) -> list[str]:
    return [r.split()[0] if r.split() else "" for r in rows]


def a_run(rep: RichReporter) -> None:
    rep.step("probe")
    rep.step("segments", total=1.0)
    rep.advance(0.5)
    rep.step("collect segments")
    rep.analysed("v1")
    rep.count("clips", 6)  # the planner: every clip of the video
    for batch in (1, 3, 2):  # each batch opens its own count of the same name
        rep.count("clips", batch)
        rep.add(batch)
    rep.step("thumbnails")
    rep.analysed("v1")  # said once only


def test_one_clips_row_over_batches_after_the_summary() -> None:
    rows = shown(a_run)
    assert names(rows) == ["probe", "segments", "collect", "summary", "clips", "thumbnails"]
    [clips] = [r for r in rows if r.startswith("clips")]
    assert "6/6 clips" in clips
    assert rows[3] == "summary of v1"


def test_a_step_repeated_at_once_stays_one_row() -> None:
    def drive(rep: RichReporter) -> None:
        rep.step("segments", total=1.0)  # the analysis
        rep.advance(1.0)
        rep.step("segments", total=1.0)  # the job start that finds its result
        rep.advance(0.0)
        rep.step("collect segments")

    rows = shown(drive)
    assert names(rows) == ["segments", "collect"]
    assert rows[0].split()[-2] == "100%"


def test_clips_cut_without_a_planner_count_their_own() -> None:
    def drive(rep: RichReporter) -> None:
        rep.count("clips", 4)
        rep.add(1)
        rep.add(3)

    [row] = shown(drive)
    assert re.search(r"\b4/4 clips\b", row)


def test_a_failure_keeps_the_count_reached() -> None:
    def drive(rep: RichReporter) -> None:
        rep.count("clips", 4)
        rep.add(1)
        raise RuntimeError("ffmpeg died")

    [row] = shown(drive)
    assert "1/4 clips" in row


def test_off_the_terminal_no_rows_but_the_summary() -> None:
    assert shown(a_run, enabled=False) == ["summary of v1"]
