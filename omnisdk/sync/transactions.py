"""One store transaction of the engine, retried when the database asks, and the hook calls it
caused, made once it has committed."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from omnisdk.errors import StoreError
from omnisdk.models import Order
from omnisdk.store import NotificationKey, Store, Transaction
from omnisdk.sync.context import SyncContext

__all__ = ["Fired", "in_transaction"]

logger = logging.getLogger("omnisdk.sync")

T = TypeVar("T")
_RETRYABLE_DB = ("deadlock detected", "could not serialize", "database is locked")
_TX_ATTEMPTS = 5


@dataclass
class Fired:
    """Hook calls a transaction caused, to be made once it has committed, and the customer
    notifications it claimed (delivered by :func:`omnisdk.sync.notify.deliver`)."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    notifications: dict[NotificationKey, Order] = field(default_factory=dict)

    def add(self, hook: str, **kwargs: Any) -> None:
        """Queue a call of ``hook`` with ``kwargs``."""
        self.calls.append((hook, kwargs))

    def extend(self, other: Fired) -> None:
        """Queue every call (and notification) of ``other`` after these."""
        self.calls.extend(other.calls)
        self.notifications.update(other.notifications)

    def fire(self, context: SyncContext) -> None:
        """Make the queued calls (each one failing alone) and forget them."""
        calls, self.calls = self.calls, []
        for hook, kwargs in calls:
            context.fire(hook, **kwargs)


def in_transaction(store: Store, work: Callable[[Transaction], T]) -> T:
    """Run ``work(session)`` in one store transaction, again when the database asks to.

    PostgreSQL may abort a transaction that deadlocked with another one; the work is then
    repeated from the start (everything it did was rolled back).
    """
    for attempt in range(1, _TX_ATTEMPTS + 1):
        try:
            with store.session() as session:
                return work(session)
        except StoreError as exc:
            if attempt == _TX_ATTEMPTS or not any(s in str(exc) for s in _RETRYABLE_DB):
                raise
            logger.info("store transaction retried (%s)", exc)
            time.sleep(0.01 * attempt)
    raise AssertionError("unreachable")  # pragma: no cover
