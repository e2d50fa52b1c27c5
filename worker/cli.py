"""The `vidx` command: parses options, calls services, prints. No logic of its own."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from sqlalchemy.exc import OperationalError

from worker import cli_output as out
from worker.cli_help import ReadableGroup
from worker.cli_progress import RichReporter
from worker.context import get_context
from worker.errors import DatabaseUnavailableError, VidxError
from worker.progress import reporting
from worker.query import QUERY_KINDS, QueryFilter, list_videos, search, timeline, video_status
from worker.query import thumbnails as thumbnails_of
from worker.timecode import format_hms, parse_hms

if TYPE_CHECKING:
    from worker.context import AppContext
    from worker.service import Submitted

app = typer.Typer(
    name="vidx",
    help="Index stored videos: shots, technical cues and more as timestamped timelines; clips.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},  # inherited by every command
    cls=ReadableGroup,
)
db_app = typer.Typer(help="Database schema (Alembic).", no_args_is_help=True, cls=ReadableGroup)
app.add_typer(db_app, name="db")
aws_app = typer.Typer(
    help="Amazon Web Services resources for the Rekognition engine.", cls=ReadableGroup
)
app.add_typer(aws_app, name="aws")

# stdout: soft wrap, so a line is never wrapped or cut at a guessed width (pipes, files);
# progress rows and notes go to stderr
console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False)
P = ParamSpec("P")
R = TypeVar("R")


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            sys.stdout.write(f"vidx {version('vidx')}\n")
        except PackageNotFoundError:  # a checkout that was never installed
            sys.stdout.write("vidx (not installed)\n")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="print the version and exit"
    ),
) -> None:
    """Index stored videos: shots, technical cues and more as timestamped timelines; clips."""


def fail(message: str) -> typer.Exit:
    # exactly one line on stderr: callers and scripts read it
    sys.stderr.write(f"vidx: error: {' '.join(message.split())}\n")
    return typer.Exit(code=1)


def _database_problem(exc: Exception) -> str:
    """A database that cannot be reached or used, in one line naming it (password masked)."""
    orig = getattr(exc, "orig", None) or getattr(exc.__cause__, "orig", None)
    reason = (str(orig) if orig is not None else str(exc)).strip().splitlines()
    try:
        url = get_context().settings.shown_database_url
    except Exception:  # settings that do not even parse: say what we know
        url = "(VIDX_DATABASE_URL)"
    return f"cannot use the database {url}: {reason[0] if reason else type(exc).__name__}"


def handled(fn: Callable[P, R]) -> Callable[P, R]:
    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (OperationalError, DatabaseUnavailableError) as exc:
            if os.environ.get("VIDX_DEBUG"):
                raise
            raise fail(_database_problem(exc)) from None
        except VidxError as exc:
            raise fail(str(exc)) from None
        except KeyboardInterrupt:
            sys.stderr.write("vidx: interrupted\n")
            raise typer.Exit(code=130) from None
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:
            if os.environ.get("VIDX_DEBUG"):
                raise
            raise fail(
                f"internal error: {type(exc).__name__}: {exc} (VIDX_DEBUG=1 shows the traceback)"
            ) from None

    return wrapper


def _print_json(obj: Any) -> None:
    sys.stdout.write(out.dumps(obj) + "\n")


FORMAT_HELP = "text or json (one JSON document on stdout)"


def _format_option(default: str = "text") -> Any:
    return typer.Option(default, "--format", metavar="text|json", help=FORMAT_HELP)


def _json_alias() -> Any:
    return typer.Option(False, "--json", help="same as --format json")


def _wants_json(fmt: str, as_json: bool = False) -> bool:
    if fmt not in ("text", "json"):
        raise VidxError(f"unknown format {fmt!r} (choose from: text, json)")
    return as_json or fmt == "json"


def _video_id(ctx: AppContext, ref: str) -> str:
    """The full id of the video `ref` names: its id, or a unique prefix (4+ characters)."""
    from worker.video_ids import resolve

    with ctx.db.session() as s:
        return resolve(s, ref)


FEATURES_HELP = "comma-separated: segments, labels, moderation, faces"
ENGINE_HELP = "analysis engine: local or aws (VIDX_ENGINE)"
ID_HELP = "a video id, or its first 4+ characters when no other id starts with them"
CLIPS_HELP = "clips to cut: shots, content (comma-separated), or none"
MIN_LENGTH_HELP = "merge shots shorter than this (ms) into a neighbour; 0: off"
KEEP_CREDITS_HELP = "the content clip starts at the opening credits"
MODE_HELP = "clip cutting mode: smart (frame-exact; else accurate, with a note), accurate, copy"
CODEC_HELP = "clip codec: auto (ProRes stays ProRes in .mov, else H.264), h264 or prores"


@app.command()
@handled
def run(
    video: Path = typer.Argument(..., metavar="VIDEO", help="video file to index"),
    features: str = typer.Option("segments", metavar="FEATURES", help=FEATURES_HELP),
    engine: str | None = typer.Option(None, metavar="ENGINE", help=ENGINE_HELP),
    clips: str = typer.Option("shots,content", metavar="KINDS", help=CLIPS_HELP),
    mode: str = typer.Option("smart", help=MODE_HELP),
    codec: str = typer.Option("auto", help=CODEC_HELP),
    min_length: int = typer.Option(0, "--min-length", metavar="MS", help=MIN_LENGTH_HELP),
    keep_credits: bool = typer.Option(False, "--keep-opening-credits", help=KEEP_CREDITS_HELP),
    force: bool = typer.Option(False, "--force", help="start failed jobs again"),
    fmt: str = _format_option(),
    as_json: bool = _json_alias(),
) -> None:
    """Index a video in this process: ingest, analysis, timeline, clips.

    Prints the analysis (shots, cues, content range) as soon as it is stored, then
    cuts the clips."""
    from worker.celery_app import reconfigure
    from worker.pipeline.jobs import jobs_succeeded
    from worker.service import wait_in_process

    want_json = _wants_json(fmt, as_json)
    ctx = get_context()
    engine = engine or ctx.settings.engine
    reconfigure(None)  # `run` always works in-process, broker or not
    _quiet_task_logs()
    t0 = time.perf_counter()
    seen = _RunTimes()

    def enqueue(video_id: str, job_ids: list[int]) -> None:
        from worker.tasks import analyze

        # every job already succeeded (same file, same features): nothing is analysed again
        seen.reused = bool(job_ids) and jobs_succeeded(ctx, job_ids)
        analyze.delay(video_id, job_ids)

    def on_analysed(video_id: str) -> None:
        seen.analysed_at = time.perf_counter()
        if not want_json:
            _print_analysis(_run_summary(ctx, video_id, seen, t0, seen.analysed_at))

    rep = RichReporter(err_console, enabled=err_console.is_terminal, on_analysed=on_analysed)
    with rep, reporting(rep):
        sub = _submit(
            ctx, video, features, engine, clips, mode, force, min_length, keep_credits, True,
            enqueue=enqueue, codec=codec,
        )  # fmt: skip
        if engine != "local":
            wait_in_process(ctx, sub.video_id)
        rep.analysed(sub.video_id)  # no clip step ran (e.g. a job failed): the summary now
    summary = _run_summary(ctx, sub.video_id, seen, t0, time.perf_counter(), sub.notes)
    if want_json:
        _print_json(summary)
    else:
        _print_clips_summary(summary)
    if summary["status"] == "FAILED":
        msgs = [f"{f}: {v['message']}" for f, v in summary["features"].items() if v["message"]]
        raise fail(f"{video}: analysis failed ({'; '.join(msgs)})")


@dataclass
class _RunTimes:
    """What `run` learns on the way: whether the analysis was reused, when it ended."""

    reused: bool = False
    analysed_at: float | None = None


def _run_summary(
    ctx: AppContext,
    video_id: str,
    seen: _RunTimes,
    t0: float,
    now: float,
    notes: list[str] | None = None,
) -> dict[str, Any]:
    """`run --format json`'s object (every key is in the README); times in ms."""
    with ctx.db.session() as s:
        status = video_status(s, video_id)
        doc = timeline(s, video_id)
    duration_ms = doc["video"]["duration_ms"]
    analysis_ms = round(((seen.analysed_at or now) - t0) * 1000)
    return {
        "video_id": video_id,
        "status": status["status"],
        "features": status["features"],
        "duration_ms": duration_ms,
        "shots": len(doc["shots"]),
        "technical_cues": [
            {"type": c["type"], "start_ms": c["start_ms"], "end_ms": c["end_ms"]}
            for c in doc["technical_cues"]
        ],
        "content_range_ms": doc["content_range_ms"],
        "clips": len(doc["clips"]),
        "clips_dir": str((ctx.settings.clips_dir / video_id).resolve()) if doc["clips"] else None,
        "notes": [*(notes or []), *(n["message"] for n in doc["notes"])],
        "analysis_reused": seen.reused,
        "analysis_ms": analysis_ms,
        "elapsed_ms": round((now - t0) * 1000),
        # the analysis's speed; none when it was reused (no analysis ran)
        "x_realtime": None
        if seen.reused or not analysis_ms
        else round(duration_ms / analysis_ms, 2),
    }


