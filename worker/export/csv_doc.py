"""One CSV row per range of every kind, in time order (moved unchanged from cli_output)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

FIELDS = ["kind", "name", "index", "start_ms", "end_ms", "confidence"]


def write_csv(doc: Mapping[str, Any]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
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


def _se(x: Mapping[str, Any]) -> dict[str, Any]:
    return {"start_ms": x["start_ms"], "end_ms": x["end_ms"]}
