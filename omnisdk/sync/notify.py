"""Messages to buyers without duplicates: the ``omnisdk_notify_customer`` hook.

When an order's canonical status changes (it arrives, is confirmed, ships...), the engine
claims the notification ``(customer, order, "order_<status>")`` in the same transaction
that applies the change (:meth:`~omnisdk.store.Store.claim_notifications`); a second claim
of the same key changes nothing. So the same order arriving by webhook and by poll, twice
by webhook, or on two workers at once, is notified once.

Delivery guarantee: **at least once to the hook, per key, with the key**. The hook is called
after the transaction commits, and the claim is marked delivered when it returns. A hook
that raises, or a process that dies between the commit and the call, leaves the claim
pending: :func:`redeliver` (run by every ``sync_once`` cycle) calls it again once
:data:`RETRY_AFTER` has passed, at most :data:`MAX_ATTEMPTS` times in all. Duplicate
deliveries of an order never call it twice; a crash can. The hook receives ``key`` (stable
across retries): pass it as the idempotency key of the SMS or chat provider to close that gap.

No listener, no claim: while no plugin implements ``omnisdk_notify_customer``
(:func:`listening`), intake claims nothing and :func:`redeliver` scans nothing. A claim is the
record of a message owed to a buyer; with no one to send it there is none, and an app
registered later is told only of the status changes it was there to see, never flooded with
every order's history. Claims left pending when the last listener went away wait, untouched
(their attempts are not spent), until one is registered again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta

from omnisdk.models import Customer, Order, OrderStatus
from omnisdk.store import NotificationKey, Store, Transaction
from omnisdk.sync.context import SyncContext

__all__ = [
    "MAX_ATTEMPTS",
    "RETRY_AFTER",
    "claim",
    "deliver",
    "listening",
    "notification_event",
    "order_key",
    "redeliver",
]

logger = logging.getLogger("omnisdk.sync")

RETRY_AFTER = timedelta(minutes=1)
"""How long a claim stays pending before :func:`redeliver` tries it again."""
MAX_ATTEMPTS = 5
"""Calls of the hook per key at most (the first one included)."""


def listening(context: SyncContext) -> bool:
    """True when a registered plugin implements ``omnisdk_notify_customer`` now."""
    return bool(context.plugins.hook.omnisdk_notify_customer.get_hookimpls())


def notification_event(status: OrderStatus) -> str:
    """The event an order reaching ``status`` notifies: ``order_confirmed``, ``order_shipped``..."""
    return f"order_{status.value}"


def order_key(order: Order) -> str:
    """How notifications name an order: ``account/external id``."""
    return f"{order.channel_ref.account}/{order.channel_ref.external_id}"


def claim(
    store: Store, session: Transaction, wanted: Sequence[tuple[str, Order]]
) -> list[NotificationKey | None]:
    """Claim the notification of each ``(customer id, order)`` (the order's current status)
    in ``session``: the key claimed now, or None when someone claimed it before."""
    keys = [
        NotificationKey(customer_id, order_key(order), notification_event(order.status))
        for customer_id, order in wanted
    ]
    claimed = set(store.claim_notifications(session, keys))
    return [key if key in claimed else None for key in keys]


def _split(key: NotificationKey) -> tuple[str, str]:
    account, _, external_id = key.order_key.partition("/")
    return account, external_id


async def deliver(
    context: SyncContext,
    keys: Sequence[NotificationKey],
    orders: Mapping[NotificationKey, Order] | None = None,
) -> int:
    """Call ``omnisdk_notify_customer`` for each claimed key (after the claim committed);
    mark the ones that returned delivered. ``orders`` are the orders already in hand (the
    others are read). Returns how many were delivered."""
    if not keys or not listening(context):
        return 0  # no listener (it went away since the claim): the claims stay pending
    store = context.store
    known = dict(orders or {})

    def load() -> tuple[dict[NotificationKey, Order], dict[str, Customer]]:
        with store.session() as session:
            missing = [key for key in keys if key not in known]
            found = store.get_orders([_split(key) for key in missing], session=session)
            in_hand = dict(known)
            for key in missing:
                stored = found.get(_split(key))
                if stored is not None:
                    in_hand[key] = stored.order
            wanted = {key.customer_id for key in keys}
            records = store.get_customers(wanted, session=session)
            merged = {cid for cid, rec in records.items() if rec.merged_into is not None}
            survivors = {cid: cid for cid in records if cid not in merged}
            if merged:  # merged away since the claim: the survivor is the person now
                survivors.update(store.resolve_customer_ids(merged, session=session))
                records.update(store.get_customers(set(survivors.values()), session=session))
            people = {
                cid: records[survivor].customer.model_copy(update={"id": survivor})
                for cid, survivor in survivors.items()
                if survivor in records
            }
        return in_hand, people

    in_hand, people = await context.run(load)
    delivered: list[NotificationKey] = []
    failed: list[tuple[NotificationKey, str]] = []
    for key in keys:
        order, person = in_hand.get(key), people.get(key.customer_id)
        if order is None or person is None or person.id is None:
            failed.append((key, "the order or the customer is no longer stored"))
            continue
        try:
            context.plugins.hook.omnisdk_notify_customer(
                customer=person, customer_id=person.id, order=order, event=key.event, key=str(key)
            )
        except Exception as exc:  # an app's hook must not break the engine
            logger.exception("omnisdk_notify_customer failed for %s", key)
            failed.append((key, f"{type(exc).__name__}: {exc}"))
        else:
            delivered.append(key)
    await context.run(store.finish_notifications, delivered, failed)
    return len(delivered)


async def redeliver(context: SyncContext) -> int:
    """Call the hook again for claims still pending :data:`RETRY_AFTER` after their last try
    (a hook that raised, a process that died before calling it); returns how many were
    delivered now."""
    if not listening(context):
        return 0
    store = context.store

    def take() -> list[NotificationKey]:
        pending = store.pending_notifications(
            tried_before=context.now() - RETRY_AFTER, max_attempts=MAX_ATTEMPTS
        )
        return [item.key for item in pending if store.retake_notification(item)]

    return await deliver(context, await context.run(take))
