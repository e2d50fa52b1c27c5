"""What every `vidx` command shares: the consoles, the one-line failure, the error
handling wrapper, the output-format options and the help texts."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from sqlalchemy.exc import OperationalError

from worker.cli import output as out
from worker.context import get_context
from worker.errors import DatabaseUnavailableError, VidxError

if TYPE_CHECKING:
    from worker.context import AppContext

# stdout: soft wrap, so a line is never wrapped or cut at a guessed width (pipes, files);
# progress rows and notes go to stderr
console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False)
P = ParamSpec("P")
R = TypeVar("R")

FORMAT_HELP = "text or json (one JSON document on stdout)"
FEATURES_HELP = "comma-separated: segments, labels, moderation, faces, text"
ENGINE_HELP = "analysis engine: local or aws (VIDX_ENGINE)"
ID_HELP = "a video id, or its first 4+ characters when no other id starts with them"
CLIPS_HELP = "clips to cut: shots, content (comma-separated), or none"
MIN_LENGTH_HELP = "merge shots shorter than this (ms) into a neighbour; 0: off"
KEEP_CREDITS_HELP = "the content clip starts at the opening credits"
MODE_HELP = "clip cutting mode: smart (frame-exact; else accurate, with a note), accurate, copy"
CODEC_HELP = "clip codec: auto (ProRes stays ProRes in .mov, else H.264), h264 or prores"


# options several commands take, defined once so their names, defaults and help agree
def features_option() -> Any:
    return typer.Option("segments", metavar="FEATURES", help=FEATURES_HELP)


def engine_option() -> Any:
    return typer.Option(None, metavar="ENGINE", help=ENGINE_HELP)


def clips_option(default: str) -> Any:
    return typer.Option(default, metavar="KINDS", help=CLIPS_HELP)


def mode_option() -> Any:
    return typer.Option("smart", help=MODE_HELP)


def codec_option() -> Any:
    return typer.Option("auto", help=CODEC_HELP)


def min_length_option() -> Any:
    return typer.Option(0, "--min-length", metavar="MS", help=MIN_LENGTH_HELP)


def keep_credits_option() -> Any:
    return typer.Option(False, "--keep-opening-credits", help=KEEP_CREDITS_HELP)


def fail(message: str) -> typer.Exit:
    # exactly one line on stderr: callers and scripts read it
    sys.stderr.write(f"vidx: error: {' '.join(message.split())}\n")
    return typer.Exit(code=1)


def debugging() -> bool:
    """VIDX_DEBUG, through the settings; settings that do not parse are not debugging."""
    try:
        return get_context().settings.debug
    except Exception:
        return False


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
    """Errors end a command in one line on stderr and exit 1 (130 on Ctrl-C)."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (OperationalError, DatabaseUnavailableError) as exc:
            if debugging():
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
            if debugging():
                raise
            raise fail(
                f"internal error: {type(exc).__name__}: {exc} (VIDX_DEBUG=1 shows the traceback)"
            ) from None

    return wrapper


def print_json(obj: Any) -> None:
    sys.stdout.write(out.dumps(obj) + "\n")


def format_option(default: str = "text") -> Any:
    return typer.Option(default, "--format", metavar="text|json", help=FORMAT_HELP)


def json_alias() -> Any:
    return typer.Option(False, "--json", help="same as --format json")


def wants_json(fmt: str, as_json: bool = False) -> bool:
    if fmt not in ("text", "json"):
        raise VidxError(f"unknown format {fmt!r} (choose from: text, json)")
    return as_json or fmt == "json"


def video_id_of(ctx: AppContext, ref: str) -> str:
    """The full id of the video `ref` names: its id, or a unique prefix (4+ characters)."""
    from worker.video_ids import resolve

    with ctx.db.session() as s:
        return resolve(s, ref)


def ready_context() -> AppContext:
    """The context, its database schema checked (SQLite: migrated) first."""
    from worker.service import ensure_schema

    ctx = get_context()
    ensure_schema(ctx)
    return ctx


def require_broker(ctx: AppContext, example: bool = True) -> None:
    if not ctx.settings.broker_url:
        hint = ", e.g. redis://127.0.0.1:6379/0" if example else " (or use `vidx run`)"
        raise VidxError(f"no broker configured: set VIDX_BROKER_URL{hint}")
