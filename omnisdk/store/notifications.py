"""Customer notifications: one claim per (customer, order, event), whoever sees it first.

A claim is inserted in the transaction that applies an order's change; the unique key makes
a second claim of the same (customer, order, event) a no-op, so a webhook and a poll of the
same order, a redelivery or two workers claim it once. A claim stays pending until the
engine has called the hook (``delivered_at``); pending claims can be taken again for a retry,
by one worker at a time (a conditional update on ``attempts``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, and_, bindparam, select, update

from omnisdk.store.core import StoreCore
from omnisdk.store.schema import notifications

__all__ = ["NotificationKey", "NotificationsMixin", "PendingNotification"]


@dataclass(frozen=True, slots=True)
class NotificationKey:
    """What a notification is unique by. ``order_key`` is ``account/external id``."""

    customer_id: str
    order_key: str
    event: str

    def __str__(self) -> str:
        return f"{self.customer_id}:{self.order_key}:{self.event}"


@dataclass(frozen=True, slots=True)
class PendingNotification:
    """A claim not delivered yet, with how often it was tried and the last error."""

    key: NotificationKey
    attempts: int
    last_error: str | None
    created_at: datetime


_KEY = (notifications.c.customer_id, notifications.c.order_key, notifications.c.event)


def _matches() -> ColumnElement[bool]:
    return and_(
        notifications.c.customer_id == bindparam("k_customer"),
        notifications.c.order_key == bindparam("k_order"),
        notifications.c.event == bindparam("k_event"),
    )


def _params(key: NotificationKey) -> dict[str, str]:
    return {"k_customer": key.customer_id, "k_order": key.order_key, "k_event": key.event}


class NotificationsMixin(StoreCore):
    """Claiming, delivering and retrying customer notifications."""

    def claim_notifications(
        self, session: Connection, keys: Sequence[NotificationKey]
    ) -> list[NotificationKey]:
        """Claim ``keys`` in ``session``; return those claimed now (not claimed before)."""
        if not keys:
            return []
        now = self.now()
        rows = [
            {
                "customer_id": key.customer_id,
                "order_key": key.order_key,
                "event": key.event,
                "created_at": now,
                "tried_at": now,
                "attempts": 1,
            }
            for key in dict.fromkeys(keys)
        ]
        claimed = session.execute(
            self._insert(notifications)
            .on_conflict_do_nothing(index_elements=list(_KEY))
            .returning(*_KEY),
            rows,
        ).all()
        new = {NotificationKey(*row) for row in claimed}
        return [key for key in dict.fromkeys(keys) if key in new]

    def finish_notifications(
        self,
        delivered: Sequence[NotificationKey],
        failed: Sequence[tuple[NotificationKey, str]] = (),
        *,
        session: Connection | None = None,
    ) -> None:
        """Mark ``delivered`` done, and record why each of ``failed`` failed (still pending)."""
        now = self.now()
        with self._tx(session) as connection:
            if delivered:
                connection.execute(
                    update(notifications).where(_matches()).values(delivered_at=now),
                    [_params(key) for key in delivered],
                )
            if failed:
                connection.execute(
                    update(notifications)
                    .where(_matches())
                    .values(last_error=bindparam("error")),
                    [{**_params(key), "error": error[:2000]} for key, error in failed],
                )

    def pending_notifications(
        self,
        *,
        tried_before: datetime,
        max_attempts: int,
        limit: int = 500,
        session: Connection | None = None,
    ) -> list[PendingNotification]:
        """Claims not delivered, last tried before ``tried_before``, tried fewer than
        ``max_attempts`` times; oldest first."""
        query = (
            select(notifications)
            .where(
                notifications.c.delivered_at.is_(None),
                notifications.c.tried_at < tried_before,
                notifications.c.attempts < max_attempts,
            )
            .order_by(notifications.c.created_at, *_KEY)
            .limit(limit)
        )
        with self._read(session) as connection:
            rows = connection.execute(query).all()
        return [
            PendingNotification(
                key=NotificationKey(row.customer_id, row.order_key, row.event),
                attempts=int(row.attempts),
                last_error=row.last_error,
                created_at=row.created_at,
            )
            for row in rows
        ]

    def retake_notification(
        self, pending: PendingNotification, *, session: Connection | None = None
    ) -> bool:
        """Take a pending claim for one more try; False when another worker took it first
        (or it was delivered meanwhile)."""
        with self._tx(session) as connection:
            taken = connection.execute(
                update(notifications)
                .where(
                    _matches(),
                    notifications.c.attempts == pending.attempts,
                    notifications.c.delivered_at.is_(None),
                )
                .values(attempts=pending.attempts + 1, tried_at=self.now()),
                _params(pending.key),
            )
            return taken.rowcount == 1
