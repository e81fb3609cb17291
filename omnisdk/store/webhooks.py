"""Webhook delivery ids already processed, so a redelivery changes nothing."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, delete, select

from omnisdk.store.core import StoreCore
from omnisdk.store.schema import accounts, webhook_deliveries
from omnisdk.store.types import as_utc

__all__ = ["WebhooksMixin"]


class WebhooksMixin(StoreCore):
    """Remembering webhook deliveries (atomic through the table's primary key)."""

    def remember_delivery(
        self, account: str, delivery_id: str, *, session: Connection | None = None
    ) -> bool:
        """True the first time ``delivery_id`` is seen on ``account``, False for a redelivery.

        Safe under concurrency: of several workers racing with the same id exactly one gets
        True. Pass the ``session`` that processes the delivery so that a failure forgets it.
        """
        if not delivery_id:
            raise ValueError("delivery_id is empty")
        with self._tx(session) as connection:
            account_id = self._account_id(connection, account)
            inserted = connection.execute(
                self._insert(webhook_deliveries)
                .values(account_id=account_id, delivery_id=delivery_id, received_at=self.now())
                .on_conflict_do_nothing()
                .returning(webhook_deliveries.c.received_at)
            ).first()
            return inserted is not None

    def remember_deliveries(
        self, account: str, delivery_ids: Iterable[str], *, session: Connection | None = None
    ) -> set[str]:
        """:meth:`remember_delivery` for many ids in one statement: those seen for the first
        time (the others are redeliveries). Safe under concurrency like the one-id form."""
        wanted = sorted(set(delivery_ids))
        if not wanted:
            return set()
        if not all(wanted):
            raise ValueError("delivery_id is empty")
        with self._tx(session) as connection:
            account_id = self._account_id(connection, account)
            now = self.now()
            inserted = connection.execute(
                self._insert(webhook_deliveries)
                .values(
                    [
                        {"account_id": account_id, "delivery_id": delivery, "received_at": now}
                        for delivery in wanted
                    ]
                )
                .on_conflict_do_nothing()
                .returning(webhook_deliveries.c.delivery_id)
            )
            return set(inserted.scalars())

    def processed_deliveries(
        self, account: str, delivery_ids: Iterable[str], *, session: Connection | None = None
    ) -> set[str]:
        """Which of ``delivery_ids`` are remembered as processed for ``account`` (one query).

        A read-only transaction (it never takes SQLite's write lock); remembering is the
        engine's job, in the transaction that processes the delivery.
        """
        wanted = sorted(set(delivery_ids))
        if not wanted:
            return set()
        query = (
            select(webhook_deliveries.c.delivery_id)
            .join_from(
                webhook_deliveries, accounts, webhook_deliveries.c.account_id == accounts.c.id
            )
            .where(accounts.c.name == account, webhook_deliveries.c.delivery_id.in_(wanted))
        )
        with self._read(session) as connection:
            return set(connection.execute(query).scalars())

    def forget_deliveries_before(
        self, cutoff: datetime, *, session: Connection | None = None
    ) -> int:
        """Delete remembered deliveries received before ``cutoff``; returns how many.

        Platforms redeliver for hours or days, not forever: keep a window a little longer
        than the longest retry schedule.
        """
        with self._tx(session) as connection:
            return connection.execute(
                delete(webhook_deliveries).where(webhook_deliveries.c.received_at < as_utc(cutoff))
            ).rowcount
