"""Commands that change what is stored about a video: `vidx clips`, `vidx import`,
`vidx delete` (`run` and `submit` are in run.py)."""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import typer

from worker.cli import output as out
from worker.cli.common import (
    ID_HELP,
    codec_option,
    console,
    err_console,
    format_option,
    json_alias,
    keep_credits_option,
    min_length_option,
    mode_option,
    print_json,
    ready_context,
    video_id_of,
    wants_json,
)
from worker.cli.progress import RichReporter
from worker.errors import VidxError
from worker.progress import reporting
from worker.query import thumbnails as thumbnails_of
from worker.read_json import thumbnails_json


def clips(
    video_ref: str = typer.Argument(..., metavar="ID", help=ID_HELP),
    at: str = typer.Option("shots,content", "--at", metavar="KINDS", help="shots, content or both"),
    mode: str = mode_option(),
    codec: str = codec_option(),
    out_dir: Path | None = typer.Option(
        None, "--out", metavar="DIR", help="folder (default: the data dir's clips/ID)"
    ),
    min_length: int = min_length_option(),
    keep_credits: bool = keep_credits_option(),
    thumbnails: bool = typer.Option(False, "--thumbnails", help="also a JPEG per shot + sprite"),
    fmt: str = format_option(),
    as_json: bool = json_alias(),
) -> None:
    """Cut (or re-cut) a video's clips at shots and/or its content range."""
    from worker.pipeline.clip_request import ClipRequest, check_request, split_kinds
    from worker.pipeline.clips import make_clips

    as_json = wants_json(fmt, as_json)
    kinds = split_kinds(at)
    check_request(kinds, mode, codec)
    request = ClipRequest(tuple(kinds), mode, codec, min_length, keep_credits)
    ctx = ready_context()
    video_id = video_id_of(ctx, video_ref)
    with RichReporter(err_console, enabled=err_console.is_terminal) as rep, reporting(rep):
        made = make_clips(ctx, video_id, request, out_dir, thumbnails=thumbnails)
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
                doc["thumbnails"] = thumbnails_json(thumbnails_of(s, video_id))
        print_json(doc)
    else:
        out.clip_lines(console, rows)


def import_cmd(
    pages: list[Path] = typer.Argument(
        ..., metavar="PAGE.json...", help="recorded Get* response JSON files, in order"
    ),
    feature: str = typer.Option(
        ..., "--feature", help="segments, labels, moderation, faces or text"
    ),
    video: str | None = typer.Option(None, "--video", metavar="ID", help="attach to this video"),
    name: str | None = typer.Option(
        None, "--name", help="the video's file name (default: the S3 object's)"
    ),
    fmt: str = format_option(),
    as_json: bool = json_alias(),
) -> None:
    """Load recorded Rekognition Get* pages into the store (no media file needed).

    Only a whole response is accepted: every page of one SUCCEEDED job of that Get*
    operation, in order; with --video, of a video of the same duration and frame size."""
    from worker.pipeline.importer import import_pages
    from worker.service import parse_features

    feats = parse_features(feature)
    if len(feats) != 1:
        raise VidxError(f"--feature takes exactly one feature, got {feature!r}")
    as_json = wants_json(fmt, as_json)
    ctx = ready_context()
    done = import_pages(ctx, feats[0], pages, video_id_of(ctx, video) if video else None, name)
    if as_json:
        print_json({"video_id": done.video_id, "items": done.items})
    else:
        sys.stdout.write(done.video_id + "\n")


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
    fmt: str = format_option(),
    as_json: bool = json_alias(),
) -> None:
    """Delete a video: its rows, clips, thumbnails, results, transcode and uploaded source.

    Files outside the data dir (the file given to `vidx run`) are never touched. A delete
    that stopped part-way is finished by running it again."""
    from worker.service import delete_video

    as_json = wants_json(fmt, as_json)
    ctx = ready_context()
    video_id = video_id_of(ctx, video_ref)
    done = delete_video(ctx, video_id, keep_source=keep_source, force=force, remote=remote)
    if as_json:
        print_json(asdict(done))
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
