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
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from omnisdk.cli.output import stdout_console
from omnisdk.cli.report_render import report_view
from omnisdk.models import Money

if TYPE_CHECKING:
    from omnisdk.sync.engine import CycleStats
    from omnisdk.sync.pusher import PushStats

__all__ = [
    "fields_of",
    "human_label",
    "print_cycle",
    "print_result",
    "push_summary",
    "render_result",
    "result_text",
    "scalar_text",
    "when_text",
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


def human_label(name: str) -> str:
    """A field name as a header: ``bindings_created`` -> ``Bindings created``."""
    words = name.replace("_", " ").strip()
    return (words[:1].upper() + words[1:]) if words else name


def when_text(value: datetime) -> str:
    """A time as ``2026-12-04 20:10 UTC``: readable, and it breaks only between its parts."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def scalar_text(value: Any) -> str:
    """One value as short text: ``-`` for None, UTC times, enum values, Money as ``12.000 VND``."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return when_text(value)
    if isinstance(value, Money | Decimal | int | float | str):
        return str(value)
    if isinstance(value, Mapping):
        return ", ".join(f"{scalar_text(k)} {scalar_text(v)}" for k, v in value.items()) or "-"
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(scalar_text(item) for item in value) or "-"
    return str(value)


def _is_blank(value: Any) -> bool:
    """Nothing worth a row: 0, no, none, an empty collection."""
    if isinstance(value, Money):
        return False
    return value is None or value is False or value == 0 or value in ((), [], {}, "")


def _nested_records(value: Any) -> bool:
    return isinstance(value, list | tuple) and bool(value) and all(_is_record(i) for i in value)


def _record_title(record: Any, index: int) -> str:
    values = fields_of(record)
    words = [str(values[key]) for key in ("account", "stream") if isinstance(values.get(key), str)]
    return " ".join(words) or f"#{index + 1}"


_PER_TABLE = 4
"""Records side by side in one table: four value columns still fit 80 columns."""


def _records_table(title: str, records: list[Any]) -> RenderableType:
    """Records as a table with a row per field and a column per record, so that any number
    of fields fits a narrow terminal; fields that are 0/no/empty in every record are left
    out (``--json`` has them all), as are the records' own lists (drawn after it)."""
    names: list[str] = []
    for record in records:
        for name, item in fields_of(record).items():
            if name in ("account", "stream") or name in names or _nested_records(item):
                continue
            names.append(name)
    parts: list[RenderableType] = []
    for start in range(0, len(records), _PER_TABLE):
        chunk = records[start : start + _PER_TABLE]
        values = [fields_of(record) for record in chunk]
        shown = [n for n in names if not all(_is_blank(v.get(n)) for v in values)]
        table = Table(
            title=title if start == 0 else None, title_justify="left", box=box.SIMPLE_HEAD
        )
        table.add_column("", style="bold")
        for index, record in enumerate(chunk):
            table.add_column(Text(_record_title(record, start + index)), justify="right")
        for name in shown:
            table.add_row(human_label(name), *(Text(scalar_text(v.get(name))) for v in values))
        if not shown:
            table.add_row("(nothing to report)", *("" for _ in chunk))
        parts.append(table)
    for index, record in enumerate(records):
        for name, item in fields_of(record).items():
            if _nested_records(item):
                label = human_label(name)
                if len(records) > 1:
                    label = f"{_record_title(record, index)}: {label}"
                parts.append(_rows_table(label, list(item)))
    return Group(*parts)


def _rows_table(title: str, records: list[Any]) -> Table:
    """Records of a few fields each (failures, conflicts) as rows under human headers."""
    columns: list[str] = []
    for record in records:
        for name, item in fields_of(record).items():
            if name not in columns and not _nested_records(item):
                columns.append(name)
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
    for column in columns:
        table.add_column(human_label(column))
    for record in records:
        values = fields_of(record)
        table.add_row(*(Text(scalar_text(values.get(column))) for column in columns))
    return table


def render_result(value: Any, title: str | None = None) -> RenderableType:
    """A rich renderable for one engine result (see the module doc)."""
    from omnisdk.sync.pusher import PushStats

    if isinstance(value, Table | Text | Group):
        return value
    if isinstance(value, PushStats) and not any(a.claimed or a.stopped for a in value.accounts):
        return Text(f"{title}: {push_summary(value)}" if title else push_summary(value))
    view = report_view(value)
    if view is not None:
        return view
    if not _is_record(value):
        return Text(scalar_text(value))
    fields = fields_of(value)
    lists = {name: item for name, item in fields.items() if _nested_records(item)}
    scalars = {name: item for name, item in fields.items() if name not in lists}
    if list(lists) == ["accounts"] and not any(not _is_blank(v) for v in scalars.values()):
        return _records_table(title or "", list(lists["accounts"]))
    if lists and not scalars:
        return Group(*(_records_table(human_label(n), list(i)) for n, i in lists.items()))
    return _records_table(title or "", [value])


_PUSH_WORDS = (
    ("pushed", "sent"),
    ("unchanged", "already listed"),
    ("conflicts", "re-read after a sale on the channel"),
    ("retrying", "to retry"),
    ("failed", "failed (omnisdk status shows why)"),
)


def push_summary(stats: PushStats) -> str:
    """One sentence for a push pass: ``hanoi: 1 sent, 1 already listed``; accounts it did
    not touch are left out."""
    parts = []
    for account in stats.accounts:
        words = [
            f"{getattr(account, name)} {label}"
            for name, label in _PUSH_WORDS
            if getattr(account, name)
        ]
        if account.stopped:
            words.append("stopped: it needs re-authorisation")
        if words:
            parts.append(f"{account.account}: {', '.join(words)}")
    return "; ".join(parts) or "nothing to push: every channel already lists its figure"


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
