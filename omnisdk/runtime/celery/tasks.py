"""The tasks: each is one operation of the engine for one account, safe to run twice.

=========================== =========================================== ===================
task                        what it does                                 lock held
=========================== =========================================== ===================
``omnisdk.poll_orders``     ingest the orders the account changed        ``poll:orders``
``omnisdk.poll_customers``  customers into the one customer view         ``poll:customers``
``omnisdk.poll_products``   bind new listings of known SKUs              ``poll:products``
``omnisdk.handle_events``   act on one webhook delivery's events         none
``omnisdk.drain_intake``    the account's buffered deliveries, batched   ``intake``
``omnisdk.push``            drain the account's outbox                   ``push``
``omnisdk.reconcile``       read listed stock back, repair drift         ``reconcile``
``omnisdk.rebalance``       send a pusher to every account with due work none
=========================== =========================================== ===================

Why twice is safe (delivery is at least once): intake is idempotent in the store (an order
seen again changes nothing; every stock movement is a ledger entry with a unique key; a
webhook's delivery id is remembered); a push completes an outbox row only at the generation it
pushed, and its intent recorded before each write tells a successor whether a write of a
killed worker landed. The locks (:meth:`omnisdk.store.Store.try_work_lock`, PostgreSQL advisory
locks that die with their connection) make one worker at a time drain one account's outbox or
poll one of its streams; a task that finds the lock taken does nothing (the holder is at it).

After a task that changed stock (or a push), pushers are sent to the accounts whose outbox has
due rows, found by one query (:meth:`~omnisdk.store.Store.accounts_with_due_pushes`): the
scale-out form of the local runtime waking its pushers. That includes the accounts a quota
move queued (a push that gave units up queues the accounts that need them) and the account
just pushed when its outbox still has work, so a drain goes on until nothing is due. An
account whose push is still queued is sent none (:mod:`omnisdk.runtime.celery.pending`): the
push queue holds at most one message per account, so polls and webhook events never wait
behind copies of the same push. A task whose lock was taken dispatches nothing: the holder
dispatches after it lets go, and sees any change committed while it held the lock.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from celery import signals

from omnisdk.config import Config
from omnisdk.models import ChannelEvent
from omnisdk.runtime.celery.app import app
from omnisdk.runtime.celery.beat import ALL_ACCOUNTS
from omnisdk.runtime.celery.intake import BATCH_DELIVERIES, MAX_BATCHES
from omnisdk.runtime.celery.metrics import (
    PUSH_FAILURES,
    PUSHES,
    QUOTA_REBALANCES,
    TASK_FAILURES,
    TASKS,
)
from omnisdk.runtime.celery.schedule import TASK_QUEUES
from omnisdk.runtime.celery.worker import WorkerEngine
from omnisdk.sync.engine import Engine
from omnisdk.sync.intake import EventBatch
from omnisdk.sync.pusher import PushStats

__all__ = [
    "dispatch_drains",
    "dispatch_pushes",
    "drain_intake",
    "handle_events",
    "poll_customers",
    "poll_orders",
    "poll_products",
    "push",
    "rebalance",
    "reconcile",
    "send_poll",
    "worker_engine",
]

logger = logging.getLogger("omnisdk.runtime.celery")

POLL_MARK_SECONDS = 30
"""How long a poll sent by a task (not by the beat) keeps others from being queued at most."""

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


def _task(name: str) -> Callable[[F], F]:
    """``app.task(name=name)``, typed (Celery ships no type information)."""
    decorator: Callable[[F], F] = app.task(name=name)
    return decorator


def _on(signal: Any) -> Callable[[F], F]:
    """``signal.connect``, typed."""
    connect: Callable[[F], F] = signal.connect
    return connect


_worker: WorkerEngine | None = None


def worker_engine() -> WorkerEngine:
    """This process's :class:`WorkerEngine` (built on first use, after the fork)."""
    global _worker
    if _worker is None:
        config: Config = app.conf.omnisdk_config
        _worker = WorkerEngine(config)
    return _worker


@_on(signals.worker_process_shutdown)
def _close_worker(**_: Any) -> None:
    global _worker
    worker, _worker = _worker, None
    if worker is not None:
        worker.close()


