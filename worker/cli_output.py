"""Rendering of read-side results for the terminal: table, JSON, CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from worker.export.json_doc import dumps
from worker.query import QueryRow
from worker.timecode import format_hms

__all__ = ["dumps", "query_csv", "query_table"]  # dumps: one JSON style for every command

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
        writer.writerow(r.as_dict())
    return buf.getvalue()


def query_table(console: Console, rows: Sequence[QueryRow]) -> None:
    table = Table("video", "kind", "name", "start", "end", "confidence", "n")
    for r in rows:
        conf = "" if r.confidence is None else f"{r.confidence:.1f}"
        table.add_row(
            r.video_id,
            r.kind,
            r.name,
            format_hms(r.start_ms),
            format_hms(r.end_ms),
            conf,
            str(r.detections),
        )
    console.print(table)
    console.print(f"{len(rows)} range(s)")
