"""The sales report: one GROUP BY in the database over the one order book.

Orders are grouped by channel, account, location (the store a sale was made or collected
at), SKU or day, and by currency: amounts in two currencies are never added. Cancelled
orders are left out (they never were a sale). The figures each order adds are kept on its
row (:mod:`omnisdk.store.sales_figures`), so the report reads no document and runs no
Python per order. By SKU the figures come from the order lines: discounts are those of the
lines only (an order-wide voucher belongs to no SKU) and each line carries its share of the
order's refund. Over whole days of a zone the summary is kept for, the by-SKU report reads
the per-(day, SKU) summary (:mod:`omnisdk.store.sales_days`) instead of every order line.
"""

from __future__ import annotations

import enum
from collections.abc import Generator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, tzinfo
from typing import Any

from sqlalchemy import Connection, String, cast, func, literal, literal_column, select
from sqlalchemy.sql.elements import ColumnElement

from omnisdk.models import OrderStatus
from omnisdk.store.sales_days import FIGURES, SalesDaysMixin
from omnisdk.store.schema import accounts, order_lines, orders, sales_days
from omnisdk.store.types import as_utc

__all__ = ["SalesGroup", "SalesMixin", "SalesRow"]


class SalesGroup(enum.StrEnum):
    """What the sales report groups orders by."""

    CHANNEL = "channel"
    ACCOUNT = "account"
    LOCATION = "location"
    SKU = "sku"
    DAY = "day"
    CURRENCY = "currency"


@dataclass(frozen=True, slots=True)
class SalesRow:
    """One group of the sales report, in one currency; amounts in its minor units.

    ``key`` is the channel type, account name, location code (``""``: shipped, no store),
    SKU, day (``YYYY-MM-DD`` in the report's time zone) or currency.
    """

    key: str
    currency: str
    orders: int
    units: int
    gross_minor: int
    discount_minor: int
    refund_minor: int

    @property
    def net_minor(self) -> int:
        """Gross less discounts and refunds."""
        return self.gross_minor - self.discount_minor - self.refund_minor


