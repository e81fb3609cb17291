"""How ``omnisdk demo`` looks: the live view of one moment, and the final summary.

Both are drawn from the demo's plain-data reports (:mod:`omnisdk.demo.report`); nothing in
the demo itself knows about rich. They are made for a default 80x24 terminal and a
merchant's eyes: products by name (a name wraps between words, never a word a line),
channels by platform, "turned away: sold out" rather than an HTTP status.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group
from rich.table import Table
from rich.text import Text

from omnisdk.cli.tables import cli_table

if TYPE_CHECKING:
    from omnisdk.demo.report import DemoSnapshot, DemoSummary

__all__ = ["buffer_note", "snapshot_table", "summary_tables"]


def _short(account: str) -> str:
    """The column header of an account: its platform (``shopify-hue`` -> ``shopify``)."""
    return account.split("-")[0]


def _product_table(title: str, accounts: list[str], *first: str) -> Table:
    table = cli_table("Product", *first, title=title, wrap=("Product",))
    for header in first:
        table.columns[[c.header for c in table.columns].index(header)].justify = "right"
    for account in accounts:
        table.add_column(_short(account), justify="right", no_wrap=True)
    return table


def buffer_note(safety_buffer: int) -> Text:
    """What the safety buffer is, in a merchant's words."""
    if safety_buffer == 0:
        return Text("No units are held back: channels list every free unit.", style="dim")
    units = "unit" if safety_buffer == 1 else "units"
    stay = "stays" if safety_buffer == 1 else "stay"
    return Text(
        f"Safety buffer: {safety_buffer} {units} of each product {stay} off every channel, so "
        "buyers on two channels at the same moment cannot both get the last one.",
        style="dim",
    )


def snapshot_table(snapshot: DemoSnapshot) -> Group:
    """The live view of one moment: stock per product and what each channel shows."""
    accounts = list(snapshot.accepted)
    table = _product_table(
        f"omnisdk demo: {snapshot.phase} ({snapshot.elapsed:.0f} s)",
        accounts,
        "Start",
        "Sold",
        "Free",
    )
    for sku in snapshot.skus:
        free = sku.on_hand - sku.reserved
        listed = [
            Text(str(sku.listed.get(account, 0)), style="" if sku.listed.get(account) else "red")
            for account in accounts
        ]
        table.add_row(
            Text(sku.title),
            str(sku.start),
            str(sku.sold),
            Text(str(free), style="bold red" if free <= 0 else ""),
            *listed,
        )
    orders = Text()
    for account in accounts:
        refused = snapshot.refused.get(account, 0)
        orders.append(f"{_short(account)}: ", style="bold")
        orders.append(f"{snapshot.accepted[account]} orders")
        if refused:
            orders.append(f", {refused} turned away (sold out)")
        orders.append("  ")
    return Group(table, Text("Per channel: what it shows buyers now.", style="dim"), orders)


def summary_tables(summary: DemoSummary) -> Group:
    """The final summary: orders per channel, units per product, what was promised."""
    channels = cli_table(
        "Channel",
        "Platform",
        "Orders",
        "Sold out",
        "In the book",
        "Stock shown",
        title="Orders per channel",
    )
    for column in channels.columns[2:]:
        column.justify = "right"
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
                "right" if channel.listed_matches_sellable else "WRONG",
                style="green" if channel.listed_matches_sellable else "bold red",
            ),
        )
    accounts = list(summary.skus[0].listed) if summary.skus else []
    skus = _product_table("Units per product", accounts, "Start", "Sold", "Oversold")
    for sku in summary.skus:
        skus.add_row(
            Text(sku.title),
            str(sku.start),
            str(sku.sold),
            Text(str(sku.oversold), style="bold red" if sku.oversold else "green"),
            *(str(sku.listed.get(account, 0)) for account in accounts),
        )
    verdict = Text()

    def check(label: str, ok: bool) -> None:
        verdict.append("✓ " if ok else "✗ ", style="green" if ok else "bold red")
        verdict.append(label + "\n")

    check(f"no unit sold twice (oversold: {summary.oversold_units})", summary.oversold_units == 0)
    check(f"all {summary.orders} orders are in one order book", summary.orders_in_one_book)
    check("every channel shows the stock it may sell", summary.listed_converged)
    check("the stock adds up: what is left = start - sold", summary.ledger_consistent)
    check("a final check of every channel finds nothing oversold", summary.oversells_in_book == 0)
    if summary.drift_repaired:
        verdict.append(
            f"  the final check set {len(summary.drift_repaired)} listings right: "
            + ", ".join(summary.drift_repaired)
            + "\n",
            style="yellow",
        )
    for problem in summary.problems:
        verdict.append(f"  {problem}\n", style="red")
    return Group(
        channels,
        skus,
        Text("Per channel: units it shows buyers now.", style="dim"),
        buffer_note(summary.safety_buffer),
        verdict,
    )
