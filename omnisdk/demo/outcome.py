"""What the demo observes while it runs, and the invariants its summary checks.

:class:`DemoRun` is the state of one run (the engine, the shops, the buyers' tallies);
:func:`snapshot` reads it for the live view and :func:`summarise` checks, once the buyers
are done: no SKU sold more units than it had, every order every channel took is in the one
order book, the stock pool adds up, and every channel lists exactly what the engine says it
may sell.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from omnisdk.demo.buyers import BuyerTally
from omnisdk.demo.report import ChannelSummary, DemoSnapshot, DemoSummary, SkuSnapshot, SkuSummary
from omnisdk.demo.scenario import DemoItem
from omnisdk.demo.shops import DemoChannel
from omnisdk.hookspecs import hookimpl
from omnisdk.models import Order

if TYPE_CHECKING:
    from omnisdk.runtime.local import LocalRuntime
    from omnisdk.sync.engine import Engine
    from omnisdk.sync.reconcile import ReconcileReport
    from omnisdk.sync.stock import StockView

__all__ = ["DemoRun", "OrderCounter", "mismatches", "snapshot", "summarise"]


class OrderCounter:
    """Counts new orders per account through ``omnisdk_order_received`` (for the live view)."""

    def __init__(self) -> None:
        self.new: dict[str, int] = {}

    @hookimpl
    def omnisdk_order_received(self, order: Order, is_new: bool) -> None:
        """Count one order the engine took into the book."""
        if is_new:
            account = order.channel_ref.account
            self.new[account] = self.new.get(account, 0) + 1


@dataclass
class DemoRun:
    """One run of the demo: the engine and its runtime, the shops, what the buyers did.

    ``phase`` says what the demo is doing now; ``reconcile`` is the final reconciliation's
    report once it ran.
    """

    engine: Engine
    runtime: LocalRuntime
    channels: list[DemoChannel]
    catalog: list[DemoItem]
    tallies: dict[str, BuyerTally]
    counter: OrderCounter
    started: float
    phase: str = "starting"
    reconcile: ReconcileReport | None = None


async def snapshot(run: DemoRun) -> DemoSnapshot:
    """The run at this moment: the pool and every channel's listing per SKU, orders so far."""
    listed = {channel.account: await channel.listed() for channel in run.channels}
    skus = []
    for item in run.catalog:
        view = await run.engine.stock_view(item.sku)
        skus.append(
            SkuSnapshot(
                sku=item.sku,
                title=item.title,
                start=item.stock,
                sold=sum(t.units.get(item.sku, 0) for t in run.tallies.values()),
                on_hand=view.on_hand,
                reserved=view.reserved,
                listed={a: stock.get(item.sku, 0) for a, stock in listed.items()},
            )
        )
    return DemoSnapshot(
        elapsed=time.monotonic() - run.started,
        phase=run.phase,
        skus=skus,
        accepted={a: t.accepted for a, t in run.tallies.items()},
        refused={a: t.refused for a, t in run.tallies.items()},
        in_book=dict(run.counter.new),
    )


def _sellable(view: StockView) -> dict[str, int]:
    return {listing.account: listing.sellable for listing in view.listings}


async def mismatches(run: DemoRun) -> dict[str, dict[str, str]]:
    """Per account, the SKUs whose listed stock differs from what the engine says is sellable
    (with what the engine knows of the listing)."""
    found: dict[str, dict[str, str]] = {}
    listed_now = {channel.account: await channel.listed() for channel in run.channels}
    for item in run.catalog:
        view = await run.engine.stock_view(item.sku)
        for channel in run.channels:
            listed = listed_now[channel.account].get(item.sku)
            sellable = _sellable(view).get(channel.account)
            if listed != sellable:
                known = next((v for v in view.listings if v.account == channel.account), None)
                detail = (
                    f" (engine: last pushed {known.last_pushed}, expects {known.expected_listed}"
                    f" listed, unseen {known.unseen}, pending {known.pending})"
                    if known is not None
                    else ""
                )
                found.setdefault(channel.account, {})[item.sku] = (
                    f"listed {listed}, sellable {sellable}{detail}"
                )
    return found