def _offset_minutes(zone: tzinfo, at: datetime) -> int:
    offset = as_utc(at).astimezone(zone).utcoffset()
    return 0 if offset is None else int(offset.total_seconds() // 60)


class SalesMixin(SalesDaysMixin):
    """Sales figures aggregated in the database."""

    def _day(self, zone: tzinfo, at: datetime) -> ColumnElement[Any]:
        """``placed_at`` as a ``YYYY-MM-DD`` day in ``zone``.

        PostgreSQL converts each timestamp with the zone's own rules. SQLite knows no zones:
        it shifts by the zone's offset at ``at`` (exact for zones without daylight saving,
        which is every zone from Hanoi to Jakarta).
        """
        name = "UTC" if zone is UTC else getattr(zone, "key", None)
        minutes = _offset_minutes(zone, at)
        if self.is_postgresql:
            # A date (not text) to group on: sorting a million dates is cheap, and its text
            # form is ISO (YYYY-MM-DD) once cast.
            if name:
                return func.date(func.timezone(name, orders.c.placed_at))
            shifted = func.timezone("UTC", orders.c.placed_at) + func.make_interval(
                0, 0, 0, 0, 0, minutes
            )
            return func.date(shifted)
        return func.date(orders.c.placed_at, f"{minutes:+d} minutes")

    def iter_sales(
        self,
        by: SalesGroup | str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        zone: tzinfo | None = None,
        customer_ids: Iterable[str] | None = None,
        batch_size: int = 1000,
        session: Connection | None = None,
    ) -> Generator[SalesRow, None, None]:
        """The sales report's rows grouped ``by``, ordered by key then currency, streamed.

        ``since``/``until`` bound ``placed_at`` (``since`` included, ``until`` excluded).
        ``zone`` is the shop's time zone days are counted in (default UTC).
        ``customer_ids`` keeps the orders linked to those customer records only.
        """
        group = SalesGroup(by)
        if group is SalesGroup.SKU and customer_ids is None:
            summary = self._summary_zone(zone or UTC, since, until, session)
            if summary is not None:
                yield from self._sku_summary(summary, since, until, zone or UTC, session,
                                             batch_size)
                return
        live = orders.c.status != OrderStatus.CANCELLED.value
        key: ColumnElement[Any]
        if group is SalesGroup.SKU:
            query = self._by_sku()
            key = order_lines.c.sku
        else:
            query = self._by_order()
            if group is SalesGroup.CHANNEL:
                key = accounts.c.channel
            elif group is SalesGroup.ACCOUNT:
                key = accounts.c.name
            elif group is SalesGroup.LOCATION:
                key = func.coalesce(orders.c.location, literal(""))
            elif group is SalesGroup.CURRENCY:
                key = orders.c.currency
            else:
                key = self._day(zone or UTC, until or self.now())
        if self.is_postgresql and group is not SalesGroup.DAY:
            # Group text in byte order: the locale's collation makes PostgreSQL's sort of
            # millions of lines several times slower (and SQLite orders by bytes too).
            key = key.collate("C")
        label = cast(key, String).label("key")
        query = query.add_columns(label).where(live)
        if since is not None:
            query = query.where(orders.c.placed_at >= as_utc(since))
        if until is not None:
            query = query.where(orders.c.placed_at < as_utc(until))
        if customer_ids is not None:
            query = query.where(orders.c.customer_id.in_(sorted(set(customer_ids))))
        # By the output column's name: PostgreSQL matches a collated key no other way.
        by_key: ColumnElement[Any] = literal_column("key")
        query = query.group_by(by_key, orders.c.currency).order_by(by_key, orders.c.currency)
        for row in self._stream(query, session=session, batch_size=batch_size):
            yield SalesRow(
                key=str(row.key),
                currency=str(row.currency),
                orders=int(row.orders),
                units=int(row.units or 0),
                gross_minor=int(row.gross or 0),
                discount_minor=int(row.discounts or 0),
                refund_minor=int(row.refunds or 0),
            )

    def _summary_zone(
        self,
        zone: tzinfo,
        since: datetime | None,
        until: datetime | None,
        session: Connection | None,
    ) -> str | None:
        """The zone whose summary answers a by-SKU report over [since, until), or None: the
        zone must be kept and both ends midnights in it."""
        name = "UTC" if zone is UTC else getattr(zone, "key", None)
        if name is None:
            return None
        for end in (since, until):
            if end is not None and as_utc(end).astimezone(zone).timetz().replace(
                tzinfo=None
            ) != time(0):
                return None
        return name if name in self.sales_day_zones(session) else None

    def _sku_summary(
        self,
        name: str,
        since: datetime | None,
        until: datetime | None,
        zone: tzinfo,
        session: Connection | None,
        batch_size: int,
    ) -> Generator[SalesRow, None, None]:
        """The by-SKU report summed from the per-(day, SKU) summary of zone ``name``."""
        key = sales_days.c.sku.collate("C") if self.is_postgresql else sales_days.c.sku
        query = (
            select(
                key.label("key"),
                sales_days.c.currency,
                *(func.sum(sales_days.c[column]).label(column) for column in FIGURES),
            )
            .where(sales_days.c.zone == name)
            .group_by(literal_column("key"), sales_days.c.currency)
            .order_by(literal_column("key"), sales_days.c.currency)
        )
        if since is not None:
            query = query.where(sales_days.c.day >= as_utc(since).astimezone(zone).strftime("%F"))
        if until is not None:
            query = query.where(sales_days.c.day < as_utc(until).astimezone(zone).strftime("%F"))
        for row in self._stream(query, session=session, batch_size=batch_size):
            if not row.orders:
                continue  # every order of the SKU was cancelled or rewritten away
            yield SalesRow(
                key=str(row.key),
                currency=str(row.currency),
                orders=int(row.orders),
                units=int(row.units or 0),
                gross_minor=int(row.gross_minor or 0),
                discount_minor=int(row.discount_minor or 0),
                refund_minor=int(row.refund_minor or 0),
            )

    @staticmethod
    def _by_order() -> Any:
        return select(
            orders.c.currency,
            func.count().label("orders"),
            func.sum(orders.c.units).label("units"),
            func.sum(orders.c.gross_minor).label("gross"),
            func.sum(orders.c.discount_minor).label("discounts"),
            func.sum(orders.c.refund_minor).label("refunds"),
        ).join_from(orders, accounts, orders.c.account_id == accounts.c.id)

    @staticmethod
    def _by_sku() -> Any:
        gross = order_lines.c.unit_price_minor * order_lines.c.quantity
        return select(
            orders.c.currency,
            func.count(func.distinct(orders.c.id)).label("orders"),
            func.sum(order_lines.c.quantity).label("units"),
            func.sum(gross).label("gross"),
            func.sum(gross - order_lines.c.total_minor).label("discounts"),
            func.sum(order_lines.c.refund_minor).label("refunds"),
        ).join_from(order_lines, orders, order_lines.c.order_id == orders.c.id)
