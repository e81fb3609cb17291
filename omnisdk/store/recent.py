"""The store's side of the status page: the newest orders and the listings quotas hold back.

:meth:`RecentMixin.recent_orders` and :meth:`RecentMixin.stock_pressure` answer, with a fixed
number of set-based queries, what the status page shows beside :meth:`StatusMixin.activity`:
which orders arrived last, and where the quotas kept a channel from selling a unit another
channel holds (a listing moved down or held at 0, an account listed below its share).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, desc, func, or_, select

from omnisdk.store.core import StoreCore
from omnisdk.store.schema import accounts, listings, order_lines, orders, products, variants

__all__ = ["ListingPressure", "RecentLine", "RecentMixin", "RecentOrder", "StockPressure"]


@dataclass(frozen=True, slots=True)
class RecentLine:
    """One line of a recent order: the SKU, how many, and the master catalog's product title
    (None when the SKU is not in the catalog)."""

    sku: str
    quantity: int
    title: str | None


@dataclass(frozen=True, slots=True)
class RecentOrder:
    """An order as the status page lists it (no buyer data: no name, phone or address).

    ``total_minor`` is in the smallest unit of ``currency``; ``stored_at`` is when the store
    first recorded the order, ``placed_at`` when the buyer placed it.
    """

    account: str
    external_id: str
    number: str | None
    status: str
    payment_status: str
    currency: str
    total_minor: int
    placed_at: datetime
    stored_at: datetime
    lines: tuple[RecentLine, ...] = ()


@dataclass(frozen=True, slots=True)
class ListingPressure:
    """A listing the quotas held back: listed at 0, moved down for another account
    (``rebalances``), or listed below its share while the units sat elsewhere (``starved``)."""

    account: str
    sku: str
    title: str | None
    last_pushed: int | None
    sold: int
    rebalances: int
    starved: int
    pushed_at: datetime | None


@dataclass(frozen=True, slots=True)
class StockPressure:
    """Listings held back by the quotas: counts over every listing, and the newest rows.

    ``held_at_zero`` counts listings last pushed at 0 (the channel refuses buyers there);
    ``rebalances`` and ``starved`` sum the listings' counters.
    """

    held_at_zero: int
    rebalances: int
    starved: int
    listings: tuple[ListingPressure, ...] = ()


def _with_titles(table: Any, sku: Any) -> Any:
    """``table`` outer-joined to the catalog variant of its ``sku`` column and that variant's
    product (whose ``title`` is then selectable; NULL for a SKU not in the catalog)."""
    return table.outerjoin(variants, variants.c.sku == sku).outerjoin(
        products, products.c.id == variants.c.product_id
    )


class RecentMixin(StoreCore):
    """The reads behind the status page's order feed and quota panel."""

    def recent_orders(
        self, *, limit: int = 10, session: Connection | None = None
    ) -> list[RecentOrder]:
        """The ``limit`` orders the store recorded last, newest first, with their lines and
        the catalog's product titles (two queries, one read-only transaction)."""
        if limit < 1:
            return []
        head = (
            select(
                orders.c.id,
                accounts.c.name.label("account"),
                orders.c.external_id,
                orders.c.number,
                orders.c.status,
                orders.c.payment_status,
                orders.c.currency,
                orders.c.total_minor,
                orders.c.placed_at,
                orders.c.created_at,
            )
            .join_from(orders, accounts, orders.c.account_id == accounts.c.id)
            .order_by(desc(orders.c.id))
            .limit(limit)
        )
        with self._read(session) as connection:
            rows = connection.execute(head).all()
            ids = [row.id for row in rows]
            line_rows = (
                connection.execute(
                    select(
                        order_lines.c.order_id,
                        order_lines.c.sku,
                        order_lines.c.quantity,
                        products.c.title,
                    )
                    .select_from(_with_titles(order_lines, order_lines.c.sku))
                    .where(order_lines.c.order_id.in_(ids))
                    .order_by(order_lines.c.order_id, order_lines.c.line_no)
                ).all()
                if ids
                else []
            )
        lines: dict[int, list[RecentLine]] = {}
        for line in line_rows:
            lines.setdefault(line.order_id, []).append(
                RecentLine(sku=line.sku, quantity=int(line.quantity), title=line.title)
            )
        return [
            RecentOrder(
                account=row.account,
                external_id=row.external_id,
                number=row.number,
                status=row.status,
                payment_status=row.payment_status,
                currency=row.currency,
                total_minor=int(row.total_minor),
                placed_at=row.placed_at,
                stored_at=row.created_at,
                lines=tuple(lines.get(row.id, ())),
            )
            for row in rows
        ]

    def stock_pressure(
        self, *, limit: int = 10, session: Connection | None = None
    ) -> StockPressure:
        """Where the quotas hold listings back: the counts over every listing and the
        ``limit`` listings pushed last among those at 0, moved or starved (two queries, one
        read-only transaction)."""
        held = or_(listings.c.last_pushed == 0, listings.c.rebalances > 0, listings.c.starved > 0)
        counts = select(
            func.coalesce(func.sum(case((listings.c.last_pushed == 0, 1), else_=0)), 0),
            func.coalesce(func.sum(listings.c.rebalances), 0),
            func.coalesce(func.sum(listings.c.starved), 0),
        ).select_from(listings)
        # The newest rows first, on the listings alone; only those few are joined.
        picked = (
            select(listings)
            .where(held)
            .order_by(listings.c.pushed_at.is_(None), desc(listings.c.pushed_at))
            .limit(max(limit, 0))
            .subquery()
        )
        newest = (
            select(
                accounts.c.name.label("account"),
                picked.c.sku,
                products.c.title,
                picked.c.last_pushed,
                picked.c.sold,
                picked.c.rebalances,
                picked.c.starved,
                picked.c.pushed_at,
            )
            .select_from(
                _with_titles(
                    picked.join(accounts, picked.c.account_id == accounts.c.id), picked.c.sku
                )
            )
            .order_by(
                picked.c.pushed_at.is_(None),
                desc(picked.c.pushed_at),
                accounts.c.name,
                picked.c.sku,
            )
        )
        with self._read(session) as connection:
            zero, moved, starved = connection.execute(counts).one()
            rows = connection.execute(newest).all() if limit > 0 else []
        return StockPressure(
            held_at_zero=int(zero or 0),
            rebalances=int(moved),
            starved=int(starved),
            listings=tuple(
                ListingPressure(
                    account=row.account,
                    sku=row.sku,
                    title=row.title,
                    last_pushed=row.last_pushed,
                    sold=int(row.sold),
                    rebalances=int(row.rebalances),
                    starved=int(row.starved),
                    pushed_at=row.pushed_at,
                )
                for row in rows
            ),
        )

    def sku_titles(
        self, skus: Iterable[str], *, session: Connection | None = None
    ) -> dict[str, str]:
        """The master catalog's product title of each of ``skus`` that is in the catalog, by
        SKU (one query)."""
        wanted = sorted(set(skus))
        if not wanted:
            return {}
        query = (
            select(variants.c.sku, products.c.title)
            .join_from(variants, products, variants.c.product_id == products.c.id)
            .where(variants.c.sku.in_(wanted))
        )
        with self._read(session) as connection:
            return {row.sku: row.title for row in connection.execute(query).all()}
