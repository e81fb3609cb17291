"""Rich views of the engine's reports: the status, the reconciliation, the catalog plan.

The reports are plain data (pydantic models in :mod:`omnisdk.sync`); this is where they
are drawn as tables. :func:`report_view` picks the view of a report, and
:func:`~omnisdk.cli.engine_render.render_result` uses it before its generic tables.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich import box
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
    "status_hints",
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


def _ago(value: datetime | None, now: datetime) -> str:
    """How long before ``now``: ``45s ago``, ``12m ago``; a date when it is days old."""
    if value is None:
        return "never"
    seconds = (now - value).total_seconds()
    if seconds >= 172800:
        return value.astimezone(UTC).strftime("%Y-%m-%d")
    return f"{_duration(seconds)} ago"


def _table(title: str | None = None) -> Table:
    """A table in the CLI's one style: a title on the left, a rule under the header, no
    vertical lines, so that more columns fit a narrow terminal."""
    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, expand=False)


def status_table(report: StatusReport) -> Table:
    """One row per account (its channel type under its name); times as ages ("2m ago")."""
    view = _table(f"omnisdk status ({report.store_dialect} store)")
    for column in ("Account", "Status", "Lag", "Synced", "Pushed", "Outbox", "Failing"):
        view.add_column(column)
    view.add_column("Quarantine", justify="right")
    for account in report.accounts:
        label = Text(account.account)
        label.append(f"\n{account.channel}", style="dim")
        status = Text(account.status.replace("_", " "), style=_STATUS_STYLE.get(account.status, ""))
        if not account.configured:
            status.append(" (not configured)", style="dim")
        failing = account.outbox_retrying + account.failed_pushes
        view.add_row(
            label,
            status,
            _duration(account.max_lag_seconds),
            _ago(account.last_sync_at, report.generated_at),
            _ago(account.last_push_at, report.generated_at),
            str(account.outbox_depth),
            Text(str(failing), style="red" if failing else ""),
            Text(str(account.quarantine_open), style="red" if account.quarantine_open else ""),
        )
    return view


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
    view = _table("Problems")
    for column in ("Account", "What", "Key", "Why"):
        view.add_column(column)
    for row in rows:
        view.add_row(*(Text(cell) for cell in row))
    return view


def status_view(report: StatusReport) -> Group:
    """The accounts table, a line of totals, and the problems table when there are any."""
    totals = report.totals
    summary = Text(
        f"{totals.accounts} accounts, {totals.products} products / {totals.variants} "
        f"variants in the master catalog; outbox {totals.outbox_depth} "
        f"({totals.outbox_retrying} retrying, {totals.failed_pushes} failed); "
        f"{totals.quarantine_open} quarantined"
    )
    # Quota allocation: units moved to the accounts that sell them / pushes held short.
    moved = sum(account.rebalances for account in report.accounts)
    held = sum(account.starved for account in report.accounts)
    if moved or held:
        summary.append(f"; quotas: {moved} units moved to where they sell, {held} pushes held")
    summary.append(f"\nstore: {report.store_url}", style="dim")
    parts: list[RenderableType] = [status_table(report), summary]
    problems = status_problems_table(report)
    if problems is not None:
        parts.append(problems)
    parts += [Text(f"next: {hint}", style="yellow") for hint in status_hints(report)]
    return Group(*parts)


def status_hints(report: StatusReport) -> list[str]:
    """What to do about each state of the status that needs a person."""
    hints = []
    for account in report.accounts:
        name = account.account
        if account.status == "needs_reauth":
            hints.append(
                f"{name} lost its authorisation and is not called: put a new token in "
                f"omnisdk.toml, then `omnisdk channels reauthorise {name}`"
            )
        if account.failed_pushes:
            hints.append(
                f"{name}: {account.failed_pushes} stock pushes failed for good (see Problems); "
                f"fix the cause, then `omnisdk push --channel {name} --retry-failed`"
            )
        if account.quarantine_open:
            hints.append(
                f"{name}: {account.quarantine_open} payloads set aside: `omnisdk quarantine "
                "list` says why, `omnisdk quarantine retry` replays them once fixed"
            )
        if not account.configured:
            hints.append(f"{name} is in the store but not in omnisdk.toml")
    if report.totals.variants == 0:
        hints.append("the master catalog is empty: `omnisdk catalog import --channel NAME`")
    return hints


# -- the reconciliation ----------------------------------------------------------------------


def reconcile_table(report: ReconcileReport) -> Table:
    """One row per account."""
    table = _table("Reconciliation")
    for column in ("Account", "Checked", "In sync", "Drift", "Repaired", "Untracked", "Note"):
        table.add_column(column)
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
        if account.untracked:
            notes.append(f"{account.untracked} listed SKUs not counted yet")
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
    table = _table("Drift")
    for column in ("Account", "SKU", "Listed", "Should be", "Unseen", "Repair"):
        table.add_column(column)
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
    table = _table("Oversold")
    for column in ("SKU", "Location", "On hand", "Reserved", "Short", "Orders beyond stock"):
        table.add_column(column)
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
    for account in report.accounts:
        if account.untracked:
            parts.append(
                Text(
                    f"next: {account.untracked} SKUs {account.account} lists have no stock "
                    "count, so the engine leaves them alone: count them with `omnisdk stock "
                    "set SKU N`, or take what it lists with `omnisdk catalog import --channel "
                    f"{account.account} --with-stock`",
                    style="yellow",
                )
            )
    if report.oversells:
        parts.append(
            Text(
                "next: ship the orders beyond stock from another location or cancel them; "
                "if the count is wrong, `omnisdk stock set SKU N --location LOCATION`",
                style="yellow",
            )
        )
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
    table = _table("Catalog plan")
    for column in ("Account", "Change", "SKU", "Field", "Now", "After"):
        table.add_column(column)
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
    table = _table("Not sent")
    for column in ("Account", "SKU", "Why"):
        table.add_column(column)
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
