"""Rendering of read-side results: tables on a terminal; for a pipe or a file plain
tab-separated lines, never wrapped or cut (scripts read them); JSON; CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from worker.export.json_doc import dumps
from worker.query import QueryRow
from worker.read_json import query_row_json
from worker.read_model import VideoStatus, VideoSummary
from worker.timecode import format_hms

__all__ = [
    "clip_lines",
    "dumps",
    "query_csv",
    "query_table",
    "status_lines",
]  # dumps: one JSON style for every command

QUERY_FIELDS = (
    "video_id",
    "kind",
    "name",
    "parent",
    "start_ms",
    "end_ms",
    "confidence",
    "detections",
)


def query_csv(rows: Sequence[QueryRow]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=QUERY_FIELDS, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow(query_row_json(r))
    return buf.getvalue()


def _tsv(console: Console, cells: Sequence[object]) -> None:
    # one record a line for `cut -f`/`awk -F'\t'`: tabs and newlines in a value are spaces
    line = "\t".join(str(c).replace("\t", " ").replace("\n", " ") for c in cells)
    console.file.write(line + "\n")


def query_table(console: Console, rows: Sequence[QueryRow]) -> None:
    header = ("video", "kind", "name", "start", "end", "confidence", "n")
    cells = [
        (
            r.video_id,
            r.kind,
            r.name,
            format_hms(r.start_ms),
            format_hms(r.end_ms),
            "" if r.confidence is None else f"{r.confidence:.1f}",
            str(r.detections),
        )
        for r in rows
    ]
    if not console.is_terminal:
        _tsv(console, header)
        for row in cells:
            _tsv(console, row)
        return
    table = Table(*header)
    table.columns[0].no_wrap = True  # a video id is never cut: it is what one copies
    table.columns[0].min_width = max((len(r.video_id) for r in rows), default=5)
    for row in cells:
        table.add_row(*row)
    console.print(table)
    console.print(f"{len(rows)} range(s)")


def status_lines(console: Console, items: Sequence[VideoStatus | VideoSummary]) -> None:
    """`vidx status`: a line per video (id, status, feature states, file name), then an
    indented line per job message on a terminal (a fifth column otherwise)."""
    for item in items:
        st, filename = (
            (item.state, item.filename) if isinstance(item, VideoSummary) else (item, None)
        )
        feats = ", ".join(f"{k}={v.status}" for k, v in st.features.items())
        messages = [f"{k}: {v.message}" for k, v in st.features.items() if v.message]
        if not console.is_terminal:
            _tsv(console, (st.video_id, st.status, feats, filename or "", "; ".join(messages)))
            continue
        name = f"  {filename}" if filename is not None else ""
        console.print(f"{st.video_id}  {st.status:<10} {feats}{name}", markup=False)
        for m in messages:
            console.print(f"    {m}", markup=False)


def clip_lines(console: Console, rows: Sequence[dict[str, Any]]) -> None:
    """`vidx clips`: kind, index, path (and how early a copy-mode clip starts), then the
    mode that made the clip, its codec and its note (e.g. why smart fell back)."""
    for r in rows:
        drift = f"starts {r['drift_ms']} ms early" if r.get("drift_ms") else ""
        if not console.is_terminal:
            made = (r["mode"], r["codec"], r["note"] or "")
            _tsv(console, (r["kind"], r["index"], r["path"], drift, *made))
        else:
            extra = "".join(f"  ({x})" for x in (drift, r["note"]) if x)
            line = f"{r['kind']:<8} {r['index']:>4}  {r['mode']:<8} {r['codec']:<6} {r['path']}"
            console.print(f"{line}{extra}", markup=False)
