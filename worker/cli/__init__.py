"""The `vidx` command: parses options, calls services, prints. No logic of its own.

One module per group of commands (run.py: run, submit; indexing.py: clips, import,
delete; reading.py: status, timeline, query; operations.py: the processes and set-up);
common.py holds what they share. The commands are registered here, in help order."""

from __future__ import annotations

import sys

import typer

from worker.cli import indexing, operations, reading
from worker.cli import run as run_cmds
from worker.cli.common import handled
from worker.cli.help import ReadableGroup

HELP = "Index stored videos: shots, technical cues and more as timestamped timelines; clips."

app = typer.Typer(
    name="vidx",
    help=HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},  # inherited by every command
    cls=ReadableGroup,
)
db_app = typer.Typer(help="Database schema (Alembic).", no_args_is_help=True, cls=ReadableGroup)
aws_app = typer.Typer(
    help="Amazon Web Services resources for the Rekognition engine.", cls=ReadableGroup
)


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


COMMANDS = (  # in help order; a command is named after its function, less `_cmd`
    run_cmds.run,
    run_cmds.submit,
    reading.status,
    reading.timeline_cmd,
    reading.query,
    indexing.clips,
    indexing.delete,
    operations.worker,
    operations.serve,
    indexing.import_cmd,
    operations.poll,
    operations.reconcile_cmd,
    operations.beat,
)
for fn in COMMANDS:
    app.command(fn.__name__.removesuffix("_cmd"))(handled(fn))
app.command("health")(operations.health)  # its own exits: a healthcheck reads only the code
aws_app.command("setup")(handled(operations.aws_setup))
db_app.command("upgrade")(handled(operations.db_upgrade))
app.add_typer(db_app, name="db")
app.add_typer(aws_app, name="aws")


def main() -> None:
    app()
