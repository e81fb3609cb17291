"""``reference/cli.md``: every command of the ``omnisdk`` app, walked from the typer app.

Commands, arguments, options and help texts come from :func:`omnisdk.cli.app.build_app`
(with the installed plugins' commands), so the page lists exactly what ``omnisdk -h`` does.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import typer

from omnisdk.cli.app import build_app
from omnisdk.plugins import Plugins

from .text import cell, slug

__all__ = ["cli_commands", "cli_page"]

HEADER = """# CLI reference

<!-- Generated at build time by walking the typer app (scripts/manual/cli_reference.py). -->

Every `omnisdk` command with its arguments and options, as `omnisdk COMMAND -h` prints them.
An error is one line on stderr (`error: ...`) and exit status 1; a usage error (a bad option,
an unknown command) exit status 2. What each error means and what to do about it is in
[Troubleshooting](../troubleshooting.md).
"""


def cli_commands(plugins: Plugins | None = None) -> Iterator[tuple[str, Any, Any]]:
    """``(path, command, context)`` of the root and every command under it, depth first."""
    root = typer.main.get_command(build_app(plugins))
    root_ctx = root.context_class(root, info_name="omnisdk")
    stack = [("omnisdk", root, root_ctx)]
    while stack:
        path, command, ctx = stack.pop(0)
        yield path, command, ctx
        subcommands = getattr(command, "commands", {})
        children = [
            (f"{path} {name}", sub, sub.context_class(sub, info_name=name, parent=ctx))
            for name, sub in subcommands.items()
            if not getattr(sub, "hidden", False)
        ]
        stack[0:0] = children


def _parameter_rows(command: Any, ctx: Any) -> list[str]:
    rows = []
    for param in command.params:
        if getattr(param, "hidden", False):
            continue
        record = param.get_help_record(ctx)
        if record is None:
            continue
        name, help_text = f"`{record[0]}`", record[1]
        rows.append(f"| {cell(name)} | {cell(help_text)} |")
    rows.append("| `-h`, `--help` | Show the help and exit. |")
    return rows


def _command_section(path: str, command: Any, ctx: Any) -> str:
    depth = min(path.count(" ") + 1, 3)
    usage = " ".join([path, *command.collect_usage_pieces(ctx)])
    help_text = inspect.cleandoc(command.help or "").replace("\b\n", "")
    lines = [
        f"{'#' * (depth + 1)} `{path}` {{#{slug(path)}}}",
        "",
        f"```text\n{usage}\n```",
        "",
        help_text,
        "",
    ]
    subcommands = [name for name, sub in getattr(command, "commands", {}).items()
                   if not getattr(sub, "hidden", False)]
    if subcommands:
        links = ", ".join(f"[`{name}`](#{slug(f'{path} {name}')})" for name in subcommands)
        lines += [f"Commands: {links}.", ""]
    lines += ["| argument or option | meaning |", "|---|---|", *_parameter_rows(command, ctx)]
    return "\n".join(lines) + "\n"


def cli_page(plugins: Plugins | None = None) -> str:
    """The Markdown of the CLI reference."""
    sections = [_command_section(*found) for found in cli_commands(plugins)]
    return "\n".join([HEADER, *sections])
