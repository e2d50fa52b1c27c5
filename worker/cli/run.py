"""`vidx run` (index a video in this process) and `vidx submit` (queue it for workers),
and the submit options both share."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from worker.cli.common import (
    clips_option,
    codec_option,
    console,
    debugging,
    engine_option,
    err_console,
    fail,
    features_option,
    format_option,
    json_alias,
    keep_credits_option,
    min_length_option,
    mode_option,
    print_json,
    require_broker,
    wants_json,
)
from worker.cli.progress import RichReporter
from worker.context import get_context
from worker.progress import reporting
from worker.run_summary import RunSummary, summarise
from worker.timecode import format_hms

if TYPE_CHECKING:
    from worker.context import AppContext
    from worker.service import Submitted


def run(
    video: Path = typer.Argument(..., metavar="VIDEO", help="video file to index"),
    features: str = features_option(),
    engine: str | None = engine_option(),
    clips: str = clips_option("shots,content"),
    mode: str = mode_option(),
    codec: str = codec_option(),
    min_length: int = min_length_option(),
    keep_credits: bool = keep_credits_option(),
    force: bool = typer.Option(False, "--force", help="start failed jobs again"),
    fmt: str = format_option(),
    as_json: bool = json_alias(),
) -> None:
    """Index a video in this process: ingest, analysis, timeline, clips.

    Prints the analysis (shots, cues, content range) as soon as it is stored, then
    cuts the clips."""
    from worker.celery_app import reconfigure
    from worker.pipeline.jobs import jobs_succeeded
    from worker.service import wait_in_process

    want_json = wants_json(fmt, as_json)
    ctx = get_context()
    engine = engine or ctx.settings.engine
    reconfigure(None)  # `run` always works in-process, broker or not
    _quiet_task_logs()
    t0 = time.perf_counter()
    reused = False
    analysed_at: float | None = None

    def summary(video_id: str, now: float, notes: list[str] | None = None) -> RunSummary:
        with ctx.db.session() as s:
            return summarise(
                s,
                video_id,
                ctx.settings.clips_dir,
                reused=reused,
                analysis_ms=round(((analysed_at or now) - t0) * 1000),
                elapsed_ms=round((now - t0) * 1000),
                notes=notes,
            )

    def enqueue(video_id: str, job_ids: list[int]) -> None:
        nonlocal reused
        # every job already succeeded (same file, same features): nothing is analysed again
        reused = bool(job_ids) and jobs_succeeded(ctx, job_ids)
        ctx.enqueue.analyze(video_id, job_ids)

    def on_analysed(video_id: str) -> None:
        nonlocal analysed_at
        analysed_at = time.perf_counter()
        if not want_json:
            _print_analysis(summary(video_id, analysed_at))

    rep = RichReporter(err_console, enabled=err_console.is_terminal, on_analysed=on_analysed)
    with rep, reporting(rep):
        sub = _submit(
            ctx, video, features, engine, clips, mode, force, min_length, keep_credits, True,
            enqueue=enqueue, codec=codec,
        )  # fmt: skip
        if engine != "local":
            wait_in_process(ctx, sub.video_id)
        rep.analysed(sub.video_id)  # no clip step ran (e.g. a job failed): the summary now
    done = summary(sub.video_id, time.perf_counter(), sub.notes)
    if want_json:
        print_json(_summary_json(done))
    else:
        _print_clips_summary(done)
    if done.status == "FAILED":
        raise fail(f"{video}: analysis failed ({'; '.join(done.failures)})")


def _summary_json(s: RunSummary) -> dict[str, object]:
    """`run --format json`: the summary's fields in order; a cue as type and times only."""
    doc = asdict(s)
    doc["technical_cues"] = [
        {"type": c.type, "start_ms": c.start_ms, "end_ms": c.end_ms} for c in s.technical_cues
    ]
    return doc


def _quiet_task_logs() -> None:
    """The in-process tasks' log records (retries, a failure's traceback) stay off stderr,
    where a failure is one line (`fail`); VIDX_DEBUG=1 lets them through."""
    root = logging.getLogger()
    if not debugging() and not root.handlers:
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


def _print_analysis(s: RunSummary) -> None:
    lines = [f"video {s.video_id}", f"  duration {format_hms(s.duration_ms)}, {s.shots} shots"]
    lines += [
        f"  {c.type:<15} {format_hms(c.start_ms)} - {format_hms(c.end_ms)}"
        for c in s.technical_cues
    ]
    if s.content_range_ms:
        a, b = s.content_range_ms
        # the content clip's span, named apart from the Content cues listed above it
        lines.append(f"  programme span  {format_hms(a)} - {format_hms(b)}  (content_range_ms)")
    if s.analysis_reused:
        lines.append("  analysis reused: this file was analysed before")
    else:
        lines.append(f"  analysed in {s.analysis_ms / 1000:.1f} s ({s.x_realtime}x real time)")
    for line in lines:
        console.print(line, markup=False)


def _print_clips_summary(s: RunSummary) -> None:
    lines = [f"  {s.clips} clips in {s.clips_dir}"] if s.clips else []
    lines += [f"  note: {note}" for note in s.notes]
    lines.append(f"{s.status}, took {s.elapsed_ms / 1000:.1f} s")
    lines.append(f"next: vidx timeline {s.video_id}  |  vidx query --video {s.video_id}")
    for line in lines:
        console.print(line, markup=False)


def submit(
    video: str = typer.Argument(
        ..., metavar="VIDEO", help="video file, or s3://bucket/key with --engine aws"
    ),
    features: str = features_option(),
    engine: str | None = engine_option(),
    clips: str = clips_option("none"),
    mode: str = mode_option(),
    codec: str = codec_option(),
    min_length: int = min_length_option(),
    keep_credits: bool = keep_credits_option(),
    force: bool = typer.Option(False, "--force", help="start failed or expired jobs again"),
    fmt: str = format_option(),
    as_json: bool = json_alias(),
) -> None:
    """Queue a video for the workers (VIDX_BROKER_URL); prints its id."""
    as_json = wants_json(fmt, as_json)
    ctx = get_context()
    engine = engine or ctx.settings.engine
    require_broker(ctx, example=False)
    source: Path | str = video if video.startswith("s3://") else Path(video)
    sub = _submit(
        ctx, source, features, engine, clips, mode, force, min_length, keep_credits, codec=codec
    )
    if as_json:
        print_json({"video_id": sub.video_id, "job_ids": sub.job_ids, "notes": sub.notes})
    else:
        for note in sub.notes:
            sys.stderr.write(f"vidx: {note}\n")
        sys.stdout.write(sub.video_id + "\n")