def _quiet_task_logs() -> None:
    """The in-process tasks' log records (retries, a failure's traceback) stay off stderr,
    where a failure is one line (`fail`); VIDX_DEBUG=1 lets them through."""
    import logging

    root = logging.getLogger()
    if not os.environ.get("VIDX_DEBUG") and not root.handlers:
        root.addHandler(logging.NullHandler())  # no handler: Python prints to stderr


def _submit(
    ctx: AppContext,
    source: Path | str,
    features: str,
    engine: str,
    clips: str,
    mode: str,
    force: bool,
    min_length: int,
    keep_credits: bool,
    in_process: bool = False,
    enqueue: Callable[[str, list[int]], None] | None = None,
    codec: str = "auto",
) -> Submitted:
    """`run` and `submit`'s shared options, parsed, handed to the service (`in_process`:
    `run`, which analyses before registering, see service.submit)."""
    from worker.pipeline.clip_request import parse_kinds
    from worker.service import parse_features, submit

    kinds = [] if clips.strip() == "none" else parse_kinds(clips)
    return submit(
        ctx,
        source,
        parse_features(features),
        engine,
        kinds,
        mode,
        force,
        min_length_ms=min_length,
        keep_opening_credits=keep_credits,
        codec=codec,
        analyse_first=in_process,
        enqueue=enqueue,
    )


