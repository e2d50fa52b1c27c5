"""The `vidx` command: parses options, calls services, prints. No logic of its own."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from worker import cli_output as out
from worker.cli_progress import RichReporter
from worker.context import get_context
from worker.errors import VidxError
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
)
db_app = typer.Typer(help="Database schema (Alembic).", no_args_is_help=True)
app.add_typer(db_app, name="db")
aws_app = typer.Typer(help="Amazon Web Services resources for the Rekognition engine.")
app.add_typer(aws_app, name="aws")

console = Console(highlight=False)
P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str) -> typer.Exit:
    # exactly one line on stderr: callers and scripts read it
    sys.stderr.write(f"vidx: error: {' '.join(message.split())}\n")
    return typer.Exit(code=1)


def handled(fn: Callable[P, R]) -> Callable[P, R]:
    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
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


FEATURES_HELP = "comma-separated: segments, labels, moderation, faces"
CLIPS_HELP = "clips to cut: shots, content (comma-separated), or none"
MIN_LENGTH_HELP = "merge shots shorter than this (ms) into a neighbour; 0: off"
KEEP_CREDITS_HELP = "the content clip starts at the opening credits"


@app.command()
@handled
def run(
    video: Path = typer.Argument(..., help="video file to index"),
    features: str = typer.Option("segments", help=FEATURES_HELP),
    engine: str | None = typer.Option(None, help="analysis engine: local or aws (VIDX_ENGINE)"),
    clips: str = typer.Option("shots,content", help=CLIPS_HELP),
    mode: str = typer.Option("accurate", help="clip cutting mode: copy, accurate or smart"),
    min_length: int = typer.Option(0, "--min-length", metavar="MS", help=MIN_LENGTH_HELP),
    keep_credits: bool = typer.Option(False, "--keep-opening-credits", help=KEEP_CREDITS_HELP),
    force: bool = typer.Option(False, "--force", help="start failed jobs again"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
) -> None:
    """Index a video in this process: ingest, analysis, timeline, clips."""
    from worker.celery_app import reconfigure
    from worker.service import wait_in_process

    ctx = get_context()
    engine = engine or ctx.settings.engine
    reconfigure(None)  # `run` always works in-process, broker or not
    _quiet_task_logs()
    t0 = time.perf_counter()
    with RichReporter(console, enabled=console.is_terminal and not as_json) as rep, reporting(rep):
        sub = _submit(
            ctx, video, features, engine, clips, mode, force, min_length, keep_credits, True
        )
        if engine != "local":
            wait_in_process(ctx, sub.video_id)
    elapsed = time.perf_counter() - t0
    with ctx.db.session() as s:
        status = video_status(s, sub.video_id)
        doc = timeline(s, sub.video_id)
    summary = {
        "video_id": sub.video_id,
        "status": status["status"],
        "features": status["features"],
        "duration_ms": doc["video"]["duration_ms"],
        "shots": len(doc["shots"]),
        "technical_cues": [
            {"type": c["type"], "start": format_hms(c["start_ms"]), "end": format_hms(c["end_ms"])}
            for c in doc["technical_cues"]
        ],
        "content_range_ms": doc["content_range_ms"],
        "clips": len(doc["clips"]),
        "clips_dir": str((ctx.settings.clips_dir / sub.video_id).resolve())
        if doc["clips"]
        else None,
        "notes": [*sub.notes, *(n["message"] for n in doc["notes"])],
        "elapsed_s": round(elapsed, 2),
        "x_realtime": round(doc["video"]["duration_ms"] / 1000 / elapsed, 2) if elapsed else None,
    }
    if as_json:
        _print_json(summary)
    else:
        _print_summary(summary)
    if status["status"] == "FAILED":
        msgs = [f"{f}: {v['message']}" for f, v in status["features"].items() if v["message"]]
        raise fail(f"{video}: analysis failed ({'; '.join(msgs)})")


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
) -> Submitted:
    """`run` and `submit`'s shared options, parsed, handed to the service (`in_process`:
    `run`, which analyses before registering, see service.submit)."""
    from worker.service import parse_clip_kinds, parse_features, submit

    kinds = [] if clips.strip() == "none" else parse_clip_kinds(clips)
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
        analyse_first=in_process,
    )


def _print_summary(s: dict[str, Any]) -> None:
    console.print(f"[bold]video {s['video_id']}[/bold]  {s['status']}")
    console.print(f"  duration {format_hms(s['duration_ms'])}, {s['shots']} shots")
    for c in s["technical_cues"]:
        console.print(f"  {c['type']:<15} {c['start']} - {c['end']}")
    if s["content_range_ms"]:
        a, b = s["content_range_ms"]
        console.print(f"  content         {format_hms(a)} - {format_hms(b)}")
    if s["clips"]:
        console.print(f"  {s['clips']} clips in {s['clips_dir']}")
    for note in s["notes"]:
        console.print(f"  note: {note}")
    console.print(f"  took {s['elapsed_s']} s ({s['x_realtime']}x real time)")
    console.print(f"next: vidx timeline {s['video_id']}  |  vidx query --video {s['video_id']}")


@app.command()
@handled
def submit(
    video: str = typer.Argument(..., help="video file, or s3://bucket/key with --engine aws"),
    features: str = typer.Option("segments", help=FEATURES_HELP),
    engine: str | None = typer.Option(None, help="analysis engine: local or aws (VIDX_ENGINE)"),
    clips: str = typer.Option("none", help=CLIPS_HELP),
    mode: str = typer.Option("accurate", help="clip cutting mode: copy, accurate or smart"),
    min_length: int = typer.Option(0, "--min-length", metavar="MS", help=MIN_LENGTH_HELP),
    keep_credits: bool = typer.Option(False, "--keep-opening-credits", help=KEEP_CREDITS_HELP),
    force: bool = typer.Option(False, "--force", help="start failed or expired jobs again"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
) -> None:
    """Queue a video for the workers (VIDX_BROKER_URL); prints its id."""
    ctx = get_context()
    engine = engine or ctx.settings.engine
    if not ctx.settings.broker_url:
        raise VidxError("no broker configured: set VIDX_BROKER_URL (or use `vidx run`)")
    source: Path | str = video if video.startswith("s3://") else Path(video)
    sub = _submit(ctx, source, features, engine, clips, mode, force, min_length, keep_credits)
    if as_json:
        _print_json({"video_id": sub.video_id, "job_ids": sub.job_ids, "notes": sub.notes})
    else:
        for note in sub.notes:
            sys.stderr.write(f"vidx: {note}\n")
        sys.stdout.write(sub.video_id + "\n")


@app.command()
@handled
def status(
    video_id: str | None = typer.Argument(None, help="a video id; all recent videos without"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Show the state of a video's jobs (or of recent videos)."""
    from worker.service import ensure_schema

    ctx = get_context()
    ensure_schema(ctx)
    with ctx.db.session() as s:
        result: Any = video_status(s, video_id) if video_id else list_videos(s)
    if as_json:
        _print_json(result)
        return
    for st in [result] if video_id else result:
        feats = ", ".join(f"{k}={v['status']}" for k, v in st["features"].items())
        name = f"  {st['filename']}" if "filename" in st else ""
        console.print(f"{st['video_id']}  {st['status']:<10} {feats}{name}", highlight=False)
        for k, v in st["features"].items():
            if v["message"]:
                console.print(f"    {k}: {v['message']}", highlight=False)


