"""``omnisdk demo``: every installed channel's sandbox, one engine, buyers on every channel.

The live view (rich) shows, per SKU, the units sold everywhere against the starting stock,
the one stock pool, and what each channel lists right now: watch a scarce item sell out on
every channel at once. ``--no-live`` prints plain progress lines instead (CI, logs) and
``--json`` prints the final summary as JSON. The exit status is 0 only when every invariant
held: nothing oversold, every order in the one book, every channel's listing converged.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from omnisdk.cli.output import emit_json, print_note, stdout_console
from omnisdk.cli.state import get_state

if TYPE_CHECKING:
    from omnisdk.demo import DemoSnapshot, DemoSummary

__all__ = ["demo", "snapshot_table", "summary_tables"]


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


def demo(
    ctx: typer.Context,
    duration: Annotated[
        float, typer.Option(min=0.5, metavar="SECONDS", help="How long the buyers shop.")
    ] = 8.0,
    buyers: Annotated[
        int, typer.Option(min=1, metavar="N", help="Buyers shopping at once, spread over channels.")
    ] = 4,
    seed: Annotated[int, typer.Option(metavar="N", help="Seed of the buyers' choices.")] = 0,
    safety_buffer: Annotated[
        int,
        typer.Option(
            min=0,
            metavar="UNITS",
            help="Units of every SKU held back from every channel.",
        ),
    ] = 1,
    keep: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR",
            file_okay=False,
            help="Keep the demo's omnisdk.toml and database in DIR (default: a temporary dir).",
        ),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the final summary as JSON on stdout.")
    ] = False,
    no_live: Annotated[
        bool, typer.Option("--no-live", help="Plain progress lines instead of the live view.")
    ] = False,
) -> None:
    """Run every installed channel's sandbox, one engine, and buyers on every channel at once.

    Shows live that no channel oversells and that every order lands in one book, then prints
    a summary. Exits 0 when every invariant held.
    """
    from omnisdk.demo import run_demo

    state = get_state(ctx)
    console = Console(stderr=True)
    live_view = not no_live and console.is_terminal
    http_logger = logging.getLogger("omnisdk.http")
    http_level = http_logger.level
    if not state.verbose:
        # The demo's own lines say what happens; per-request warnings would drown them.
        http_logger.setLevel(logging.ERROR)

    def phase(text: str) -> None:
        if not live_view:
            print_note(text)

    async def main() -> DemoSummary:
        if not live_view:
            return await run_demo(
                state.plugins,
                duration=duration,
                buyers=buyers,
                seed=seed,
                safety_buffer=safety_buffer,
                on_phase=phase,
                keep_dir=keep,
            )
        with Live(console=console, refresh_per_second=8, transient=False) as live:
            return await run_demo(
                state.plugins,
                duration=duration,
                buyers=buyers,
                seed=seed,
                safety_buffer=safety_buffer,
                on_snapshot=lambda snapshot: live.update(snapshot_table(snapshot)),
                keep_dir=keep,
            )

    try:
        summary = asyncio.run(main())
    finally:
        http_logger.setLevel(http_level)  # in-process callers (tests, apps) keep their logging
    if json_output:
        emit_json(summary.model_dump(mode="json"))
    else:
        stdout_console().print(summary_tables(summary))
    if keep is not None:
        print_note(f"config and database kept in {keep}")
    if not summary.ok:
        raise typer.Exit(1)