def _print_analysis(s: dict[str, Any]) -> None:
    lines = [
        f"video {s['video_id']}",
        f"  duration {format_hms(s['duration_ms'])}, {s['shots']} shots",
    ]
    lines += [
        f"  {c['type']:<15} {format_hms(c['start_ms'])} - {format_hms(c['end_ms'])}"
        for c in s["technical_cues"]
    ]
    if s["content_range_ms"]:
        a, b = s["content_range_ms"]
        # the content clip's span, named apart from the Content cues listed above it
        lines.append(f"  programme span  {format_hms(a)} - {format_hms(b)}  (content_range_ms)")
    if s["analysis_reused"]:
        lines.append("  analysis reused: this file was analysed before")
    else:
        lines.append(
            f"  analysed in {s['analysis_ms'] / 1000:.1f} s ({s['x_realtime']}x real time)"
        )
    for line in lines:
        console.print(line, markup=False)


def _print_clips_summary(s: dict[str, Any]) -> None:
    lines = [f"  {s['clips']} clips in {s['clips_dir']}"] if s["clips"] else []
    lines += [f"  note: {note}" for note in s["notes"]]
    lines.append(f"{s['status']}, took {s['elapsed_ms'] / 1000:.1f} s")
    lines.append(f"next: vidx timeline {s['video_id']}  |  vidx query --video {s['video_id']}")
    for line in lines:
        console.print(line, markup=False)


