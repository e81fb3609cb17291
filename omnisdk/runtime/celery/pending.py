"""At most one queued push per account: a mark in Redis while an ``omnisdk.push`` waits.

Every task that changes stock sends a pusher to each account with due outbox rows, and so does
every push (its drain may have queued other accounts). Without a limit, a busy fleet sends the
same account's push again and again while the first one still waits in the queue: the push
queue grows with the orders, not with the accounts, and the order polls and webhook events
wait behind copies that find nothing to do.

:class:`PendingPushes` keeps one key per account, set (``SET NX``) when a push is sent and
deleted when that push starts: a dispatch that finds the key set sends nothing, because the
queued push will see every change committed before it starts. A change committed after the
start is seen by the dispatch that follows it (the key is gone by then). The key expires after
:data:`MARK_SECONDS` in case its message never runs (a purged queue): at worst a push then
waits for the next ``omnisdk.rebalance`` tick after that.

Redis unreachable: the mark is skipped and the push is sent (duplicates are harmless; a lost
push is not).
"""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["MARK_SECONDS", "PendingPushes"]

logger = logging.getLogger("omnisdk.runtime.celery")

MARK_SECONDS = 60
"""How long a mark lives at most (a message that never ran stops blocking after this)."""


class PendingPushes:
    """Marks of queued pushes in the Redis at ``url``, under ``prefix`` (see the module doc)."""

    def __init__(self, url: str, *, prefix: str, seconds: int = MARK_SECONDS) -> None:
        self.url = url
        self.prefix = prefix
        self.seconds = seconds
        self._client: Any = None

    def __repr__(self) -> str:
        return f"PendingPushes(prefix={self.prefix!r})"

    @property
    def client(self) -> Any:
        """The (synchronous) Redis client, opened on first use."""
        if self._client is None:
            import redis

            self._client = redis.Redis.from_url(self.url, socket_timeout=5)
        return self._client

    def key(self, account: str) -> str:
        """The Redis key of ``account``'s mark."""
        return f"{self.prefix}:{account}"

    def mark(self, account: str) -> bool:
        """True when no push of ``account`` was queued: the caller sends one (now marked)."""
        try:
            return bool(self.client.set(self.key(account), "1", nx=True, ex=self.seconds))
        except Exception as exc:  # Redis down: send the push, unmarked
            logger.warning("marking the push of %s failed: %s", account, exc)
            return True

    def started(self, account: str) -> None:
        """The queued push of ``account`` starts: later changes need a push of their own."""
        try:
            self.client.delete(self.key(account))
        except Exception as exc:
            logger.warning("clearing the push mark of %s failed: %s", account, exc)

    def close(self) -> None:
        """Close the client (idempotent)."""
        client, self._client = self._client, None
        if client is not None:
            client.close()
