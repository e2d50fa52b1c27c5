"""Readable `--help` for every `vidx` command: each value shows a metavar (`--mode MODE`,
`--min-length MS`, `VIDEO`), never a Python type name (`<str>`, `<int>`), and a flag shows
none (`--force`, not `--force <bool>`).

Done once, where commands are resolved (the group), so a command added later gets it too
without repeating metavars on every option. (typer 0.29 carries its own copy of click,
`typer._click`: its classes are reached through typer.core, contexts typed as Any.)
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperArgument, TyperGroup, TyperOption


def _no_type(ctx: Any) -> str | None:
    return None


def readable(param: Any) -> None:
    if isinstance(param, TyperOption) and param.is_flag:
        param.metavar = ""  # typer shows the metavar, else the type: a flag takes no value
    elif param.metavar is None and param.name:
        param.metavar = param.name.upper()
    if isinstance(param, TyperArgument):
        # typer prints an argument's type beside its metavar (`VIDEO <path>`)
        setattr(param, "display_type_rich", _no_type)  # noqa: B010


def readable_command(cmd: Any, ctx: Any) -> Any:
    for param in cmd.params:
        readable(param)
    help_option = cmd.get_help_option(ctx)
    if help_option is not None:
        readable(help_option)
    return cmd


class ReadableGroup(TyperGroup):
    """A typer group whose commands (and own options) have readable metavars."""

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        cmd = super().get_command(ctx, cmd_name)
        return None if cmd is None else readable_command(cmd, ctx)

    def get_params(self, ctx: Any) -> Any:
        readable_command(self, ctx)
        return super().get_params(ctx)
