"""At most one queued message per account and task: a mark in Redis while the message waits.

Every task that changes stock sends a pusher to each account with due outbox rows, and so does
every push (its drain may have queued other accounts). Without a limit, a busy fleet sends the
same account's push again and again while the first one still waits in the queue: the push
queue grows with the orders, not with the accounts, and the order polls and webhook events
wait behind copies that find nothing to do. The same holds for the beat's periodic polls
(a poll still queued when the next one is due would only read what the first one reads) and
for the drains of an account's webhook intake (:mod:`omnisdk.runtime.celery.intake`).

:class:`QueuedMarks` keeps one key per (task, account), set (``SET NX``) when a message is
sent and deleted when that message starts: a sender that finds the key set sends nothing,
because the queued message will see every change committed before it starts. A change
committed after the start is seen by the message sent after it (the key is gone by then). The
key expires after ``seconds`` in case its message never runs (a purged queue, a message that
expired): at worst the next one is then sent that much later.

Redis unreachable: the mark is skipped and the message is sent (duplicates are harmless; a
lost one is not).
"""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["MARK_SECONDS", "AccountKeys", "PendingPushes", "QueuedMarks"]

logger = logging.getLogger("omnisdk.runtime.celery")

MARK_SECONDS = 60
"""How long a mark lives at most (a message that never ran stops blocking after this)."""


class AccountKeys:
    """One Redis key per account, ``{prefix}:{account}``, in the Redis at ``url`` (the
    client is opened on first use): what the marks and the intake lists share."""

    def __init__(self, url: str, *, prefix: str) -> None:
        self.url = url
        self.prefix = prefix
        self._client: Any = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(prefix={self.prefix!r})"

    @property
    def client(self) -> Any:
        """The (synchronous) Redis client, opened on first use."""
        if self._client is None:
            import redis

            self._client = redis.Redis.from_url(self.url, socket_timeout=5)
        return self._client

    def key(self, account: str) -> str:
        """The Redis key of ``account``."""
        return f"{self.prefix}:{account}"


class QueuedMarks(AccountKeys):
    """Marks of queued messages of ``what`` (a label for the log) in the Redis at ``url``,
    under ``prefix`` (see the module doc)."""

    def __init__(
        self, url: str, *, prefix: str, seconds: float = MARK_SECONDS, what: str = "message"
    ) -> None:
        super().__init__(url, prefix=prefix)
        self.seconds = seconds
        self.what = what

    def mark(self, account: str, *, seconds: float | None = None) -> bool:
        """True when no message of ``account`` was queued: the caller sends one (now marked,
        for ``seconds``, default :attr:`seconds`, at most)."""
        ttl = max(round(seconds if seconds is not None else self.seconds), 1)
        try:
            return bool(self.client.set(self.key(account), "1", nx=True, ex=ttl))
        except Exception as exc:  # Redis down: send the message, unmarked
            logger.warning("marking the %s of %s failed: %s", self.what, account, exc)
            return True

    def started(self, account: str) -> None:
        """The queued message of ``account`` starts: later changes need one of their own."""
        try:
            self.client.delete(self.key(account))
        except Exception as exc:
            logger.warning("clearing the %s mark of %s failed: %s", self.what, account, exc)

    def close(self) -> None:
        """Close the client (idempotent)."""
        client, self._client = self._client, None
        if client is not None:
            client.close()


class PendingPushes(QueuedMarks):
    """Marks of queued ``omnisdk.push`` messages, one per account."""

    def __init__(self, url: str, *, prefix: str, seconds: float = MARK_SECONDS) -> None:
        super().__init__(url, prefix=prefix, seconds=seconds, what="push")
