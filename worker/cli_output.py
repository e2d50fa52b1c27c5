"""Rendering of read-side results for the terminal: table, JSON, CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from worker.query import QueryRow
from worker.timecode import format_hms

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


def dumps(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False)


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


def timeline_csv(doc: dict[str, Any]) -> str:
    """One row per range of every kind, in time order."""
    buf = io.StringIO()
    fields = ["kind", "name", "index", "start_ms", "end_ms", "confidence"]
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    rows: list[dict[str, Any]] = []
    rows += [
        {
            "kind": "shot",
            "name": "Shot",
            "index": s["index"],
            "confidence": s["confidence"],
            **_se(s),
        }
        for s in doc["shots"]
    ]
    rows += [
        {"kind": "cue", "name": c["type"], "index": "", "confidence": c["confidence"], **_se(c)}
        for c in doc["technical_cues"]
    ]
    for kind, key in (("label", "labels"), ("moderation", "moderation"), ("face", "faces")):
        rows += [
            {
                "kind": kind,
                "name": x.get("name", "Face"),
                "index": "",
                "confidence": x["max_confidence"],
                **_se(x),
            }
            for x in doc[key]
        ]
    rows.sort(key=lambda r: (r["start_ms"], r["kind"]))
    writer.writerows(rows)
    return buf.getvalue()


def _se(x: dict[str, Any]) -> dict[str, Any]:
    return {"start_ms": x["start_ms"], "end_ms": x["end_ms"]}