@app.command("timeline")
@handled
def timeline_cmd(
    video_id: str = typer.Argument(..., help="video id"),
    fmt: str = typer.Option("json", "--format", help="json, csv, vtt, edl or otio"),
    output: Path | None = typer.Option(None, "-o", "--output", help="write to FILE"),
    vtt_kinds: str | None = typer.Option(
        None, "--vtt-kinds", help="vtt: only these cue kinds, e.g. shot,label (default: all)"
    ),
) -> None:
    """Print or export a video's timeline: the vidx.timeline/1 JSON, CSV, WebVTT, CMX3600
    EDL or OpenTimelineIO."""
    from worker import export
    from worker.service import ensure_schema

    kinds = None if vtt_kinds is None else [k for k in vtt_kinds.replace(" ", "").split(",") if k]
    export.check(fmt, kinds)
    ctx = get_context()
    ensure_schema(ctx)
    with ctx.db.session() as s:
        doc = timeline(s, video_id)
    text = export.render(doc, fmt, vtt_kinds=kinds)
    if output is None:
        sys.stdout.write(text)
    else:
        export.write_atomic(output, text)


@app.command()
@handled
def query(
    video: str | None = typer.Option(None, "--video", help="only this video id"),
    kind: str | None = typer.Option(None, help=f"one of: {', '.join(QUERY_KINDS)}"),
    name: str | None = typer.Option(None, help="label name or cue type, e.g. Dog, EndCredits"),
    min_confidence: float | None = typer.Option(None, help="0-100"),
    from_: str | None = typer.Option(None, "--from", help="window start HH:MM:SS.mmm"),
    to: str | None = typer.Option(None, "--to", help="window end HH:MM:SS.mmm"),
    limit: int = typer.Option(1000, help="at most this many ranges (one page)"),
    cursor: str | None = typer.Option(
        None, "--cursor", help="the next page: the cursor the previous page printed"
    ),
    fmt: str = typer.Option("table", "--format", help="table, json or csv"),
) -> None:
    """Find what is where: ranges overlapping a window, by kind, name, confidence.

    Ordered by video, then start time. When more rows follow, stderr says
    `vidx: next page: --cursor CURSOR`: repeat the command with it."""
    from worker.service import ensure_schema

    if kind is not None and kind not in QUERY_KINDS:
        raise VidxError(f"unknown kind {kind!r} (choose from: {', '.join(QUERY_KINDS)})")
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
    f = QueryFilter(video, kind, name, min_confidence, lo, hi, limit, after=cursor)
    with ctx.db.session() as s:
        page = search(s, f)
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
    video_id: str = typer.Argument(..., help="video id"),
    at: str = typer.Option("shots,content", "--at", help="shots, content or both"),
    mode: str = typer.Option("accurate", help="copy, accurate or smart"),
    out_dir: Path | None = typer.Option(None, "--out", help="folder (default: data dir)"),
    min_length: int = typer.Option(0, "--min-length", metavar="MS", help=MIN_LENGTH_HELP),
    keep_credits: bool = typer.Option(False, "--keep-opening-credits", help=KEEP_CREDITS_HELP),
    thumbnails: bool = typer.Option(False, "--thumbnails", help="also a JPEG per shot + sprite"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Cut (or re-cut) a video's clips at shots and/or its content range."""
    from worker.pipeline.clips import cut_clips
    from worker.service import check_mode, ensure_schema, parse_clip_kinds

    check_mode(mode)
    kinds = parse_clip_kinds(at)
    ctx = get_context()
    ensure_schema(ctx)
    with RichReporter(console, enabled=console.is_terminal and not as_json) as rep, reporting(rep):
        made = cut_clips(
            ctx,
            video_id,
            kinds,
            mode,
            out_dir,
            min_length_ms=min_length,
            keep_opening_credits=keep_credits,
            thumbnails=thumbnails,
        )
    rows = [
        {"kind": c.kind, "index": c.seq, "start_ms": c.start_ms, "end_ms": c.end_ms, "path": c.path}
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
        for r in rows:
            drift = f"  (starts {r['drift_ms']} ms early)" if r.get("drift_ms") else ""
            console.print(f"{r['kind']:<8} {r['index']:>4}  {r['path']}{drift}", highlight=False)


@app.command()
@handled
def delete(
    video_id: str = typer.Argument(..., help="video id"),
    keep_source: bool = typer.Option(
        False, "--keep-source", help="keep the uploaded source file (API uploads) in the data dir"
    ),
    force: bool = typer.Option(
        False, "--force", help="delete even while its jobs are in flight (they are dropped)"
    ),
    remote: bool = typer.Option(
        False, "--remote", help="also its S3 objects under VIDX_S3_PREFIX/<sha256>/"
    ),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
) -> None:
    """Delete a video: its rows, clips, thumbnails, results, transcode and uploaded source.

    Files outside the data dir (the file given to `vidx run`) are never touched. A delete
    that stopped part-way is finished by running it again."""
    from worker.service import delete_video

    done = delete_video(
        get_context(), video_id, keep_source=keep_source, force=force, remote=remote
    )
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
    concurrency: int = typer.Option(2, help="worker processes"),
    loglevel: str = typer.Option("INFO", help="log level"),
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
    loglevel: str = typer.Option("info", help="log level"),
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
    pages: list[Path] = typer.Argument(..., help="recorded Get* response JSON files, in order"),
    feature: str = typer.Option(..., "--feature", help="segments, labels, moderation or faces"),
    video: str | None = typer.Option(None, "--video", help="attach to this video id"),
    name: str | None = typer.Option(
        None, "--name", help="the video's file name (default: the S3 object's)"
    ),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
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
    ctx = get_context()
    ensure_schema(ctx)
    done = import_pages(ctx, feat, pages, video, name)
    if as_json:
        _print_json({"video_id": done.video_id, "items": done.items})
    else:
        sys.stdout.write(done.video_id + "\n")


@app.command()
@handled
def poll(
    once: bool = typer.Option(False, "--once", help="one long poll, then exit"),
    loglevel: str = typer.Option("INFO", help="log level"),
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
    as_json: bool = typer.Option(False, "--json", help="print the counts as JSON"),
) -> None:
    """Ask the engine about jobs whose completion notification has not come."""
    from worker.service import ensure_schema
    from worker.tasks import reconcile

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
    loglevel: str = typer.Option("INFO", help="log level"),
    schedule_file: Path | None = typer.Option(
        None, help="where beat keeps its schedule (default: in the data dir)"
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
    max_age: float = typer.Option(120.0, "--max-age", help="seconds"),
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
