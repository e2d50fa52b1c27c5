"""One CSV row per range of every kind, in time order (moved unchanged from cli_output)."""

from __future__ import annotations

import csv
import io

from worker.read_model import Timeline

FIELDS = ["kind", "name", "index", "start_ms", "end_ms", "confidence"]

# (kind, name, index, start_ms, end_ms, confidence)
Row = tuple[str, str, int | str, int, int, float | None]


def write_csv(tl: Timeline) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(FIELDS)
    rows: list[Row] = [
        ("shot", "Shot", s.index, s.start_ms, s.end_ms, s.confidence) for s in tl.shots
    ]
    rows += [("cue", c.type, "", c.start_ms, c.end_ms, c.confidence) for c in tl.technical_cues]
    rows += [("label", x.name, "", x.start_ms, x.end_ms, x.max_confidence) for x in tl.labels]
    rows += [
        ("moderation", x.name, "", x.start_ms, x.end_ms, x.max_confidence) for x in tl.moderation
    ]
    rows += [("face", "Face", "", x.start_ms, x.end_ms, x.max_confidence) for x in tl.faces]
    rows += [("text", x.name, "", x.start_ms, x.end_ms, x.max_confidence) for x in tl.text]
    rows.sort(key=lambda r: (r[3], r[0]))  # by start, then kind: a stable sort keeps the rest
    writer.writerows(rows)
    return buf.getvalue()
