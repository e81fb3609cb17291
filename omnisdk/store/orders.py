"""Orders: stored once per (account, platform order id), newest platform version wins."""

from __future__ import annotations

from collections.abc import Generator, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    String,
    bindparam,
    delete,
    func,
    insert,
    select,
    tuple_,
    update,
)

from omnisdk.models import Order, OrderStatus
from omnisdk.store.documents import content_hash, to_document
from omnisdk.store.records import LockedOrder, OrderSaved, OrderVersion, StoredOrder
from omnisdk.store.sales_days import SalesDaysMixin, SkuDay, add_figures, sku_day_figures
from omnisdk.store.sales_figures import line_refunds, sales_figures
from omnisdk.store.schema import accounts, order_lines, orders
from omnisdk.store.types import as_utc

__all__ = ["OrdersMixin"]


def _stored_order(row: Row[Any]) -> StoredOrder:
    return StoredOrder(
        id=row.id,
        account=row.account,
        external_id=row.external_id,
        customer_id=row.customer_id,
        order=Order.model_validate(row.document),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _order_query() -> Any:
    return select(
        orders.c.id,
        accounts.c.name.label("account"),
        orders.c.external_id,
        orders.c.customer_id,
        orders.c.document,
        orders.c.created_at,
        orders.c.updated_at,
    ).join_from(orders, accounts, orders.c.account_id == accounts.c.id)


_ORDER_COLUMNS = (
    "number",
    "status",
    "payment_status",
    "currency",
    "total_minor",
    "placed_at",
    "platform_updated_at",
    "document",
    "content_hash",
    "units",
    "gross_minor",
    "discount_minor",
    "refund_minor",
    "location",
)


def _order_values(order: Order) -> dict[str, Any]:
    """The columns of ``order`` its row holds (``document`` and ``content_hash`` included)."""
    document = to_document(order)
    figures = sales_figures(order)
    return {
        "number": order.number,
        "status": order.status.value,
        "payment_status": order.payment_status.value,
        "currency": order.currency,
        "total_minor": order.total.to_minor(),
        "placed_at": as_utc(order.created_at),
        "platform_updated_at": as_utc(order.updated_at),
        "document": document,
        "content_hash": content_hash(document),
        "units": figures.units,
        "gross_minor": figures.gross_minor,
        "discount_minor": figures.discount_minor,
        "refund_minor": figures.refund_minor,
        "location": figures.location,
    }


_UPDATE_ORDER = (
    update(orders)
    .where(orders.c.id == bindparam("order_id"))
    .values(
        customer_id=func.coalesce(bindparam("link", type_=String), orders.c.customer_id),
        **{name: bindparam(name) for name in (*_ORDER_COLUMNS, "updated_at")},
    )
)


class OrdersMixin(SalesDaysMixin):
    """Idempotent order ingestion and reads."""

    def upsert_order(
        self, order: Order, *, customer_id: str | None = None, session: Connection | None = None
    ) -> OrderSaved:
        """Save ``order`` (keyed by its ``channel_ref``) unless a newer version is stored.

        The account of ``order.channel_ref`` is registered if new. A version whose
        ``updated_at`` is older than the stored one is ignored (``applied=False``), so
        out-of-order and repeated deliveries change nothing. ``customer_id`` links the order
        to a canonical customer; None keeps the current link. Pass the ``session`` that also
        applies the order's stock movements.
        """
        ref = order.channel_ref
        with self._tx(session) as connection:
            locked = self.lock_orders(connection, [(ref.account, ref.external_id)])
            return self.save_orders(connection, [(order, customer_id)], locked)[0]

    def lock_orders(
        self, session: Connection, refs: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], LockedOrder]:
        """Lock the stored orders among ``refs`` ((account, external id)) and read their
        versions (one query; rows locked in a fixed order, so two transactions locking
        overlapping pages cannot deadlock). Orders not stored yet are left out."""
        wanted: dict[int, dict[str, str]] = {}
        for account, external_id in set(refs):
            found = self._account_row(session, account)
            if found is not None:
                wanted.setdefault(found[0], {})[external_id] = account
        pairs = sorted((account_id, ext) for account_id, ids in wanted.items() for ext in ids)
        if not pairs:
            return {}
        rows = session.execute(
            select(
                orders.c.id,
                orders.c.account_id,
                orders.c.external_id,
                orders.c.status,
                orders.c.platform_updated_at,
                orders.c.content_hash,
                orders.c.customer_id,
                orders.c.document,
            )
            .where(tuple_(orders.c.account_id, orders.c.external_id).in_(pairs))
            .order_by(orders.c.account_id, orders.c.external_id)
            .with_for_update()
        ).all()
        return {
            (wanted[row.account_id][row.external_id], row.external_id): LockedOrder(
                order_id=int(row.id),
                status=OrderStatus(row.status),
                updated_at=row.platform_updated_at,
                content_hash=str(row.content_hash),
                customer_id=row.customer_id,
                buyer=row.document.get("customer"),
                document=row.document,
            )
            for row in rows
        }

    def save_orders(
        self,
        session: Connection,
        items: Sequence[tuple[Order, str | None]],
        locked: Mapping[tuple[str, str], LockedOrder],
    ) -> list[OrderSaved]:
        """Save each ``(order, customer_id)`` as :meth:`upsert_order` does, in few statements.

        ``locked`` is what :meth:`lock_orders` returned for these orders in ``session``; the
        version rule is applied against it. Each order may appear once. New orders are
        inserted together (one found inserted meanwhile by another transaction is locked and
        treated as stored), changed ones updated together, lines written together.
        """
        now = self.now()
        values = [_order_values(order) for order, _ in items]
        saved: list[OrderSaved | None] = [None] * len(items)
        fresh: dict[tuple[int, str], int] = {}
        for index, (order, _) in enumerate(items):
            ref = order.channel_ref
            if (ref.account, ref.external_id) not in locked:
                account_id = self._ensure_account_id(session, ref.account, ref.channel)
                fresh[(account_id, ref.external_id)] = index
        current = dict(locked)
        if fresh:
            # Inserted in the order given (ids follow arrival), after locking the new keys in
            # sorted order: two transactions inserting the same new orders cannot deadlock.
            self._lock_keys(session, "order", [f"{a}:{e}" for a, e in fresh])
            rows = [
                {
                    "account_id": account_id,
                    "external_id": external_id,
                    "customer_id": items[index][1],
                    "created_at": now,
                    "updated_at": now,
                    **values[index],
                }
                for (account_id, external_id), index in fresh.items()
            ]
            inserted = session.execute(
                self._insert(orders)
                .on_conflict_do_nothing(index_elements=[orders.c.account_id, orders.c.external_id])
                .returning(orders.c.id, orders.c.account_id, orders.c.external_id),
                rows,
            ).all()
            for row in inserted:
                index = fresh.pop((row.account_id, row.external_id))
                order = items[index][0]
                saved[index] = OrderSaved(
                    order_id=int(row.id),
                    created=True,
                    applied=True,
                    changed=True,
                    previous_status=None,
                    status=order.status,
                )
            if fresh:  # inserted by another transaction since this one looked: lock them now
                late = [items[index][0].channel_ref for index in fresh.values()]
                current.update(
                    self.lock_orders(session, [(r.account, r.external_id) for r in late])
                )
        updates: list[dict[str, Any]] = []
        replaced: list[int] = []
        refs_replaced: list[tuple[str, str]] = []
        for index, (order, customer_id) in enumerate(items):
            if saved[index] is not None:
                continue
            ref = order.channel_ref
            stored = current[(ref.account, ref.external_id)]
            columns = values[index]
            platform_updated = columns["platform_updated_at"]
            if platform_updated < stored.updated_at:
                saved[index] = OrderSaved(
                    stored.order_id, False, False, False, stored.status, stored.status
                )
                continue
            same_customer = customer_id is None or customer_id == stored.customer_id
            same_content = columns["content_hash"] == stored.content_hash
            if same_content and platform_updated == stored.updated_at and same_customer:
                saved[index] = OrderSaved(
                    stored.order_id, False, True, False, stored.status, stored.status
                )
                continue
            updates.append(
                {"order_id": stored.order_id, "link": customer_id, "updated_at": now, **columns}
            )
            if not same_content:
                replaced.append(stored.order_id)
                refs_replaced.append((ref.account, ref.external_id))
            saved[index] = OrderSaved(
                order_id=stored.order_id,
                created=False,
                applied=True,
                changed=not same_content or not same_customer,
                previous_status=stored.status,
                status=order.status,
            )
        if updates:
            session.execute(_UPDATE_ORDER, updates)
        if replaced:
            session.execute(delete(order_lines).where(order_lines.c.order_id.in_(replaced)))
        done = [item for item in saved if item is not None]
        rewritten = set(replaced)
        written = [
            (item.order_id, order)
            for item, (order, _) in zip(done, items, strict=True)
            if item.created or item.order_id in rewritten
        ]
        self._write_lines(session, written)
        if written:
            self._keep_summary(session, written, [current[r] for r in refs_replaced])
        return done

    def _keep_summary(
        self,
        session: Connection,
        written: list[tuple[int, Order]],
        previous: list[LockedOrder],
    ) -> None:
        """Move the sales summary from the previous versions to the written ones (one
        upsert for the page; nothing when no zone is kept)."""
        zones = self.sales_day_zones(session)
        if not zones:
            return
        deltas: dict[SkuDay, list[int]] = {}
        for stored in previous:
            if stored.document is not None:
                old = Order.model_validate(stored.document)
                add_figures(deltas, sku_day_figures(old, zones), -1)
        for _, order in written:
            add_figures(deltas, sku_day_figures(order, zones))
        self._add_sales_days(session, deltas)

    @staticmethod
    def _write_lines(connection: Connection, written: list[tuple[int, Order]]) -> None:
        rows = [
            {
                "order_id": order_id,
                "line_no": number,
                "sku": line.sku,
                "quantity": line.quantity,
                "unit_price_minor": line.unit_price.to_minor(),
                "total_minor": line.total.to_minor(),
                "refund_minor": refund,
            }
            for order_id, order in written
            for number, (line, refund) in enumerate(
                zip(order.lines, line_refunds(order), strict=True), start=1
            )
        ]
        if rows:
            connection.execute(insert(order_lines), rows)

    def order_version(
        self, account: str, external_id: str, *, session: Connection | None = None
    ) -> OrderVersion | None:
        """The stored version of an order (a cheap read), or None when it is not stored."""
        return self.order_versions([(account, external_id)], session=session).get(
            (account, external_id)
        )

    def order_versions(
        self, refs: Iterable[tuple[str, str]], *, session: Connection | None = None
    ) -> dict[tuple[str, str], OrderVersion]:
        """The stored versions of the orders among ``refs`` ((account, external id)), one
        query, no lock (a cheap read: the engine skips what it holds already)."""
        wanted = sorted(set(refs))
        if not wanted:
            return {}
        query = (
            select(
                accounts.c.name,
                orders.c.external_id,
                orders.c.platform_updated_at,
                orders.c.content_hash,
                orders.c.customer_id,
                orders.c.id,
                orders.c.status,
            )
            .join_from(orders, accounts, orders.c.account_id == accounts.c.id)
            .where(tuple_(accounts.c.name, orders.c.external_id).in_(wanted))
        )
        with self._read(session) as connection:
            rows = connection.execute(query).all()
        return {
            (row.name, row.external_id): OrderVersion(
                updated_at=row.platform_updated_at,
                content_hash=str(row.content_hash),
                customer_id=row.customer_id,
                order_id=int(row.id),
                status=OrderStatus(row.status),
            )
            for row in rows
        }

    def get_order(
        self, account: str, external_id: str, *, session: Connection | None = None
    ) -> StoredOrder | None:
        """The order ``external_id`` of ``account``, or None."""
        with self._read(session) as connection:
            row = connection.execute(
                _order_query().where(
                    accounts.c.name == account, orders.c.external_id == external_id
                )
            ).one_or_none()
        return None if row is None else _stored_order(row)

    def get_orders(
        self, refs: Iterable[tuple[str, str]], *, session: Connection | None = None
    ) -> dict[tuple[str, str], StoredOrder]:
        """The stored orders among ``refs`` ((account, external id) pairs), by pair (one
        query; a pair with no order is left out)."""
        wanted = sorted(set(refs))
        if not wanted:
            return {}
        query = _order_query().where(tuple_(accounts.c.name, orders.c.external_id).in_(wanted))
        with self._read(session) as connection:
            rows = connection.execute(query).all()
        return {(row.account, row.external_id): _stored_order(row) for row in rows}

    def iter_orders(
        self,
        *,
        account: str | None = None,
        status: OrderStatus | str | None = None,
        updated_since: datetime | None = None,
        customer_id: str | None = None,
        batch_size: int = 500,
        session: Connection | None = None,
    ) -> Generator[StoredOrder, None, None]:
        """Orders in the order they were first stored, streamed ``batch_size`` at a time.

        Filters: ``account`` name, canonical ``status``, platform ``updated_at`` at or after
        ``updated_since``, linked ``customer_id``.
        """
        query = _order_query().order_by(orders.c.id)
        if account is not None:
            query = query.where(accounts.c.name == account)
        if status is not None:
            query = query.where(orders.c.status == OrderStatus(status).value)
        if updated_since is not None:
            query = query.where(orders.c.platform_updated_at >= as_utc(updated_since))
        if customer_id is not None:
            query = query.where(orders.c.customer_id == customer_id)
        for row in self._stream(query, session=session, batch_size=batch_size):
            yield _stored_order(row)
