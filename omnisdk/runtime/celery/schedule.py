"""The beat schedule, generated from the config: what the local runtime's loops do, as entries.

For every account, by what its channel type can do (its class's capabilities; no channel is
opened): an order poll every ``[channels.poll] orders``, a customer poll every ``customers``,
a listing poll every ``products``, a stock read-back (reconciliation) every ``stock`` when set,
else every ``[engine] reconcile_interval``. One ``omnisdk.rebalance`` entry every ``[engine]
push_interval`` sends a pusher to each account with due outbox rows (quota moves the pushers
queued, retries that came due, changes other processes made). One ``omnisdk.run_promotions``
entry every :data:`PROMOTIONS_INTERVAL` starts and ends promotions (so within a minute of
their time; the embedded runtime wakes at the exact moment).

Each entry's message expires after :data:`EXPIRY_INTERVALS` intervals (at least
:data:`MIN_EXPIRY` seconds): polls still queued behind busy workers are dropped instead of
piling up, yet a loaded fleet still runs one now and then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from omnisdk.channel import Capability
from omnisdk.config import Config
from omnisdk.plugins import Plugins

__all__ = [
    "PROMOTIONS_INTERVAL",
    "QUEUES",
    "TASK_QUEUES",
    "ScheduleEntry",
    "beat_schedule",
    "schedule_entries",
]

EXPIRY_INTERVALS = 3
"""A periodic message expires after this many of its intervals."""
MIN_EXPIRY = 10.0
"""Seconds a periodic message lives at least."""
PROMOTIONS_INTERVAL = timedelta(minutes=1)
"""How often the beat asks a worker to start and end the promotions that are due."""

QUEUES = ("poll", "intake", "push", "maintenance")
"""The queue kinds; a queue's name is ``{[celery] queue}.{kind}``."""

TASK_QUEUES: dict[str, str] = {
    "omnisdk.poll_orders": "poll",
    "omnisdk.handle_events": "intake",
    "omnisdk.drain_intake": "intake",
    "omnisdk.push": "push",
    "omnisdk.poll_customers": "maintenance",
    "omnisdk.poll_products": "maintenance",
    "omnisdk.reconcile": "maintenance",
    "omnisdk.rebalance": "maintenance",
    "omnisdk.run_promotions": "maintenance",
}
"""Which queue kind each task goes to. A worker takes from each of its queues in turn, so the
order polls (``poll``, a few messages per account and interval, dropped when stale) never
wait behind a burst of webhook deliveries (``intake``: one drain queued per account with Redis,
else one message per delivery) or behind
pushes (``push``, at most one queued per account), and order intake never waits behind a
reconciliation (``maintenance``)."""


@dataclass(frozen=True)
class ScheduleEntry:
    """One periodic task of the beat schedule."""

    name: str
    task: str
    every: timedelta
    account: str | None = None

    def as_celery(self, queue_prefix: str) -> dict[str, Any]:
        """The entry in Celery's ``beat_schedule`` form."""
        seconds = self.every.total_seconds()
        return {
            "task": self.task,
            "schedule": seconds,
            "args": (self.account,) if self.account is not None else (),
            "options": {
                "queue": f"{queue_prefix}.{TASK_QUEUES[self.task]}",
                "expires": max(seconds * EXPIRY_INTERVALS, MIN_EXPIRY),
            },
        }


def schedule_entries(config: Config, plugins: Plugins) -> list[ScheduleEntry]:
    """Every periodic task ``config`` asks for (see the module doc)."""
    entries: list[ScheduleEntry] = []
    for entry in config.channels:
        capabilities = plugins.channel_class(entry.type).capabilities
        account = entry.name
        poll = entry.poll
        if Capability.READ_ORDERS in capabilities:
            entries.append(
                ScheduleEntry(f"poll-orders:{account}", "omnisdk.poll_orders", poll.orders, account)
            )
        if Capability.READ_CUSTOMERS in capabilities:
            entries.append(
                ScheduleEntry(
                    f"poll-customers:{account}", "omnisdk.poll_customers", poll.customers, account
                )
            )
        if Capability.READ_PRODUCTS in capabilities:
            entries.append(
                ScheduleEntry(
                    f"poll-products:{account}", "omnisdk.poll_products", poll.products, account
                )
            )
        if Capability.READ_STOCK in capabilities:
            explicit = "stock" in poll.model_fields_set
            every = poll.stock if explicit else config.engine.reconcile_interval
            entries.append(
                ScheduleEntry(f"reconcile:{account}", "omnisdk.reconcile", every, account)
            )
    entries.append(ScheduleEntry("rebalance", "omnisdk.rebalance", config.engine.push_interval))
    entries.append(ScheduleEntry("promotions", "omnisdk.run_promotions", PROMOTIONS_INTERVAL))
    return entries


def beat_schedule(config: Config, plugins: Plugins) -> dict[str, dict[str, Any]]:
    """Celery's ``beat_schedule`` for ``config``."""
    prefix = config.celery.queue
    return {entry.name: entry.as_celery(prefix) for entry in schedule_entries(config, plugins)}