@_on(signals.worker_ready)
def _resume(**_: Any) -> None:
    # A restart resumes what was pending: pushes a killed worker left (their leases run out),
    # changes made while no worker ran.
    send("omnisdk.rebalance")


def send(task: str, *args: Any) -> None:
    """Enqueue ``task`` with ``args`` on its queue."""
    prefix = app.conf.omnisdk_config.celery.queue
    app.send_task(task, args=args, queue=f"{prefix}.{TASK_QUEUES[task]}")


def dispatch_pushes(worker: WorkerEngine) -> list[str]:
    """Send a pusher to every account with due outbox rows that has none queued yet (see
    :mod:`omnisdk.runtime.celery.pending`); returns the accounts sent one."""
    sent = []
    for account in worker.store.accounts_with_due_pushes():
        if worker.pending is None or worker.pending.mark(account):
            send("omnisdk.push", account)
            sent.append(account)
    return sent


def _job(
    task: str,
    lock: str | None,
    account: str,
    work: Callable[[Engine], Awaitable[T]],
    *,
    always_dispatch: bool = False,
) -> tuple[str, T | None]:
    """Run ``work`` for ``account`` under the work lock ``lock``; dispatch pushes after it.

    Returns ("done", result), ("busy", None) when another worker holds the lock, or
    ("failed", None) when the work raised (logged and counted; the next run tries again).
    """
    worker = worker_engine()
    TASKS.labels(task, account).inc()
    queued = worker.queued(f"omnisdk.{task}")
    if queued is not None:
        queued.started(account)  # the beat may send the next one from now on
    held = worker.store.try_work_lock(lock, account) if lock is not None else None
    if lock is not None and held is None:
        return "busy", None
    try:
        try:
            result = worker.run(work)
        finally:
            if held is not None:
                held.release()
    except Exception as exc:
        TASK_FAILURES.labels(task, account).inc()
        logger.warning("%s %s failed: %s: %s", task, account, type(exc).__name__, exc)
        logger.debug("%s %s failed", task, account, exc_info=True)
        return "failed", None
    if always_dispatch or worker.stock_changed:
        dispatch_pushes(worker)
    return "done", result


@_task("omnisdk.poll_orders")
def poll_orders(account: str) -> str:
    """Ingest the orders ``account`` changed since its cursor."""
    outcome, _ = _job("poll_orders", "poll:orders", account, lambda e: e.poll_orders(account))
    return outcome


@_task("omnisdk.poll_customers")
def poll_customers(account: str) -> str:
    """Read the customers ``account`` changed into the one customer view."""
    outcome, _ = _job(
        "poll_customers", "poll:customers", account, lambda e: e.poll_customers(account)
    )
    return outcome


@_task("omnisdk.poll_products")
def poll_products(account: str) -> str:
    """Bind the listings ``account`` changed to the master catalog (new ones get a push)."""
    outcome, _ = _job("poll_products", "poll:products", account, lambda e: e.poll_products(account))
    return outcome


@_task("omnisdk.handle_events")
def handle_events(account: str, events: list[dict[str, Any]]) -> str:
    """Act on the events of one webhook delivery of ``account`` (JSON, as the receiver sent
    them). When that fails, the account is polled at once (webhooks are hints)."""
    parsed = [ChannelEvent.model_validate(event) for event in events]
    outcome, _ = _job("handle_events", None, account, lambda e: e.handle_events(account, parsed))
    if outcome == "failed":
        send_poll(worker_engine(), account)
    return outcome


