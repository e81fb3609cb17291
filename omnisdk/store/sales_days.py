"""The sales report by SKU, kept summed per (day, SKU, currency) so it does not grow with orders.

``omnisdk_sales_days`` holds, for each time zone it is kept for (``omnisdk_sales_day_zones``),
one row per (day in that zone, SKU, currency): the orders that sold the SKU that day, units,
gross, line discounts and refunds, exactly what the by-SKU report sums from the order lines
(cancelled orders add nothing). The intake keeps it in the transaction that writes the
orders, with one batched upsert per page: each order written adds its figures, each order
rewritten first takes its previous version's figures away (:func:`sku_day_figures`), so
any history of versions converges to the figures of the newest.

A zone is built from every stored order by :meth:`SalesDaysMixin.keep_sales_days` (the
migration builds ``Asia/Ho_Chi_Minh``, the default ``[engine] timezone``). The report uses
the summary for a zone that is kept and a range whose ends are midnights in that zone, and
reads the order lines otherwise. SQLite knows no time zones: there it builds zones whose
offset never changes only (every zone from Hanoi to Jakarta), and refuses the others.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, delete, select, text

from omnisdk.models import Order, OrderStatus
from omnisdk.store.core import StoreCore
from omnisdk.store.sales_figures import line_refunds
from omnisdk.store.schema import sales_day_zones, sales_days
from omnisdk.store.types import as_utc

__all__ = [
    "FIGURES",
    "MIGRATED_ZONE",
    "SalesDaysMixin",
    "SkuDay",
    "add_figures",
    "build_sales_days",
    "fixed_offset_minutes",
    "sku_day_figures",
]

SkuDay = tuple[str, str, str, str]
"""A summary row's key: (zone, SKU, currency, day ``YYYY-MM-DD``)."""

MIGRATED_ZONE = "Asia/Ho_Chi_Minh"
"""The zone migration 0006 builds the summary for (the default ``[engine] timezone``)."""

FIGURES = ("orders", "units", "gross_minor", "discount_minor", "refund_minor")
"""The summed columns, in the order :func:`sku_day_figures` lists them."""


def fixed_offset_minutes(zone: str) -> int | None:
    """The zone's UTC offset in minutes if it never changed in the last and next years
    (no daylight saving), else None."""
    info = ZoneInfo(zone)
    year = datetime.now(UTC).year
    offsets = {
        datetime(y, m, 1, 12, tzinfo=UTC).astimezone(info).utcoffset()
        for y in (year - 1, year, year + 1)
        for m in (1, 4, 7, 10)
    }
    if len(offsets) != 1:
        return None
    [offset] = offsets
    return 0 if offset is None else int(offset.total_seconds() // 60)


def sku_day_figures(order: Order, zones: Iterable[str]) -> dict[SkuDay, list[int]]:
    """What ``order`` adds to the summary of each of ``zones`` (nothing when cancelled)."""
    if order.status is OrderStatus.CANCELLED:
        return {}
    placed = as_utc(order.created_at)
    refunds = line_refunds(order)
    per_sku: dict[str, list[int]] = {}
    for line, refund in zip(order.lines, refunds, strict=True):
        gross = (line.unit_price * line.quantity).to_minor()
        figures = per_sku.setdefault(line.sku, [1, 0, 0, 0, 0])
        figures[1] += line.quantity
        figures[2] += gross
        figures[3] += gross - line.total.to_minor()
        figures[4] += refund
    found: dict[SkuDay, list[int]] = {}
    for zone in zones:
        day = placed.astimezone(ZoneInfo(zone)).date().isoformat()
        for sku, figures in per_sku.items():
            found[(zone, sku, order.currency, day)] = list(figures)
    return found


def add_figures(
    into: dict[SkuDay, list[int]], figures: Mapping[SkuDay, list[int]], sign: int = 1
) -> None:
    """Add ``figures`` (times ``sign``) into ``into``."""
    for key, values in figures.items():
        total = into.setdefault(key, [0] * len(FIGURES))
        for index, value in enumerate(values):
            total[index] += sign * value


class SalesDaysMixin(StoreCore):
    """Keeping and building the per-(day, SKU) sales summary."""

    def sales_day_zones(self, session: Connection | None = None) -> list[str]:
        """The time zones the summary is kept for."""
        with self._read(session) as connection:
            return sorted(connection.execute(select(sales_day_zones.c.zone)).scalars())

    def _add_sales_days(self, session: Connection, deltas: Mapping[SkuDay, list[int]]) -> None:
        """Add ``deltas`` to the summary: one batched upsert, rows in key order (so two
        transactions adding to the same rows take their locks in the same order)."""
        rows = [
            {"zone": key[0], "sku": key[1], "currency": key[2], "day": key[3],
             **dict(zip(FIGURES, values, strict=True))}
            for key, values in sorted(deltas.items())
            if any(values)
        ]
        if not rows:
            return
        statement = self._insert(sales_days)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=[sales_days.c.zone, sales_days.c.sku, sales_days.c.currency,
                                sales_days.c.day],
                set_={name: sales_days.c[name] + statement.excluded[name] for name in FIGURES},
            ),
            rows,
        )

    def keep_sales_days(self, zone: str, *, session: Connection | None = None) -> int:
        """Build the summary for ``zone`` from every stored order (replacing what it held)
        and keep it from now on; returns the rows written.

        Run it with the intake stopped (an order written meanwhile by another process may
        be missed). Raises ValueError on SQLite for a zone with daylight saving.
        """
        ZoneInfo(zone)  # an unknown zone fails here, before anything is written
        with self._tx(session) as connection:
            return build_sales_days(connection, zone, self.now())


