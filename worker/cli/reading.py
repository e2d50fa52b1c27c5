"""Reading commands: `vidx status`, `vidx timeline`, `vidx query`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from worker.cli import output as out
from worker.cli.common import (
    ID_HELP,
    console,
    format_option,
    json_alias,
    print_json,
    ready_context,
    wants_json,
)
from worker.errors import VidxError
from worker.query import QUERY_KINDS, QueryFilter, list_videos, search, timeline, video_status
from worker.read_json import query_row_json, status_json, summary_json
from worker.timecode import parse_hms


def status(
    video_id: str | None = typer.Argument(
        None, metavar="ID", help="a video id or its first 4+ characters; recent videos without"
    ),
    fmt: str = format_option(),
    as_json: bool = json_alias(),
) -> None:
    """Show the state of a video's jobs (or of recent videos)."""

    as_json = wants_json(fmt, as_json)
    ctx = ready_context()
    with ctx.db.session() as s:
        if video_id:
            from worker.video_ids import resolve

            result: Any = video_status(s, resolve(s, video_id))
        else:
            result = list_videos(s)
    if as_json:
        print_json(status_json(result) if video_id else [summary_json(v) for v in result])
        return
    if not video_id and not result:
        settings = ctx.settings
        sys.stderr.write(
            f"vidx: no videos yet (data dir {settings.data_dir.resolve()}, "
            f"database {settings.shown_database_url})\n"
        )
        return
    out.status_lines(console, [result] if video_id else result)


def timeline_cmd(
    video_id: str = typer.Argument(..., metavar="ID", help=ID_HELP),
    fmt: str = typer.Option(
        "json", "--format", metavar="FORMAT", help="json, csv, vtt, edl or otio"
    ),
    output: Path | None = typer.Option(
        None, "-o", "--output", metavar="FILE", help="write to FILE"
    ),
    vtt_kinds: str | None = typer.Option(
        None,
        "--vtt-kinds",
        metavar="KINDS",
        help="vtt: only these cue kinds, e.g. shot,label (default: all)",
    ),
) -> None:
    """Print or export a video's timeline (JSON, CSV, WebVTT, EDL or OTIO).

    The vidx.timeline/1 JSON document, one CSV row per range, WebVTT cues, a CMX3600
    EDL or an OpenTimelineIO timeline."""
    from worker import export
    from worker.video_ids import resolve

    kinds = None if vtt_kinds is None else [k for k in vtt_kinds.replace(" ", "").split(",") if k]
    export.check(fmt, kinds)
    ctx = ready_context()
    with ctx.db.session() as s:
        doc = timeline(s, resolve(s, video_id))
    text = export.render(doc, fmt, vtt_kinds=kinds)
    if output is None:
        sys.stdout.write(text)
    else:
        export.write_atomic(output, text)


def query(
    video: str | None = typer.Option(
        None, "--video", metavar="ID", help=f"only this video: {ID_HELP}"
    ),
    kind: str | None = typer.Option(None, metavar="KIND", help=f"one of: {', '.join(QUERY_KINDS)}"),
    name: str | None = typer.Option(
        None,
        metavar="NAME",
        help="label name or cue type, e.g. Dog, EndCredits; with --kind text, words the "
        "line holds (any case), e.g. parking",
    ),
    min_confidence: float | None = typer.Option(None, metavar="PERCENT", help="0-100"),
    from_: str | None = typer.Option(
        None, "--from", metavar="HH:MM:SS.mmm", help="window start (also MM:SS or seconds)"
    ),
    to: str | None = typer.Option(
        None, "--to", metavar="HH:MM:SS.mmm", help="window end (also MM:SS or seconds)"
    ),
    limit: int = typer.Option(1000, metavar="N", help="at most this many ranges (one page)"),
    cursor: str | None = typer.Option(
        None,
        "--cursor",
        metavar="CURSOR",
        help="the next page: the cursor the previous page printed",
    ),
    fmt: str = typer.Option(
        "table",
        "--format",
        metavar="table|json|csv",
        help="table (tab-separated when stdout is not a terminal), json or csv",
    ),
) -> None:
    """Find what is where: ranges overlapping a window, by kind, name, confidence; lines of
    text by the words they hold (--kind text --name parking).

    Ordered by video, then start time. When more rows follow, stderr says
    `vidx: next page: --cursor CURSOR`: repeat the command with it."""

    if kind is not None and kind not in QUERY_KINDS:
        raise VidxError(f"unknown kind {kind!r} (choose from: {', '.join(QUERY_KINDS)})")
    from worker.video_ids import resolve

    if fmt not in ("table", "json", "csv"):
        raise VidxError(f"unknown format {fmt!r} (choose from: table, json, csv)")
    try:
        lo = parse_hms(from_) if from_ else None
        hi = parse_hms(to) if to else None
    except ValueError as exc:
        raise VidxError(str(exc)) from None
    if lo is not None and hi is not None and hi <= lo:
        raise VidxError(f"--to ({to}) must be after --from ({from_})")
    ctx = ready_context()
    with ctx.db.session() as s:
        vid = resolve(s, video) if video else None
        page = search(s, QueryFilter(vid, kind, name, min_confidence, lo, hi, limit, after=cursor))
    rows = page.items
    if fmt == "json":
        print_json([query_row_json(r) for r in rows])
    elif fmt == "csv":
        sys.stdout.write(out.query_csv(rows))
    else:
        out.query_table(console, rows)
    if page.next_cursor:  # stderr, so the rows on stdout stay one document in every format
        sys.stderr.write(f"vidx: next page: --cursor {page.next_cursor}\n")
