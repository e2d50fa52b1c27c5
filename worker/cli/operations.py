"""Commands that run or set up the service: `vidx worker`, `serve`, `poll`, `reconcile`,
`beat`, `health`, `aws setup`, `db upgrade`."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import typer

from worker.cli.common import (
    console,
    fail,
    format_option,
    json_alias,
    print_json,
    ready_context,
    require_broker,
    wants_json,
)
from worker.context import get_context
from worker.errors import VidxError


def worker(
    concurrency: int = typer.Option(2, metavar="N", help="worker processes"),
    loglevel: str = typer.Option("INFO", metavar="LEVEL", help="log level"),
) -> None:
    """Run a Celery worker that does submitted work (needs VIDX_BROKER_URL)."""
    from worker.celery_app import app as celery_app
    from worker.service import ensure_schema

    ctx = get_context()
    require_broker(ctx)
    ensure_schema(ctx)
    # no gossip, no worker-heartbeat events: nothing here reads them, and their publish every
    # 2 s blocked the event loop (and a SIGTERM) on a broker that stopped answering; liveness
    # is worker/liveness.py's heartbeat
    celery_app.worker_main(
        ["worker", f"--loglevel={loglevel}", f"--concurrency={concurrency}",
         "--without-gossip", "--without-heartbeat"]
    )  # fmt: skip


def serve(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="port to listen on"),
    loglevel: str = typer.Option("info", metavar="LEVEL", help="log level"),
) -> None:
    """Serve the HTTP API (OpenAPI at /docs) and the timeline viewer (uvicorn)."""
    import uvicorn

    from worker.api import create_app

    ctx = ready_context()  # here, so a database that is not ready is one clear error line
    if not ctx.settings.api_key and host not in ("127.0.0.1", "localhost", "::1"):
        sys.stderr.write(f"vidx: warning: no VIDX_API_KEY: anyone reaching {host} can submit\n")
    uvicorn.run(create_app(ctx), host=host, port=port, log_level=loglevel.lower())


def poll(
    once: bool = typer.Option(False, "--once", help="one long poll, then exit"),
    loglevel: str = typer.Option("INFO", metavar="LEVEL", help="log level"),
) -> None:
    """Receive Rekognition completions from SQS and hand each job to a collect task."""
    from worker import heartbeat
    from worker.shutdown import stop_on_signals
    from worker.wiring import build_poller

    logging.basicConfig(
        level=loglevel.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    ctx = ready_context()
    poller = build_poller(ctx)
    if once:
        console.print(str(poller.poll_once()))
        return
    stop = stop_on_signals()
    console.print("polling for completions (Ctrl-C stops after the current long poll)")
    data_dir = ctx.settings.data_dir
    heartbeat.beat(data_dir, "poll")
    console.print(str(poller.run(stop, on_cycle=lambda: heartbeat.beat(data_dir, "poll"))))


def reconcile_cmd(
    fmt: str = format_option(),
    as_json: bool = json_alias(),
) -> None:
    """Ask the engine about jobs whose completion notification has not come."""
    from worker.tasks import reconcile

    as_json = wants_json(fmt, as_json)
    ready_context()
    counts = reconcile.apply().get()
    if as_json:
        print_json(counts)
    else:
        console.print(", ".join(f"{k}: {v}" for k, v in counts.items()))


def beat(
    loglevel: str = typer.Option("INFO", metavar="LEVEL", help="log level"),
    schedule_file: Path | None = typer.Option(
        None, metavar="FILE", help="where beat keeps its schedule (default: in the data dir)"
    ),
) -> None:
    """Run the scheduler: the reconciler every minute, backlog draining every 30 s."""
    from worker.celery_app import app as celery_app

    ctx = get_context()
    require_broker(ctx)
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


def db_upgrade() -> None:
    """Create or upgrade the database schema to the latest revision."""
    ctx = get_context()
    ctx.db.upgrade()
    console.print(f"database at head: {ctx.db.engine.url.render_as_string(hide_password=True)}")
