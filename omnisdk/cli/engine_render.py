"""Human output for engine results: rich tables built from the result models themselves.

The results are plain data. Reports with a view of their own (the status, the
reconciliation, the plan: :mod:`omnisdk.cli.report_render`) are drawn by it. Any other
pydantic model or dataclass becomes a two-column table of its scalar fields, with each list
of records shown as a table of its own (one row per record), so a new field in a result
shows up without touching the CLI.
"""

from __future__ import annotations

import dataclasses
import enum
import io
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from omnisdk.cli.output import stdout_console
from omnisdk.cli.report_render import report_view
from omnisdk.models import Money

if TYPE_CHECKING:
    from omnisdk.sync.engine import CycleStats

__all__ = [
    "fields_of",
    "print_cycle",
    "print_result",
    "render_result",
    "result_text",
    "scalar_text",
]


def fields_of(value: Any) -> dict[str, Any]:
    """The public fields of a pydantic model, dataclass or mapping, in declaration order."""
    if isinstance(value, BaseModel):
        return {name: getattr(value, name) for name in type(value).model_fields}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): item for key, item in value.items()}
    return {}


def _is_record(value: Any) -> bool:
    return bool(fields_of(value)) and not isinstance(value, Money)


def scalar_text(value: Any) -> str:
    """One value as short text: ``-`` for None, ISO times, enum values, Money as ``12.000 VND``."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, Money | Decimal | int | float | str):
        return str(value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={scalar_text(v)}" for k, v in value.items()) or "-"
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(scalar_text(item) for item in value) or "-"
    return str(value)


def _records_table(title: str, records: list[Any]) -> Table:
    columns: list[str] = []
    for record in records:
        for name, item in fields_of(record).items():
            if name not in columns and not (
                isinstance(item, list | tuple) and item and _is_record(item[0])
            ):
                columns.append(name)
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for record in records:
        values = fields_of(record)
        table.add_row(*(Text(scalar_text(values.get(column))) for column in columns))
    return table


def render_result(value: Any, title: str | None = None) -> RenderableType:
    """A rich renderable for one engine result (see the module doc)."""
    if isinstance(value, Table | Text | Group):
        return value
    view = report_view(value)
    if view is not None:
        return view
    if not _is_record(value):
        return Text(scalar_text(value))
    summary = Table(title=title, title_justify="left", show_header=False, box=None)
    summary.add_column(style="bold")
    summary.add_column()
    nested: list[RenderableType] = []
    for name, item in fields_of(value).items():
        if isinstance(item, list | tuple) and item and all(_is_record(i) for i in item):
            nested.append(_records_table(name, list(item)))
        elif _is_record(item):
            nested.append(render_result(item, title=name))
        else:
            summary.add_row(name, Text(scalar_text(item)))
    return Group(summary, *nested)


def result_text(value: Any, width: int = 120) -> str:
    """One engine result as plain text (no colours), ``width`` characters wide."""
    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None, highlight=False).print(
        render_result(value)
    )
    return buffer.getvalue()


def print_result(value: Any, title: str | None = None) -> None:
    """Print one engine result on stdout for people."""
    stdout_console().print(render_result(value, title=title))


def print_cycle(cycle: CycleStats) -> None:
    """Print what one ``sync --once`` cycle did: polls, the push, the reconciliation."""
    parts: list[RenderableType] = []
    polls: Iterable[Any] = cycle.polls
    if cycle.polls:
        parts.append(_records_table("Order polls", list(polls)))
    parts.append(render_result(cycle.push, title="Stock push"))
    if cycle.reconcile is not None:
        parts.append(render_result(cycle.reconcile, title="Reconciliation"))
    stdout_console().print(Group(*parts))
