"""Rich views of the engine's reports: the status, the reconciliation, the catalog plan.

The reports are plain data (pydantic models in :mod:`omnisdk.sync`); this is where they
are drawn as tables. :func:`report_view` picks the view of a report, and
:func:`~omnisdk.cli.engine_render.render_result` uses it before its generic tables.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from omnisdk.sync.catalog.models import FieldValue, Plan
    from omnisdk.sync.reconcile import ReconcileReport
    from omnisdk.sync.status import StatusReport

__all__ = [
    "plan_skipped_table",
    "plan_table",
    "plan_view",
    "reconcile_drift_table",
    "reconcile_oversell_table",
    "reconcile_table",
    "reconcile_view",
    "report_view",
    "status_problems_table",
    "status_table",
    "status_view",
]


def report_view(value: object) -> RenderableType | None:
    """The view of ``value`` when it is a status report, reconciliation or plan; else None."""
    from omnisdk.sync.catalog.models import Plan
    from omnisdk.sync.reconcile import ReconcileReport
    from omnisdk.sync.status import StatusReport

    if isinstance(value, StatusReport):
        return status_view(value)
    if isinstance(value, ReconcileReport):
        return reconcile_view(value)
    if isinstance(value, Plan):
        return plan_view(value)
    return None


# -- the status ------------------------------------------------------------------------------

_STATUS_STYLE = {
    "active": "green",
    "needs_reauth": "bold red",
    "archived": "dim",
    "unregistered": "yellow",
}


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = max(seconds, 0.0)
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    if seconds < 172800:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def _when(value: datetime | None) -> str:
    return "-" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def status_table(report: StatusReport) -> Table:
    """One row per account."""
    table = Table(title=f"omnisdk status - store {report.store_url}", expand=False)
    for column in (
        "Account",
        "Channel",
        "Status",
        "Lag",
        "Last sync",
        "Last push",
        "Outbox",
        "Failing",
        "Moved/starved",
        "Quarantine",
    ):
        table.add_column(column, overflow="fold")
    for account in report.accounts:
        status = Text(account.status, style=_STATUS_STYLE.get(account.status, ""))
        if not account.configured:
            status.append(" (not configured)", style="dim")
        table.add_row(
            account.account,
            account.channel,
            status,
            _duration(account.max_lag_seconds),
            _when(account.last_sync_at),
            _when(account.last_push_at),
            str(account.outbox_depth),
            Text(
                str(account.outbox_retrying + account.failed_pushes),
                style="red" if account.outbox_retrying + account.failed_pushes else "",
            ),
            # Quota allocation: units moved away to where they sell / pushes held short.
            f"{account.rebalances}/{account.starved}",
            Text(str(account.quarantine_open), style="red" if account.quarantine_open else ""),
        )
    return table


def status_problems_table(report: StatusReport) -> Table | None:
    """The failing pushes and quarantine reasons shown per account (None when none)."""
    rows: list[tuple[str, str, str, str]] = []
    for account in report.accounts:
        rows += [(account.account, f"push ({f.source})", f.sku, f.error) for f in account.failing]
        rows += [
            (account.account, f"quarantine ({q.kind})", q.external_id or "-", q.reason)
            for q in account.quarantine_recent
        ]
    if not rows:
        return None
    table = Table(title="Problems", expand=False)
    for column in ("Account", "What", "Key", "Why"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    return table


def status_view(report: StatusReport) -> Group:
    """The accounts table, a line of totals, and the problems table when there are any."""
    totals = report.totals
    summary = Text(
        f"{totals.accounts} accounts, {totals.products} products / {totals.variants} "
        f"variants in the master catalog; outbox {totals.outbox_depth} "
        f"({totals.outbox_retrying} retrying, {totals.failed_pushes} failed); "
        f"{totals.quarantine_open} quarantined"
    )
    parts: list[RenderableType] = [status_table(report), summary]
    problems = status_problems_table(report)
    if problems is not None:
        parts.append(problems)
    return Group(*parts)


# -- the reconciliation ----------------------------------------------------------------------


def reconcile_table(report: ReconcileReport) -> Table:
    """One row per account."""
    table = Table(title="Reconciliation", expand=False)
    for column in ("Account", "Checked", "In sync", "Drift", "Repaired", "Untracked", "Note"):
        table.add_column(column, overflow="fold")
    for account in report.accounts:
        notes = []
        if account.error:
            notes.append(account.error)
        if account.unbound:
            notes.append(f"{len(account.unbound)} listed SKUs not bound (import the account)")
        if account.missing:
            notes.append(f"{len(account.missing)} bound SKUs not listed")
        if account.unknown:
            notes.append(f"{len(account.unknown)} SKUs not in the master catalog")
        table.add_row(
            account.account,
            str(account.checked),
            str(account.in_sync),
            Text(str(len(account.drift)), style="red" if account.drift else ""),
            str(account.repaired),
            str(account.untracked),
            Text("; ".join(notes)),
        )
    return table


def reconcile_drift_table(report: ReconcileReport) -> Table | None:
    """The drifted listings (None when there are none)."""
    if not report.drift:
        return None
    table = Table(title="Drift", expand=False)
    for column in ("Account", "SKU", "Listed", "Should be", "Unseen", "Repair"):
        table.add_column(column, overflow="fold")
    for item in report.drift:
        repair = ("set" if item.repaired else "not repaired") + (
            f": {item.note}" if item.note else ""
        )
        table.add_row(
            item.account,
            Text(item.sku),
            str(item.listed),
            str(item.expected),
            str(item.unseen),
            Text(repair),
        )
    return table


def reconcile_oversell_table(report: ReconcileReport) -> Table | None:
    """The oversold SKUs and their orders (None when nothing is oversold)."""
    if not report.oversells:
        return None
    table = Table(title="Oversold", expand=False)
    for column in ("SKU", "Location", "On hand", "Reserved", "Short", "Orders beyond stock"):
        table.add_column(column, overflow="fold")
    for oversell in report.oversells:
        beyond = [
            f"{o.account}:{o.number or o.external_id}" if o.account else o.reference
            for o in oversell.orders
            if o.beyond_stock
        ]
        table.add_row(
            Text(oversell.sku),
            oversell.location,
            str(oversell.on_hand),
            str(oversell.reserved),
            Text(str(oversell.shortfall), style="red"),
            Text(", ".join(beyond)),
        )
    return table


def reconcile_view(report: ReconcileReport) -> Group:
    """The accounts table, then the drift and oversold tables when there is any."""
    parts: list[RenderableType] = [reconcile_table(report)]
    for extra in (reconcile_drift_table(report), reconcile_oversell_table(report)):
        if extra is not None:
            parts.append(extra)
    return Group(*parts)


# -- the catalog plan ----------------------------------------------------------------------

_KIND_STYLE = {
    "create": "green",
    "update": "yellow",
    "price": "cyan",
    "stock": "magenta",
}


def _show(value: FieldValue) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(value) or "(none)"
    return str(value)


def plan_table(plan: Plan) -> Table:
    """The changes: one row per changed field."""
    table = Table(title="Catalog plan", show_lines=False, expand=False)
    for column in ("Account", "Change", "SKU", "Field", "Now", "After"):
        table.add_column(column, overflow="fold")
    for account in plan.accounts:
        if account.error:
            table.add_row(
                account.account, Text("error", style="red"), "", "", Text(account.error), ""
            )
        for change in account.changes:
            for index, item in enumerate(change.fields):
                first = index == 0
                table.add_row(
                    account.account if first else "",
                    Text(change.kind.value, style=_KIND_STYLE[change.kind.value]) if first else "",
                    Text(change.sku) if first else "",
                    item.field,
                    Text(_show(item.before), style="dim"),
                    Text(_show(item.after), style="bold"),
                )
    return table


def plan_skipped_table(plan: Plan) -> Table | None:
    """What differs but will not be sent (None when nothing is skipped)."""
    rows = [(a.account, s) for a in plan.accounts for s in a.skipped]
    if not rows:
        return None
    table = Table(title="Not sent", expand=False)
    for column in ("Account", "SKU", "Why"):
        table.add_column(column, overflow="fold")
    for account, item in rows:
        table.add_row(account, Text(item.sku), Text(item.reason))
    return table


def plan_view(plan: Plan) -> Group:
    """The changes table, the skipped table, or a line saying there is nothing to send."""
    parts: list[RenderableType] = [plan_table(plan)]
    skipped = plan_skipped_table(plan)
    if skipped is not None:
        parts.append(skipped)
    if plan.is_empty:
        parts.append(Text("Nothing to send: every channel matches the master catalog."))
    return Group(*parts)
