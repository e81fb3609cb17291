"""What the status page reads, and from where: the same store queries as ``omnisdk status``.

A :class:`StatusSource` is anything that answers :meth:`~omnisdk.sync.Engine.status` and
:meth:`~omnisdk.sync.Engine.stock_view` and has a store: an open
:class:`~omnisdk.sync.Engine` is one, in ``omnisdk run`` or in any other process that opens
one (a web process of a scaled-out deployment). :func:`read_overview` and :func:`read_sku`
gather one page's data; nothing here calls a channel.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol, TypeVar

from omnisdk.store import OversoldLevel, RecentOrder, SalesGroup, StockPressure, Store
from omnisdk.sync.sales import SalesReport
from omnisdk.sync.status import StatusReport
from omnisdk.sync.stock import StockView

__all__ = [
    "SALES_GROUPS",
    "SALES_WINDOWS",
    "Blocking",
    "Overview",
    "Sales",
    "SkuStock",
    "StatusSource",
    "read_overview",
    "read_sales",
    "read_sku",
]

T = TypeVar("T")


class Blocking(Protocol):
    """Runs a blocking call off the event loop (by default in :func:`asyncio.to_thread`)."""

    def __call__(self, call: Callable[[], T], /) -> Awaitable[T]:
        """The result of ``call()``, run elsewhere."""
        ...


RECENT_ORDERS = 10
"""How many of the newest orders the overview lists."""
RECENT_PRESSURE = 10
"""How many held-back listings the overview lists."""
OVERSOLD_ORDERS = 3
"""How many orders holding an oversold level are named per level."""


class StatusSource(Protocol):
    """What the status page reads from: an open engine (or anything that answers alike)."""

    @property
    def store(self) -> Store:
        """The engine's store."""
        ...

    async def status(self) -> StatusReport:
        """The report of ``omnisdk status``."""
        ...

    async def stock_view(self, sku: str) -> StockView:
        """The view of ``omnisdk stock show SKU --offline``."""
        ...

    async def sales_report(
        self,
        by: SalesGroup | str = SalesGroup.CHANNEL,
        *,
        since: datetime | date | None = None,
        until: datetime | date | None = None,
    ) -> SalesReport:
        """The report of ``omnisdk report sales``."""
        ...


SALES_WINDOWS = (1, 7, 30, 90, 365)
"""The windows the sales page offers, in days back from now."""
SALES_GROUPS = (SalesGroup.CHANNEL, SalesGroup.ACCOUNT, SalesGroup.LOCATION)
"""What the sales page charts revenue by: channel, account and store."""


@dataclass(frozen=True)
class Sales:
    """The sales page's data: one report per grouping over the last ``days`` days."""

    days: int
    since: datetime
    reports: list[SalesReport]

    @property
    def currencies(self) -> list[str]:
        """Every currency sold in, in order: each has charts of its own."""
        return sorted({line.currency for report in self.reports for line in report.rows})


@dataclass(frozen=True)
class Overview:
    """The overview page's data: the status report, the newest orders, what the quotas
    hold back, and every level where orders hold more than is on hand (an oversell)."""

    report: StatusReport
    orders: list[RecentOrder]
    pressure: StockPressure
    oversold: list[OversoldLevel]


@dataclass(frozen=True)
class SkuStock:
    """A SKU page's data: the stock view and the catalog's product title (None if unknown)."""

    view: StockView
    title: str | None

    @property
    def known(self) -> bool:
        """True when the store knows anything of the SKU (stock, listings or the catalog)."""
        return bool(self.view.locations or self.view.listings or self.title)


async def _to_thread(call: Callable[[], T]) -> T:
    return await asyncio.to_thread(call)


async def read_overview(source: StatusSource, run: Blocking = _to_thread) -> Overview:
    """The overview's data, read from the store: the status report, then the page's own reads
    in one blocking call handed to ``run``."""
    report = await source.status()
    store = source.store

    def extra() -> tuple[list[RecentOrder], StockPressure, list[OversoldLevel]]:
        return (
            store.recent_orders(limit=RECENT_ORDERS),
            store.stock_pressure(limit=RECENT_PRESSURE),
            store.oversold_levels(max_holders=OVERSOLD_ORDERS),
        )

    orders, pressure, oversold = await run(extra)
    return Overview(report=report, orders=orders, pressure=pressure, oversold=oversold)


async def read_sales(source: StatusSource, days: int) -> Sales:
    """Revenue by channel, account and store over the last ``days`` days (``ValueError``
    for a window the page does not offer)."""
    if days not in SALES_WINDOWS:
        raise ValueError(f"{days} days is not a window of the sales page: one of {SALES_WINDOWS}")
    since = datetime.now(UTC) - timedelta(days=days)
    reports = [await source.sales_report(group, since=since) for group in SALES_GROUPS]
    return Sales(days=days, since=since, reports=reports)


async def read_sku(source: StatusSource, sku: str, run: Blocking = _to_thread) -> SkuStock:
    """A SKU page's data (``InvalidValue`` when ``sku`` cannot be a SKU); the title is read
    by a blocking call handed to ``run``."""
    view = await source.stock_view(sku)
    titles = await run(lambda: source.store.sku_titles([view.sku]))
    return SkuStock(view=view, title=titles.get(view.sku))