def build_sales_days(connection: Connection, zone: str, now: datetime) -> int:
    """Rebuild ``zone``'s summary rows from the stored orders in one ``INSERT ... SELECT``
    and record the zone as kept; returns the rows written (see
    :meth:`SalesDaysMixin.keep_sales_days`)."""
    postgresql = connection.dialect.name == "postgresql"
    if postgresql:
        day = "to_char(timezone(:zone, o.placed_at), 'YYYY-MM-DD')"
    else:
        minutes = fixed_offset_minutes(zone)
        if minutes is None:
            raise ValueError(
                f"the sales summary cannot be kept for {zone} on SQLite: its UTC offset "
                "changes (daylight saving) and SQLite has no time zones"
            )
        day = f"date(o.placed_at, '{minutes:+d} minutes')"
    connection.execute(delete(sales_days).where(sales_days.c.zone == zone))
    connection.execute(delete(sales_day_zones).where(sales_day_zones.c.zone == zone))
    gross = "l.unit_price_minor * l.quantity"
    # Only constants and an integer are formatted in; the zone is a bound parameter.
    written = connection.execute(
        text(
            "INSERT INTO omnisdk_sales_days (zone, sku, currency, day, orders, units, "  # noqa: S608
            "gross_minor, discount_minor, refund_minor) "
            "SELECT :zone, sku, currency, day, COUNT(DISTINCT order_id), SUM(quantity), "
            "SUM(gross), SUM(gross - total_minor), SUM(refund_minor) "
            f"FROM (SELECT l.sku AS sku, o.currency AS currency, {day} AS day, "
            f"o.id AS order_id, l.quantity AS quantity, {gross} AS gross, "
            "l.total_minor AS total_minor, l.refund_minor AS refund_minor "
            "FROM omnisdk_order_lines AS l JOIN omnisdk_orders AS o ON o.id = l.order_id "
            "WHERE o.status <> :cancelled) AS sold "
            "GROUP BY sku, currency, day"
        ),
        {"zone": zone, "cancelled": OrderStatus.CANCELLED.value},
    ).rowcount
    connection.execute(sales_day_zones.insert().values(zone=zone, built_at=now))
    return int(written or 0)
