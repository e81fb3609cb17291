"""Webhook delivery ids already processed, so a redelivery changes nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete

from omnisdk.store.core import StoreCore
from omnisdk.store.schema import webhook_deliveries
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