@app.command()
@handled
def submit(
    video: str = typer.Argument(
        ..., metavar="VIDEO", help="video file, or s3://bucket/key with --engine aws"
    ),
    features: str = typer.Option("segments", metavar="FEATURES", help=FEATURES_HELP),
    engine: str | None = typer.Option(None, metavar="ENGINE", help=ENGINE_HELP),
    clips: str = typer.Option("none", metavar="KINDS", help=CLIPS_HELP),
    mode: str = typer.Option("smart", help=MODE_HELP),
    codec: str = typer.Option("auto", help=CODEC_HELP),
    min_length: int = typer.Option(0, "--min-length", metavar="MS", help=MIN_LENGTH_HELP),
    keep_credits: bool = typer.Option(False, "--keep-opening-credits", help=KEEP_CREDITS_HELP),
    force: bool = typer.Option(False, "--force", help="start failed or expired jobs again"),
    fmt: str = _format_option(),
    as_json: bool = _json_alias(),
) -> None:
    """Queue a video for the workers (VIDX_BROKER_URL); prints its id."""
    as_json = _wants_json(fmt, as_json)
    ctx = get_context()
    engine = engine or ctx.settings.engine
    if not ctx.settings.broker_url:
        raise VidxError("no broker configured: set VIDX_BROKER_URL (or use `vidx run`)")
    source: Path | str = video if video.startswith("s3://") else Path(video)
    sub = _submit(
        ctx, source, features, engine, clips, mode, force, min_length, keep_credits, codec=codec
    )
    if as_json:
        _print_json({"video_id": sub.video_id, "job_ids": sub.job_ids, "notes": sub.notes})
    else:
        for note in sub.notes:
            sys.stderr.write(f"vidx: {note}\n")
        sys.stdout.write(sub.video_id + "\n")


@app.command()
@handled
def status(
    video_id: str | None = typer.Argument(
        None, metavar="ID", help="a video id or its first 4+ characters; recent videos without"
    ),
    fmt: str = _format_option(),
    as_json: bool = _json_alias(),
) -> None:
    """Show the state of a video's jobs (or of recent videos)."""
    from worker.service import ensure_schema

    as_json = _wants_json(fmt, as_json)
    ctx = get_context()
    ensure_schema(ctx)
    with ctx.db.session() as s:
        if video_id:
            from worker.video_ids import resolve

            result: Any = video_status(s, resolve(s, video_id))
        else:
            result = list_videos(s)
    if as_json:
        _print_json(result)
        return
    if not video_id and not result:
        settings = ctx.settings
        sys.stderr.write(
            f"vidx: no videos yet (data dir {settings.data_dir.resolve()}, "
            f"database {settings.shown_database_url})\n"
        )
        return
    out.status_lines(console, [result] if video_id else result)


@app.command("timeline")
@handled
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
    from worker.service import ensure_schema
    from worker.video_ids import resolve

    kinds = None if vtt_kinds is None else [k for k in vtt_kinds.replace(" ", "").split(",") if k]
    export.check(fmt, kinds)
    ctx = get_context()
    ensure_schema(ctx)
    with ctx.db.session() as s:
        doc = timeline(s, resolve(s, video_id))
    text = export.render(doc, fmt, vtt_kinds=kinds)
    if output is None:
        sys.stdout.write(text)
    else:
        export.write_atomic(output, text)