def _book_units(engine: Engine, account: str) -> tuple[int, dict[str, int]]:
    """How many orders of ``account`` the book holds, and their units by SKU."""
    count = 0
    units: dict[str, int] = {}
    for stored in engine.store.iter_orders(account=account):
        count += 1
        for line in stored.order.lines:
            units[line.sku] = units.get(line.sku, 0) + line.quantity
    return count, units


async def _channel_summaries(
    run: DemoRun, found: dict[str, dict[str, str]], problems: list[str]
) -> list[ChannelSummary]:
    summaries = []
    for channel in run.channels:
        tally = run.tallies[channel.account]
        in_book, book_units = await asyncio.to_thread(_book_units, run.engine, channel.account)
        if in_book != tally.accepted:
            problems.append(
                f"{channel.account}: took {tally.accepted} orders, the book holds {in_book}"
            )
        if book_units != tally.units:
            problems.append(f"{channel.account}: the book's units differ from what was sold")
        summaries.append(
            ChannelSummary(
                account=channel.account,
                channel_type=channel.channel_type,
                orders=tally.accepted,
                refused=tally.refused,
                errors=tally.errors,
                orders_in_book=in_book,
                units_match=book_units == tally.units,
                listed_matches_sellable=channel.account not in found,
                mismatches=found.get(channel.account, {}),
            )
        )
    return summaries


async def _sku_summaries(run: DemoRun, problems: list[str]) -> tuple[list[SkuSummary], bool]:
    """Per SKU: sold against the start; and whether the pool adds up for every SKU."""
    summaries = []
    ledger_ok = True
    listed_now = {channel.account: await channel.listed() for channel in run.channels}
    for item in run.catalog:
        view = await run.engine.stock_view(item.sku)
        units = sum(t.units.get(item.sku, 0) for t in run.tallies.values())
        oversold = max(units - item.stock, 0)
        if oversold:
            problems.append(f"{item.sku}: {units} sold of {item.stock} (oversold {oversold})")
        # Nothing shipped or was cancelled: every unit sold is still reserved on hand.
        if view.on_hand - view.reserved != item.stock - units:
            ledger_ok = False
            problems.append(
                f"{item.sku}: the pool holds {view.on_hand - view.reserved} free units, "
                f"expected {item.stock - units}"
            )
        summaries.append(
            SkuSummary(
                sku=item.sku,
                title=item.title,
                start=item.stock,
                sold=units,
                oversold=oversold,
                on_hand=view.on_hand,
                reserved=view.reserved,
                listed={a: stock.get(item.sku, 0) for a, stock in listed_now.items()},
                sellable=_sellable(view),
            )
        )
    return summaries, ledger_ok


async def summarise(run: DemoRun, *, duration: float, buyers: int, buffer: int) -> DemoSummary:
    """Check the invariants (see the module doc) and say how the run ended."""
    problems: list[str] = []
    found = await mismatches(run)
    channel_summaries = await _channel_summaries(run, found, problems)
    sku_summaries, ledger_ok = await _sku_summaries(run, problems)
    for account, skus in found.items():
        problems.append(f"{account}: listed stock differs from sellable for {', '.join(skus)}")
    errors = sum(t.errors for t in run.tallies.values())
    if errors:
        problems.append(f"{errors} buyer orders failed with an unexpected error")
    report = run.reconcile
    repaired = [
        f"{d.account}/{d.sku}: {d.listed} -> {d.expected}"
        for d in (report.drift if report is not None else [])
        if d.repaired
    ]
    book_oversells = len(report.oversells) if report is not None else 0
    if book_oversells:
        problems.append(f"the reconciliation reports {book_oversells} oversold SKUs")
    return DemoSummary(
        drift_repaired=repaired,
        oversells_in_book=book_oversells,
        ok=not problems,
        duration=round(duration, 2),
        buyers=buyers,
        safety_buffer=buffer,
        channels=channel_summaries,
        skus=sku_summaries,
        orders=sum(c.orders for c in channel_summaries),
        refused=sum(c.refused for c in channel_summaries),
        oversold_units=sum(s.oversold for s in sku_summaries),
        orders_in_one_book=all(
            c.orders_in_book == c.orders and c.units_match for c in channel_summaries
        ),
        listed_converged=not found,
        ledger_consistent=ledger_ok,
        problems=problems,
    )
