"""The sales report as plain data: revenue per channel, account, store, SKU or day.

The store aggregates (one GROUP BY, :meth:`omnisdk.store.Store.iter_sales`); this module turns
its rows into :class:`SalesLine` (Money, never floats) and adds one total per currency. VND and
USD are never added together: each currency has its own rows and its own total.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import date, datetime, time, tzinfo

from pydantic import BaseModel, ConfigDict, Field

from omnisdk.models import Money
from omnisdk.store import SalesGroup, SalesRow, Store
from omnisdk.sync.context import SyncContext

__all__ = ["SalesGroup", "SalesLine", "SalesReport", "iter_sales_lines", "sales_report", "when"]


class SalesLine(BaseModel):
    """One row of the sales report: a group (``key``) in one currency.

    ``gross`` is list price times units, ``discounts`` every discount on the goods,
    ``refunds`` what was given back for the goods (orders refunded in full or in part),
    ``net`` = gross - discounts - refunds.
    Shipping and tax are left out. ``key`` is ``""`` for orders no store sold (shipped).
    """

    model_config = ConfigDict(frozen=True)

    key: str
    currency: str
    orders: int
    units: int
    gross: Money
    discounts: Money
    refunds: Money
    net: Money

    @classmethod
    def of(cls, row: SalesRow) -> SalesLine:
        """The line of one of the store's rows."""
        currency = row.currency
        return cls(
            key=row.key,
            currency=currency,
            orders=row.orders,
            units=row.units,
            gross=Money.from_minor(row.gross_minor, currency),
            discounts=Money.from_minor(row.discount_minor, currency),
            refunds=Money.from_minor(row.refund_minor, currency),
            net=Money.from_minor(row.net_minor, currency),
        )


class SalesReport(BaseModel):
    """The sales report: its rows and one total per currency.

    Cancelled orders are left out. By SKU, ``orders`` counts the orders holding the SKU (a
    total by SKU would count an order once per SKU, so the totals count distinct orders only
    for the other groupings).
    """

    by: SalesGroup
    since: datetime | None = None
    until: datetime | None = None
    timezone: str
    rows: list[SalesLine] = Field(default_factory=list)
    totals: list[SalesLine] = Field(default_factory=list)


def when(value: datetime | date | None, zone: tzinfo) -> datetime | None:
    """A report bound as an aware datetime: a date is midnight in the shop's ``zone``, a
    naive datetime is read in ``zone`` too."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        return datetime.combine(value, time(0), tzinfo=zone)
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)


def iter_sales_lines(
    store: Store,
    by: SalesGroup | str,
    *,
    since: datetime | None,
    until: datetime | None,
    zone: tzinfo,
) -> Generator[SalesLine, None, None]:
    """The report's lines as the store's cursor yields them (memory stays flat); close it
    when stopping early."""
    rows = store.iter_sales(by, since=since, until=until, zone=zone)
    try:
        for row in rows:
            yield SalesLine.of(row)
    finally:
        rows.close()


def _totals(rows: list[SalesLine]) -> list[SalesLine]:
    sums: dict[str, list[int]] = {}
    for row in rows:
        figures = sums.setdefault(row.currency, [0] * 6)
        for index, value in enumerate(
            (
                row.orders,
                row.units,
                row.gross.to_minor(),
                row.discounts.to_minor(),
                row.refunds.to_minor(),
                row.net.to_minor(),
            )
        ):
            figures[index] += value
    return [
        SalesLine(
            key="total",
            currency=currency,
            orders=figures[0],
            units=figures[1],
            gross=Money.from_minor(figures[2], currency),
            discounts=Money.from_minor(figures[3], currency),
            refunds=Money.from_minor(figures[4], currency),
            net=Money.from_minor(figures[5], currency),
        )
        for currency, figures in sorted(sums.items())
    ]


async def sales_report(
    context: SyncContext,
    by: SalesGroup | str = SalesGroup.CHANNEL,
    *,
    since: datetime | date | None = None,
    until: datetime | date | None = None,
) -> SalesReport:
    """See :meth:`Engine.sales_report`."""
    group = SalesGroup(by)
    zone = context.config.engine.zone
    start, end = when(since, zone), when(until, zone)

    def read() -> list[SalesLine]:
        return list(iter_sales_lines(context.store, group, since=start, until=end, zone=zone))

    rows = await context.run(read)
    return SalesReport(
        by=group,
        since=start,
        until=end,
        timezone=context.config.engine.timezone,
        rows=rows,
        totals=_totals(rows),
    )
