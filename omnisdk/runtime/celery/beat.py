"""The beat's scheduler: Celery's own, sending at most one queued message per account and task.

The beat sends every account's order poll every ``[channels.poll] orders`` (a second, say),
whether or not the last one ran. Behind busy workers those pile up: a dozen polls of one
account waiting in the ``poll`` queue read the same orders a dozen times, and every other
account's polls wait behind them. :class:`OneQueuedScheduler` is Celery's
:class:`~celery.beat.PersistentScheduler` that, for each per-account entry, sets a mark
(:class:`~omnisdk.runtime.celery.pending.QueuedMarks`) when it sends the message and sends
nothing while the mark is set: the task clears it when it starts. The push dispatcher
(``omnisdk.rebalance``, every ``[engine] push_interval``) is held to one queued message in
all. The one message sent does not expire (so it runs, however busy the workers are: a
poll dropped unrun left its account unpolled); its mark lives three of its intervals, at least
a minute, in case the message is lost (a purged queue), after which the next one is sent.
Without Redis (``[celery] rate_limit_url`` or a Redis broker), every message is sent, as
Celery does, and expires after three intervals.
"""

from __future__ import annotations

import copy
from typing import Any

from celery.beat import PersistentScheduler, ScheduleEntry

from omnisdk.runtime.celery.pending import MARK_SECONDS, QueuedMarks

__all__ = ["ALL_ACCOUNTS", "ONE_QUEUED_TASKS", "OneQueuedScheduler", "queued_marks"]

ONE_QUEUED_TASKS = frozenset(
    {
        "omnisdk.poll_orders",
        "omnisdk.poll_customers",
        "omnisdk.poll_products",
        "omnisdk.reconcile",
        "omnisdk.rebalance",
    }
)
"""The periodic tasks of which at most one message per account waits (one in all for
``omnisdk.rebalance``, whose mark is under :data:`ALL_ACCOUNTS`)."""
ALL_ACCOUNTS = "*"
"""The mark's account of an entry for no account in particular."""


def queued_marks(url: str, queue: str, task: str) -> QueuedMarks:
    """The marks of ``task``'s queued messages in the Redis at ``url`` (``[celery] queue``)."""
    return QueuedMarks(url, prefix=f"{queue}:queued:{task}", what=task.removeprefix("omnisdk."))


class OneQueuedScheduler(PersistentScheduler):  # type: ignore[misc]  # Celery is untyped
    """Celery's persistent scheduler, one queued message per account and task (module doc)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._marks: dict[str, QueuedMarks] = {}
        super().__init__(*args, **kwargs)

    def marks(self, task: str) -> QueuedMarks | None:
        """The marks of ``task`` (None: not limited, or no Redis)."""
        if task not in ONE_QUEUED_TASKS:
            return None
        settings = self.app.conf.omnisdk_config.celery
        url = settings.shared_budgets_url
        if url is None:
            return None
        if task not in self._marks:
            self._marks[task] = queued_marks(url, settings.queue, task)
        return self._marks[task]

    def apply_async(
        self, entry: ScheduleEntry, producer: Any = None, advance: bool = True, **kwargs: Any
    ) -> Any:
        """Send ``entry``'s message unless one of its account still waits."""
        marks = self.marks(entry.task)
        if marks is None:
            return super().apply_async(entry, producer=producer, advance=advance, **kwargs)
        account = str(entry.args[0]) if entry.args else ALL_ACCOUNTS
        expires = float(entry.options.get("expires") or 0)
        if advance:
            entry = self.reserve(entry)
        if not marks.mark(account, seconds=max(expires, MARK_SECONDS)):
            return None
        # The one queued message does not expire: dropped unrun behind busy workers, it
        # would leave the account unpolled until its mark ran out (a webhook drain that
        # asked for a poll found the mark and sent none).
        sending = copy.copy(entry)
        sending.options = {key: v for key, v in entry.options.items() if key != "expires"}
        return super().apply_async(sending, producer=producer, advance=False, **kwargs)

    def close(self) -> None:
        """Close the Redis clients, then the schedule."""
        for marks in self._marks.values():
            marks.close()
        self._marks.clear()
        super().close()
