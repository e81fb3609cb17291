"""Logging for the CLI: warnings as plain ``warning:`` lines, or everything with ``-v``.

With ``--verbose`` every logger logs at DEBUG through a rich handler on stderr. Without it only
warnings and errors show, one plain line each. The chattiest libraries (:data:`QUIET_LOGGERS`)
stay at WARNING in both modes: httpx's request lines repeat what the omnisdk HTTP layer logs
itself (redacted, with the attempt and rate-limit lane), and httpcore's DEBUG is wire noise.
"""

from __future__ import annotations

import logging
import sys

from rich.console import Console
from rich.logging import RichHandler

from omnisdk.errors import MappingError

__all__ = ["QUIET_LOGGERS", "configure_logging"]

_HANDLER_NAME = "omnisdk.cli"
QUIET_LOGGERS = ("httpx", "httpcore", "hpack", "asyncio", "stevedore")
"""Loggers kept at WARNING even with ``--verbose``."""


class _StderrHandler(logging.Handler):
    """Writes ``warning: message`` lines to whatever ``sys.stderr`` is at the time."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(f"{record.levelname.lower()}: {self.format(record)}\n")
            sys.stderr.flush()
        except Exception:  # logging must never take the command down
            self.handleError(record)


def _not_a_reported_rejection(record: logging.LogRecord) -> bool:
    """Drop the channel's own log line for a rejected record: the CLI reports those itself."""
    args = record.args if isinstance(record.args, tuple) else ()
    return not any(isinstance(arg, MappingError) for arg in args)


def configure_logging(*, verbose: bool) -> None:
    """Install the CLI's log handler on the root logger (replacing one installed before)."""
    root = logging.getLogger()
    for installed in list(root.handlers):
        if installed.get_name() == _HANDLER_NAME:
            root.removeHandler(installed)
    handler: logging.Handler
    if verbose:
        handler = RichHandler(
            console=Console(stderr=True),
            show_path=False,
            markup=False,
            rich_tracebacks=False,
            log_time_format="[%X]",
        )
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        level = logging.DEBUG
    else:
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler.addFilter(_not_a_reported_rejection)
        level = logging.WARNING
    handler.set_name(_HANDLER_NAME)
    handler.setLevel(level)
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
