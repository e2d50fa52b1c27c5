"""`vidx clips` rows on a terminal and in a pipe: the mode that made each clip, its codec
and its note are there."""

from __future__ import annotations

import io

from rich.console import Console

from worker.cli.output import clip_lines

ROWS = [
    {"kind": "shot", "index": 0, "path": "/c/a_shot_0000.mp4", "mode": "accurate",
     "codec": "h264", "note": "smart: fell back to accurate: variable frame rate"},
    {"kind": "shot", "index": 1, "path": "/c/a_shot_0001.mp4", "mode": "copy",
     "codec": "h264", "note": None, "drift_ms": 40},
]  # fmt: skip


def test_terminal_rows() -> None:
    buf = io.StringIO()
    clip_lines(Console(file=buf, force_terminal=True, width=200, color_system=None), ROWS)
    assert buf.getvalue().splitlines() == [
        "shot        0  accurate h264   /c/a_shot_0000.mp4"
        "  (smart: fell back to accurate: variable frame rate)",
        "shot        1  copy     h264   /c/a_shot_0001.mp4  (starts 40 ms early)",
    ]


def test_piped_rows() -> None:
    buf = io.StringIO()
    clip_lines(Console(file=buf, force_terminal=False, width=40), ROWS)
    assert [ln.split("\t") for ln in buf.getvalue().splitlines()] == [
        ["shot", "0", "/c/a_shot_0000.mp4", "", "accurate", "h264",
         "smart: fell back to accurate: variable frame rate"],
        ["shot", "1", "/c/a_shot_0001.mp4", "starts 40 ms early", "copy", "h264", ""],
    ]  # fmt: skip