@_task("omnisdk.drain_intake")
def drain_intake(account: str) -> str:
    """Take in the webhook deliveries buffered for ``account``, in set-based batches (one
    drain at a time per account; see :mod:`omnisdk.runtime.celery.intake`)."""
    worker = worker_engine()
    TASKS.labels("drain_intake", account).inc()
    buffer, marks = worker.intake_buffer, worker.intake_marks
    if buffer is None or marks is None:
        return "done"  # no Redis: deliveries came as omnisdk.handle_events
    marks.started(account)  # deliveries from now on need a drain of their own
    held = worker.store.try_work_lock("intake", account)
    if held is None:
        return "busy"  # the holder looks at the list again after it lets go
    changed = poll = False
    outcome = "done"
    try:
        for _ in range(MAX_BATCHES):
            deliveries = buffer.peek(account, BATCH_DELIVERIES)
            if not deliveries:
                break
            events = [ChannelEvent.model_validate(e) for batch in deliveries for e in batch]
            try:
                result = worker.run(_batch_of(account, events))
            except Exception as exc:  # webhooks are hints: the poll finds what they said
                TASK_FAILURES.labels("drain_intake", account).inc()
                logger.warning(
                    "omnisdk.drain_intake %s failed: %s: %s", account, type(exc).__name__, exc
                )
                logger.debug("omnisdk.drain_intake %s failed", account, exc_info=True)
                outcome, poll = "failed", True
            else:
                poll = poll or result.poll_needed
            changed = changed or worker.stock_changed
            buffer.drop(account, len(deliveries))
    finally:
        held.release()
    if buffer.depth(account) and marks.mark(account):
        send("omnisdk.drain_intake", account)
    if poll:
        send_poll(worker, account)
    if changed:
        dispatch_pushes(worker)
    return outcome


def _batch_of(
    account: str, events: list[ChannelEvent]
) -> Callable[[Engine], Awaitable[EventBatch]]:
    """The work of one intake batch (:meth:`Engine.handle_event_batch`)."""
    return lambda engine: engine.handle_event_batch(account, events)


def send_poll(worker: WorkerEngine, account: str) -> None:
    """Send a poll of ``account``'s orders unless one is queued already."""
    queued = worker.queued("omnisdk.poll_orders")
    if queued is None or queued.mark(account, seconds=POLL_MARK_SECONDS):
        send("omnisdk.poll_orders", account)


@_task("omnisdk.push")
def push(account: str) -> str:
    """Drain ``account``'s outbox (one worker at a time), then send the pushers it calls for."""
    pending = worker_engine().pending
    if pending is not None:
        pending.started(account)  # changes from now on need a push of their own
    outcome, stats = _job("push", "push", account, lambda e: e.push(account), always_dispatch=True)
    if isinstance(stats, PushStats):
        for part in stats.accounts:
            PUSHES.labels(part.account).inc(part.pushed)
            PUSH_FAILURES.labels(part.account).inc(part.failed + part.retrying)
            QUOTA_REBALANCES.labels(part.account).inc(part.rebalanced)
    return outcome


@_task("omnisdk.reconcile")
def reconcile(account: str) -> str:
    """Read ``account``'s listed stock back and repair drift (pushes sent after)."""
    outcome, _ = _job(
        "reconcile", "reconcile", account, lambda e: e.reconcile([account]), always_dispatch=True
    )
    return outcome


@_task("omnisdk.rebalance")
def rebalance() -> list[str]:
    """Send a pusher to every account with due outbox rows (the beat's tick): quota moves
    the pushers queued, retries that came due, changes other processes made; and a drain to
    every account with webhook deliveries buffered and none queued."""
    worker = worker_engine()
    TASKS.labels("rebalance", "").inc()
    queued = worker.queued("omnisdk.rebalance")
    if queued is not None:
        queued.started(ALL_ACCOUNTS)  # the beat may send the next one from now on
    dispatch_drains(worker)
    return dispatch_pushes(worker)


def dispatch_drains(worker: WorkerEngine) -> list[str]:
    """Send a drain to every account whose webhook buffer has deliveries and no drain queued
    (one whose message was lost, or whose mark outlived it); returns those accounts."""
    buffer, marks = worker.intake_buffer, worker.intake_marks
    if buffer is None or marks is None:
        return []
    try:
        waiting = buffer.waiting()
    except Exception as exc:  # Redis down: the receiver cannot buffer either
        logger.warning("listing the webhook buffers failed: %s", exc)
        return []
    sent = [account for account in waiting if marks.mark(account)]
    for account in sent:
        send("omnisdk.drain_intake", account)
    return sent


@_task("omnisdk.run_promotions")
def run_promotions() -> str:
    """Carry the promotion plan out now (one worker at a time): promoted prices that are due
    are written through each channel's mechanism, ended ones restored to the base price.
    Idempotent, so a redelivered or overlapping run writes nothing twice."""
    outcome, result = _job("run_promotions", "promotions", "*", lambda e: e.run_promotions())
    if result is not None:
        result.log()
    return outcome
