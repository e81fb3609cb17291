"""How ``omnisdk demo`` looks: the live view of one moment, and the final summary.

Both are drawn from the demo's plain-data reports (:mod:`omnisdk.demo.report`); nothing in
the demo itself knows about rich.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from omnisdk.demo.report import DemoSnapshot, DemoSummary

__all__ = ["snapshot_table", "summary_tables"]


def _short(account: str) -> str:
    return account.split("-")[0]


def snapshot_table(snapshot: DemoSnapshot) -> Group:
    """The live view of one moment: stock per SKU and channel, orders per channel."""
    accounts = list(snapshot.accepted)
    table = Table(
        title=f"omnisdk demo — {snapshot.phase} ({snapshot.elapsed:.1f} s)",
        title_justify="left",
    )
    table.add_column("SKU", style="cyan", no_wrap=True)
    table.add_column("Sản phẩm")
    table.add_column("start", justify="right")
    table.add_column("sold", justify="right")
    table.add_column("pool", justify="right")
    for account in accounts:
        table.add_column(f"listed\n{_short(account)}", justify="right")
    table.add_column("oversold", justify="right")
    for sku in snapshot.skus:
        free = sku.on_hand - sku.reserved
        oversold = max(sku.sold - sku.start, 0)
        listed = [
            Text(
                str(sku.listed.get(account, 0)), style="red" if not sku.listed.get(account) else ""
            )
            for account in accounts
        ]
        table.add_row(
            Text(sku.sku),
            Text(sku.title),
            str(sku.start),
            str(sku.sold),
            Text(str(free), style="bold red" if free <= 0 else ""),
            *listed,
            Text(str(oversold), style="bold red" if oversold else "green"),
        )
    orders = Table.grid(padding=(0, 2))
    orders.add_row(
        *[
            Text(
                f"{account}: {snapshot.accepted[account]} orders, "
                f"{snapshot.refused.get(account, 0)} refused (sold out), "
                f"{snapshot.in_book.get(account, 0)} in the book"
            )
            for account in accounts
        ]
    )
    return Group(table, orders)


def summary_tables(summary: DemoSummary) -> Group:
    """The final summary: orders per channel, units per SKU, the invariants."""
    channels = Table(title="Orders per channel", title_justify="left")
    for column in ("Channel", "Type", "Orders", "Refused (409)", "In the book", "Listing"):
        channels.add_column(column, justify="left" if column in ("Channel", "Type") else "right")
    for channel in summary.channels:
        channels.add_row(
            channel.account,
            channel.channel_type,
            str(channel.orders),
            str(channel.refused),
            Text(
                str(channel.orders_in_book),
                style="green" if channel.orders_in_book == channel.orders else "bold red",
            ),
            Text(
                "converged" if channel.listed_matches_sellable else "DIFFERS",
                style="green" if channel.listed_matches_sellable else "bold red",
            ),
        )
    skus = Table(title="Units per SKU", title_justify="left")
    for column in ("SKU", "Sản phẩm", "Start", "Sold", "Oversold", "Listed now"):
        skus.add_column(column, justify="left" if column in ("SKU", "Sản phẩm") else "right")
    for sku in summary.skus:
        listed = ", ".join(f"{_short(a)} {n}" for a, n in sku.listed.items())
        skus.add_row(
            Text(sku.sku, style="cyan"),
            Text(sku.title),
            str(sku.start),
            str(sku.sold),
            Text(str(sku.oversold), style="bold red" if sku.oversold else "green"),
            listed,
        )
    verdict = Text()

    def check(label: str, ok: bool) -> None:
        verdict.append("✓ " if ok else "✗ ", style="green" if ok else "bold red")
        verdict.append(label + "\n")

    check(f"oversold units: {summary.oversold_units}", summary.oversold_units == 0)
    check(f"all {summary.orders} orders landed in one book", summary.orders_in_one_book)
    check("every channel lists what the engine says it may sell", summary.listed_converged)
    check("the stock pool adds up (on hand - reserved = start - sold)", summary.ledger_consistent)
    check(
        f"the reconciliation finds no oversold SKU in the book ({summary.oversells_in_book})",
        summary.oversells_in_book == 0,
    )
    if summary.drift_repaired:
        verdict.append(
            f"  the reconciliation set {len(summary.drift_repaired)} listings right: "
            + ", ".join(summary.drift_repaired)
            + "\n",
            style="yellow",
        )
    for problem in summary.problems:
        verdict.append(f"  {problem}\n", style="red")
    return Group(channels, skus, verdict)
