"""Orders: stored once per (account, platform order id), newest platform version wins."""

from __future__ import annotations

from collections.abc import Generator, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, tuple_, update

from omnisdk.models import Order, OrderStatus
from omnisdk.store.core import StoreCore
from omnisdk.store.documents import content_hash, to_document
from omnisdk.store.records import OrderSaved, StoredOrder
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


class OrdersMixin(StoreCore):
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
        now = self.now()
        document = to_document(order)
        digest = content_hash(document)
        platform_updated = as_utc(order.updated_at)
        values: dict[str, Any] = {
            "number": order.number,
            "status": order.status.value,
            "payment_status": order.payment_status.value,
            "currency": order.currency,
            "total_minor": order.total.to_minor(),
            "placed_at": as_utc(order.created_at),
            "platform_updated_at": platform_updated,
            "document": document,
            "content_hash": digest,
        }
        if customer_id is not None:
            values["customer_id"] = customer_id
        with self._tx(session) as connection:
            account_id = self._ensure_account_id(connection, ref.account, ref.channel)
            new_id = connection.execute(
                self._insert(orders)
                .values(
                    account_id=account_id,
                    external_id=ref.external_id,
                    created_at=now,
                    updated_at=now,
                    **values,
                )
                .on_conflict_do_nothing(index_elements=[orders.c.account_id, orders.c.external_id])
                .returning(orders.c.id)
            ).scalar_one_or_none()
            if new_id is not None:
                self._write_lines(connection, int(new_id), order)
                return OrderSaved(
                    order_id=int(new_id),
                    created=True,
                    applied=True,
                    changed=True,
                    previous_status=None,
                    status=order.status,
                )
            stored = connection.execute(
                select(
                    orders.c.id,
                    orders.c.status,
                    orders.c.platform_updated_at,
                    orders.c.content_hash,
                    orders.c.customer_id,
                )
                .where(orders.c.account_id == account_id, orders.c.external_id == ref.external_id)
                .with_for_update()
            ).one()
            previous = OrderStatus(stored.status)
            if platform_updated < stored.platform_updated_at:
                return OrderSaved(
                    order_id=stored.id,
                    created=False,
                    applied=False,
                    changed=False,
                    previous_status=previous,
                    status=previous,
                )
            same_customer = customer_id is None or customer_id == stored.customer_id
            if (
                digest == stored.content_hash
                and platform_updated == stored.platform_updated_at
                and same_customer
            ):
                return OrderSaved(
                    order_id=stored.id,
                    created=False,
                    applied=True,
                    changed=False,
                    previous_status=previous,
                    status=previous,
                )
            connection.execute(
                update(orders).where(orders.c.id == stored.id).values(updated_at=now, **values)
            )
            if digest != stored.content_hash:
                self._write_lines(connection, stored.id, order, replace=True)
            return OrderSaved(
                order_id=stored.id,
                created=False,
                applied=True,
                changed=digest != stored.content_hash or not same_customer,
                previous_status=previous,
                status=order.status,
            )

    @staticmethod
    def _write_lines(
        connection: Connection, order_id: int, order: Order, *, replace: bool = False
    ) -> None:
        if replace:
            connection.execute(delete(order_lines).where(order_lines.c.order_id == order_id))
        connection.execute(
            insert(order_lines),
            [
                {
                    "order_id": order_id,
                    "line_no": number,
                    "sku": line.sku,
                    "quantity": line.quantity,
                    "unit_price_minor": line.unit_price.to_minor(),
                    "total_minor": line.total.to_minor(),
                }
                for number, line in enumerate(order.lines, start=1)
            ],
        )

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
