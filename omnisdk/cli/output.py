"""How the CLI writes: data on stdout (JSON or rich tables), messages on stderr.

JSON goes out through :func:`typer.echo`, never through rich (which would wrap and colour it),
and is flushed line by line so a consumer sees each object as soon as it is written. Text
that comes from a platform or a config is never read as rich markup.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.text import Text

__all__ = [
    "emit_json",
    "emit_json_line",
    "print_error",
    "print_note",
    "print_warning",
    "silence_stdout",
    "stderr_console",
    "stdout_console",
]


def stdout_console() -> Console:
    """A rich console on the current stdout (looked up at each write, so tests can capture it)."""
    return Console(highlight=False, soft_wrap=False)


def stderr_console() -> Console:
    """A rich console on the current stderr; long lines are not wrapped."""
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _message(prefix: str, style: str, message: str) -> None:
    text = Text()
    text.append(prefix, style=style)
    text.append(message)
    stderr_console().print(text)


def print_error(message: str) -> None:
    """Print ``error: message`` on stderr."""
    _message("error: ", "bold red", message)


def print_warning(message: str) -> None:
    """Print ``warning: message`` on stderr."""
    _message("warning: ", "yellow", message)


def print_note(message: str) -> None:
    """Print an informational message on stderr (kept off stdout so it never mixes with
    data), wrapped between words to the terminal's width; errors and warnings stay one line
    each (scripts read them)."""
    Console(stderr=True, highlight=False).print(Text(message))


def emit_json(data: Any) -> None:
    """Print one JSON document (an array or object) on stdout, indented, UTF-8 as is."""
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def emit_json_line(model: BaseModel) -> None:
    """Print ``model`` as exactly its pydantic JSON, on one line, and flush."""
    typer.echo(model.model_dump_json())


def silence_stdout() -> None:
    """Point stdout at /dev/null after the reader went away (``omnisdk pull ... | head``).

    Without this, Python reports the broken pipe again when it flushes stdout on exit.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout has no file descriptor (captured in tests)
        pass
