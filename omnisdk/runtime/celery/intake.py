"""Webhook intake batched per account: the receiver appends, one queued drain takes them all.

Sent as a task each, every webhook delivery ingested one order in a transaction of its own,
and a flash sale's deliveries filled the ``intake`` queue faster than workers emptied it.
With Redis (``[celery] rate_limit_url``, or a Redis broker), the receiver instead appends each
delivery's events to the account's list (:class:`IntakeBuffer`, one entry per delivery) and
sends an ``omnisdk.drain_intake`` task only when none of the account is queued yet (a
:class:`~omnisdk.runtime.celery.pending.QueuedMarks` mark, as for pushes). The drain takes the
list in batches of :data:`BATCH_DELIVERIES` and hands each to
:meth:`~omnisdk.sync.engine.Engine.handle_event_batch` (set-based, see
:mod:`omnisdk.sync.intake.webhook_batches`), so the messages grow with the accounts, not with
the orders.

At least once, and a SIGKILL: a drain reads a batch without taking it off the list
(``LRANGE``) and trims it (``LTRIM``) only once its effects are committed. A worker killed in
between leaves the batch at the head of the list, and its drain message is delivered again
(acks late); the batch is then taken again, and changes nothing twice (delivery ids are
remembered in the transaction that ingests their orders; an order version seen before is a
no-op). One drain at a time per account (the ``intake`` work lock), so a trim only ever
removes what its drain read: the receiver appends at the tail.

A drain that finds the lock taken does nothing: the holder checks the list once more after
it lets go and sends another drain if entries are left. Without Redis each delivery is its
own ``omnisdk.handle_events`` task, as before.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from omnisdk.config import Config
from omnisdk.runtime.celery.pending import AccountKeys, QueuedMarks

__all__ = [
    "BATCH_DELIVERIES",
    "MAX_BATCHES",
    "IntakeBuffer",
    "IntakeSender",
    "intake_buffer",
    "intake_marks",
]

logger = logging.getLogger("omnisdk.runtime.celery")

BATCH_DELIVERIES = 200
"""Deliveries one batch (one intake transaction) takes at most."""
MAX_BATCHES = 20
"""Batches one drain takes at most before it hands over to a fresh drain message (so polls
and pushes of other accounts get a worker in between)."""


class IntakeBuffer(AccountKeys):
    """The per-account lists of webhook deliveries in the Redis at ``url``, under
    ``prefix`` (see the module doc)."""

    def append(self, account: str, events: list[dict[str, Any]]) -> int:
        """Append one delivery's events (JSON data); returns the list's length after."""
        return int(self.client.rpush(self.key(account), json.dumps(events)))

    def peek(self, account: str, limit: int = BATCH_DELIVERIES) -> list[list[dict[str, Any]]]:
        """The first ``limit`` deliveries of ``account`` (left in the list)."""
        entries = self.client.lrange(self.key(account), 0, limit - 1)
        return [json.loads(entry) for entry in entries]

    def drop(self, account: str, count: int) -> None:
        """Take the first ``count`` deliveries off ``account``'s list (they are processed)."""
        if count > 0:
            self.client.ltrim(self.key(account), count, -1)

    def depth(self, account: str) -> int:
        """How many deliveries of ``account`` wait."""
        return int(self.client.llen(self.key(account)))

    def waiting(self) -> list[str]:
        """The accounts with deliveries waiting (a scan of the keys under the prefix)."""
        start = len(self.prefix) + 1
        found = []
        for key in self.client.scan_iter(match=f"{self.prefix}:*", count=1000):
            name = key.decode() if isinstance(key, bytes) else str(key)
            if self.client.llen(name):
                found.append(name[start:])
        return sorted(found)

    def close(self) -> None:
        """Close the client (idempotent)."""
        client, self._client = self._client, None
        if client is not None:
            client.close()


def intake_buffer(config: Config) -> IntakeBuffer | None:
    """The buffer of ``config``'s deployment (None without Redis)."""
    url = config.celery.shared_budgets_url
    if url is None:
        return None
    return IntakeBuffer(url, prefix=f"{config.celery.queue}:intake")


def intake_marks(config: Config) -> QueuedMarks | None:
    """The marks of queued drains of ``config``'s deployment (None without Redis)."""
    url = config.celery.shared_budgets_url
    if url is None:
        return None
    return QueuedMarks(url, prefix=f"{config.celery.queue}:intake-queued", what="intake drain")


Send = Callable[..., None]
"""Enqueues a task by name with its arguments (:func:`omnisdk.runtime.celery.tasks.send`)."""


class IntakeSender:
    """The receiver's ``enqueue`` for ``config``: append to the account's buffer and send a
    drain unless one is queued; without Redis, one ``omnisdk.handle_events`` per delivery.
    ``send`` enqueues a task (the receiver passes the tasks module's)."""

    def __init__(self, config: Config, send: Send) -> None:
        self.buffer = intake_buffer(config)
        self.marks = intake_marks(config)
        self.send = send

    def __call__(self, account: str, events: list[dict[str, Any]]) -> None:
        """Enqueue one delivery of ``account`` (a blocking call; raises when refused)."""
        if self.buffer is None or self.marks is None:
            self.send("omnisdk.handle_events", account, events)
            return
        self.buffer.append(account, events)
        if self.marks.mark(account):
            self.send("omnisdk.drain_intake", account)

    def close(self) -> None:
        """Close the Redis clients."""
        if self.buffer is not None:
            self.buffer.close()
        if self.marks is not None:
            self.marks.close()