@app.command()
@handled
def query(
    video: str | None = typer.Option(
        None, "--video", metavar="ID", help=f"only this video: {ID_HELP}"
    ),
    kind: str | None = typer.Option(None, metavar="KIND", help=f"one of: {', '.join(QUERY_KINDS)}"),
    name: str | None = typer.Option(
        None, metavar="NAME", help="label name or cue type, e.g. Dog, EndCredits"
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
    """Find what is where: ranges overlapping a window, by kind, name, confidence.

    Ordered by video, then start time. When more rows follow, stderr says
    `vidx: next page: --cursor CURSOR`: repeat the command with it."""
    from worker.service import ensure_schema

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
    ctx = get_context()
    ensure_schema(ctx)
    with ctx.db.session() as s:
        vid = resolve(s, video) if video else None
        page = search(s, QueryFilter(vid, kind, name, min_confidence, lo, hi, limit, after=cursor))
    rows = page.rows
    if fmt == "json":
        _print_json([r.as_dict() for r in rows])
    elif fmt == "csv":
        sys.stdout.write(out.query_csv(rows))
    else:
        out.query_table(console, rows)
    if page.next_cursor:  # stderr, so the rows on stdout stay one document in every format
        sys.stderr.write(f"vidx: next page: --cursor {page.next_cursor}\n")


@app.command()
@handled
def clips(
    video_ref: str = typer.Argument(..., metavar="ID", help=ID_HELP),
    at: str = typer.Option("shots,content", "--at", metavar="KINDS", help="shots, content or both"),
    mode: str = typer.Option("smart", help=MODE_HELP),
    codec: str = typer.Option("auto", help=CODEC_HELP),
    out_dir: Path | None = typer.Option(
        None, "--out", metavar="DIR", help="folder (default: the data dir's clips/ID)"
    ),
    min_length: int = typer.Option(0, "--min-length", metavar="MS", help=MIN_LENGTH_HELP),
    keep_credits: bool = typer.Option(False, "--keep-opening-credits", help=KEEP_CREDITS_HELP),
    thumbnails: bool = typer.Option(False, "--thumbnails", help="also a JPEG per shot + sprite"),
    fmt: str = _format_option(),
    as_json: bool = _json_alias(),
) -> None:
    """Cut (or re-cut) a video's clips at shots and/or its content range."""
    from worker.pipeline.clip_request import check_request, split_kinds
    from worker.pipeline.clips import cut_clips
    from worker.service import ensure_schema

    as_json = _wants_json(fmt, as_json)
    kinds = split_kinds(at)
    check_request(kinds, mode, codec)
    ctx = get_context()
    ensure_schema(ctx)
    video_id = _video_id(ctx, video_ref)
    with RichReporter(err_console, enabled=err_console.is_terminal) as rep, reporting(rep):
        made = cut_clips(
            ctx,
            video_id,
            kinds,
            mode,
            out_dir,
            codec=codec,
            min_length_ms=min_length,
            keep_opening_credits=keep_credits,
            thumbnails=thumbnails,
        )
    rows = [
        {"kind": c.kind, "index": c.seq, "start_ms": c.start_ms, "end_ms": c.end_ms, "path": c.path}
        | {"mode": c.mode, "codec": c.codec, "note": c.note}
        | ({"drift_ms": c.drift_ms} if c.drift_ms is not None else {})
        | ({"s3_uri": c.s3_uri} if c.s3_uri else {})
        for c in made
    ]
    if as_json:
        doc: dict[str, Any] = {"video_id": video_id, "clips": rows}
        if thumbnails:
            with ctx.db.session() as s:
                doc["thumbnails"] = thumbnails_of(s, video_id)
        _print_json(doc)
    else:
        out.clip_lines(console, rows)


@app.command()
@handled
def delete(
    video_ref: str = typer.Argument(..., metavar="ID", help=ID_HELP),
    keep_source: bool = typer.Option(
        False, "--keep-source", help="keep the uploaded source file (API uploads) in the data dir"
    ),
    force: bool = typer.Option(
        False, "--force", help="delete even while its jobs are in flight (they are dropped)"
    ),
    remote: bool = typer.Option(
        False, "--remote", help="also its S3 objects under VIDX_S3_PREFIX/<sha256>/"
    ),
    fmt: str = _format_option(),
    as_json: bool = _json_alias(),
) -> None:
    """Delete a video: its rows, clips, thumbnails, results, transcode and uploaded source.

    Files outside the data dir (the file given to `vidx run`) are never touched. A delete
    that stopped part-way is finished by running it again."""
    from worker.service import delete_video, ensure_schema

    as_json = _wants_json(fmt, as_json)
    ctx = get_context()
    ensure_schema(ctx)
    video_id = _video_id(ctx, video_ref)
    done = delete_video(ctx, video_id, keep_source=keep_source, force=force, remote=remote)
    if as_json:
        _print_json(done.as_dict())
        return
    remote_part = f", {len(done.s3_objects)} S3 objects" if remote else ""
    sys.stdout.write(
        f"deleted video {video_id}: {sum(done.rows.values())} rows, "
        f"{len(done.files)} files/folders{remote_part}\n"
    )
    for kept in done.kept:
        sys.stdout.write(f"  kept: {kept}\n")
    for note in done.notes:
        sys.stdout.write(f"  note: {note}\n")


@app.command()
@handled
def worker(
    concurrency: int = typer.Option(2, metavar="N", help="worker processes"),
    loglevel: str = typer.Option("INFO", metavar="LEVEL", help="log level"),
) -> None:
    """Run a Celery worker that does submitted work (needs VIDX_BROKER_URL)."""
    from worker.celery_app import app as celery_app
    from worker.service import ensure_schema

    ctx = get_context()
    if not ctx.settings.broker_url:
        raise VidxError("no broker configured: set VIDX_BROKER_URL, e.g. redis://127.0.0.1:6379/0")
    ensure_schema(ctx)
    # no gossip, no worker-heartbeat events: nothing here reads them, and their publish every
    # 2 s blocked the event loop (and a SIGTERM) on a broker that stopped answering; liveness
    # is worker/liveness.py's heartbeat
    celery_app.worker_main(
        ["worker", f"--loglevel={loglevel}", f"--concurrency={concurrency}",
         "--without-gossip", "--without-heartbeat"]
    )  # fmt: skip


@app.command()
@handled
def serve(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="port to listen on"),
    loglevel: str = typer.Option("info", metavar="LEVEL", help="log level"),
) -> None:
    """Serve the HTTP API (OpenAPI at /docs) and the timeline viewer (uvicorn)."""
    import uvicorn

    from worker.api import create_app
    from worker.service import ensure_schema

    ctx = get_context()
    ensure_schema(ctx)  # here, so a database that is not ready is one clear error line
    if not ctx.settings.api_key and host not in ("127.0.0.1", "localhost", "::1"):
        sys.stderr.write(f"vidx: warning: no VIDX_API_KEY: anyone reaching {host} can submit\n")
    uvicorn.run(create_app(ctx), host=host, port=port, log_level=loglevel.lower())


@app.command("import")
@handled
def import_cmd(
    pages: list[Path] = typer.Argument(
        ..., metavar="PAGE.json...", help="recorded Get* response JSON files, in order"
    ),
    feature: str = typer.Option(..., "--feature", help="segments, labels, moderation or faces"),
    video: str | None = typer.Option(None, "--video", metavar="ID", help="attach to this video"),
    name: str | None = typer.Option(
        None, "--name", help="the video's file name (default: the S3 object's)"
    ),
    fmt: str = _format_option(),
    as_json: bool = _json_alias(),
) -> None:
    """Load recorded Rekognition Get* pages into the store (no media file needed).

    Only a whole response is accepted: every page of one SUCCEEDED job of that Get*
    operation, in order; with --video, of a video of the same duration and frame size."""
    from worker.pipeline.importer import import_pages
    from worker.service import ensure_schema, parse_features

    feats = parse_features(feature)
    if len(feats) != 1:
        raise VidxError(f"--feature takes exactly one feature, got {feature!r}")
    feat = feats[0]
    as_json = _wants_json(fmt, as_json)
    ctx = get_context()
    ensure_schema(ctx)
    done = import_pages(ctx, feat, pages, _video_id(ctx, video) if video else None, name)
    if as_json:
        _print_json({"video_id": done.video_id, "items": done.items})
    else:
        sys.stdout.write(done.video_id + "\n")


@app.command()
@handled
def poll(
    once: bool = typer.Option(False, "--once", help="one long poll, then exit"),
    loglevel: str = typer.Option("INFO", metavar="LEVEL", help="log level"),
) -> None:
    """Receive Rekognition completions from SQS and hand each job to a collect task."""
    import logging
    import signal
    import threading

    logging.basicConfig(
        level=loglevel.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from worker.service import build_poller, ensure_schema

    ctx = get_context()
    ensure_schema(ctx)
    poller = build_poller(ctx)
    if once:
        console.print(str(poller.poll_once()))
        return
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    from worker import heartbeat

    console.print("polling for completions (Ctrl-C stops after the current long poll)")
    data_dir = ctx.settings.data_dir
    heartbeat.beat(data_dir, "poll")
    console.print(str(poller.run(stop, on_cycle=lambda: heartbeat.beat(data_dir, "poll"))))


@app.command("reconcile")
@handled
def reconcile_cmd(
    fmt: str = _format_option(),
    as_json: bool = _json_alias(),
) -> None:
    """Ask the engine about jobs whose completion notification has not come."""
    from worker.service import ensure_schema
    from worker.tasks import reconcile

    as_json = _wants_json(fmt, as_json)
    ctx = get_context()
    ensure_schema(ctx)
    counts = reconcile.apply().get()
    if as_json:
        _print_json(counts)
    else:
        console.print(", ".join(f"{k}: {v}" for k, v in counts.items()))


@app.command()
@handled
def beat(
    loglevel: str = typer.Option("INFO", metavar="LEVEL", help="log level"),
    schedule_file: Path | None = typer.Option(
        None, metavar="FILE", help="where beat keeps its schedule (default: in the data dir)"
    ),
) -> None:
    """Run the scheduler: the reconciler every minute, backlog draining every 30 s."""
    from worker.celery_app import app as celery_app

    ctx = get_context()
    if not ctx.settings.broker_url:
        raise VidxError("no broker configured: set VIDX_BROKER_URL, e.g. redis://127.0.0.1:6379/0")
    target = schedule_file or ctx.settings.data_dir / "celerybeat-schedule"
    target.parent.mkdir(parents=True, exist_ok=True)
    celery_app.start(
        [
            "beat",
            f"--loglevel={loglevel}",
            f"--schedule={target}",
            "--scheduler=worker.beat_scheduler:HeartbeatScheduler",
        ]
    )


@app.command()
def health(
    name: str = typer.Argument(..., help="worker (this host's), poll or beat"),
    max_age: float = typer.Option(120.0, "--max-age", metavar="S", help="seconds"),
) -> None:
    """Exit 0 when the named process has shown progress recently (compose healthcheck)."""
    from worker import heartbeat

    if name not in heartbeat.NAMES:
        raise fail(f"unknown process {name!r} (choose from: {', '.join(heartbeat.NAMES)})")
    age = heartbeat.age_s(get_context().settings.data_dir, name)
    if age is None:
        raise fail(f"{name}: no heartbeat yet")
    if age > max_age:
        raise fail(f"{name}: last heartbeat {age:.0f} s ago (limit {max_age:.0f} s)")
    sys.stdout.write(f"{name}: ok, last heartbeat {age:.0f} s ago\n")


@aws_app.command("setup")
@handled
def aws_setup(
    bucket: str | None = typer.Option(None, help="S3 bucket (default: VIDX_S3_BUCKET)"),
    topic: str = typer.Option("AmazonRekognition-vidx", help="SNS topic name"),
    queue: str = typer.Option("vidx-rekognition", help="SQS queue name"),
    role: str = typer.Option("vidx-rekognition-sns", help="IAM role Rekognition assumes"),
) -> None:
    """Create (idempotently) the bucket, topic, queue, subscription and role; print the
    settings as KEY=value lines a shell can source (`eval "$(vidx aws setup)"`)."""
    from worker.aws.provision import provision

    ctx = get_context()
    name = bucket or ctx.settings.s3_bucket
    if not name:
        raise VidxError("give --bucket NAME (or set VIDX_S3_BUCKET)")
    aws = ctx.aws
    region = aws.region or "us-east-1"
    done = provision(
        aws.s3, aws.sns, aws.sqs, aws.iam,
        bucket=name, region=region, topic_name=topic, queue_name=queue, role_name=role,
    )  # fmt: skip
    for change in done.changes:
        sys.stderr.write(f"vidx: {change}\n")
    sys.stdout.write("\n".join(done.as_env_lines()) + "\n")


@db_app.command("upgrade")
@handled
def db_upgrade() -> None:
    """Create or upgrade the database schema to the latest revision."""
    ctx = get_context()
    ctx.db.upgrade()
    console.print(f"database at head: {ctx.db.engine.url.render_as_string(hide_password=True)}")


def main() -> None:
    app()
