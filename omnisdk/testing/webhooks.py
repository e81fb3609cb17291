"""Webhook delivery for sandboxes: signed POSTs to a configured URL, with realistic misbehaviour.

A :class:`WebhookDispatcher` owns one background thread that POSTs queued deliveries with a
synchronous :class:`httpx.Client`, so delivery works the same whether the sandbox is served
by uvicorn in another thread or called in-process through :class:`httpx.ASGITransport` (and
the receiver may live in the caller's event loop without deadlocking it).

Knobs (from :class:`~omnisdk.testing.faults.FaultSettings`): a delay before each delivery,
duplicates (the same delivery, same id, sent twice) and reordering (each odd delivery is
held back until the next one has gone). A delivery that fails (connection error or a non-2xx
answer) is retried a few times with a short back-off; every attempt is recorded.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

__all__ = ["WebhookDelivery", "WebhookDispatcher"]

logger = logging.getLogger("omnisdk.testing.webhooks")


@dataclass(frozen=True)
class WebhookDelivery:
    """One webhook delivery: the raw signed body and the platform's headers."""

    topic: str
    body: bytes
    headers: dict[str, str]
    delivery_id: str
    url: str
    duplicate: bool = False
    """True for the second copy of a duplicated delivery."""
    due: float = field(default=0.0, compare=False)
    """``time.monotonic()`` before which the delivery is not sent."""


class WebhookDispatcher:
    """Delivers webhooks from a background thread, in order unless told otherwise.

    ``record`` receives one dict per attempt: ``{"topic", "status", "attempt", "delivery_id",
    "url", "duplicate", "error"}`` (``status`` is None when the connection failed).
    ``transport`` returns the httpx transport to deliver through (None: the network).
    """

    def __init__(
        self,
        *,
        record: Callable[[dict[str, Any]], None],
        transport: Callable[[], httpx.BaseTransport | None] = lambda: None,
        max_attempts: int = 3,
        retry_backoff: float = 0.05,
        timeout: float = 5.0,
        reorder_hold: float = 1.0,
    ) -> None:
        self._record = record
        self._transport = transport
        self.max_attempts = max_attempts
        self.retry_backoff = retry_backoff
        self.timeout = timeout
        self.reorder_hold = reorder_hold
        self._cond = threading.Condition()
        self._queue: collections.deque[WebhookDelivery] = collections.deque()
        self._held: WebhookDelivery | None = None
        self._held_until = 0.0
        self._busy = False
        self._closed = False
        self._generation = 0
        self._thread: threading.Thread | None = None
        self._client: httpx.Client | None = None
        self._client_transport: httpx.BaseTransport | None = None

    # -- submitting -----------------------------------------------------------------------

    def submit(
        self, delivery: WebhookDelivery, *, delay: float = 0.0, reorder: bool = False
    ) -> None:
        """Queue ``delivery`` to go after ``delay`` seconds; ``reorder`` swaps pairs."""
        delivery = replace(delivery, due=time.monotonic() + delay)
        with self._cond:
            if self._closed:
                raise RuntimeError("the webhook dispatcher is closed")
            if reorder and self._held is None:
                self._held = delivery
                self._held_until = time.monotonic() + delay + self.reorder_hold
            elif reorder and self._held is not None:
                held, self._held = self._held, None
                self._queue.append(delivery)
                self._queue.append(replace(held, due=delivery.due))
            else:
                self._release_held_locked()
                self._queue.append(delivery)
            self._ensure_thread_locked()
            self._cond.notify_all()

    def pending(self) -> int:
        """Deliveries queued, held back or being sent now."""
        with self._cond:
            return len(self._queue) + (self._held is not None) + self._busy

    def wait_idle(self, timeout: float) -> bool:
        """Release held deliveries and wait until every queued one is done; False on time-out."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._release_held_locked()
            self._cond.notify_all()
            while self._queue or self._busy or self._held is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def cancel(self) -> None:
        """Forget every delivery not yet sent (the sandbox was reset)."""
        with self._cond:
            self._queue.clear()
            self._held = None
            self._generation += 1
            self._cond.notify_all()

    def close(self) -> None:
        """Stop the thread; deliveries not yet sent are dropped."""
        with self._cond:
            self._closed = True
            self._queue.clear()
            self._held = None
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)

    # -- the worker -----------------------------------------------------------------------

    def _release_held_locked(self) -> None:
        if self._held is not None:
            self._queue.append(self._held)
            self._held = None

    def _ensure_thread_locked(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
            self._thread.start()

    def _next_locked(self) -> WebhookDelivery | None:
        """Wait for the next due delivery; None once closed."""
        while not self._closed:
            now = time.monotonic()
            if self._held is not None and now >= self._held_until:
                self._release_held_locked()
            waits = [self._held_until - now] if self._held is not None else []
            if self._queue:
                head = self._queue[0]
                if head.due <= now:
                    return self._queue.popleft()
                waits.append(head.due - now)
            self._cond.wait(min(waits) if waits else None)
        return None

    def _run(self) -> None:
        try:
            while True:
                with self._cond:
                    delivery = self._next_locked()
                    if delivery is None:
                        return
                    self._busy = True
                    generation = self._generation
                try:
                    self._deliver(delivery, generation)
                except Exception:  # the worker must outlive any one bad delivery
                    logger.exception("webhook delivery %s failed", delivery.delivery_id)
                finally:
                    with self._cond:
                        self._busy = False
                        self._cond.notify_all()
        finally:
            if self._client is not None:
                self._client.close()
                self._client = None

    def _http(self) -> httpx.Client:
        transport = self._transport()
        if self._client is None or transport is not self._client_transport:
            if self._client is not None:
                self._client.close()
            self._client = httpx.Client(transport=transport, timeout=self.timeout)
            self._client_transport = transport
        return self._client

    def _deliver(self, delivery: WebhookDelivery, generation: int) -> None:
        for attempt in range(1, self.max_attempts + 1):
            with self._cond:
                if self._closed or generation != self._generation:
                    return
            status: int | None = None
            error: str | None = None
            try:
                response = self._http().post(
                    delivery.url, content=delivery.body, headers=delivery.headers
                )
                status = response.status_code
                if not response.is_success:
                    error = f"HTTP {status}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            self._record(
                {
                    "topic": delivery.topic,
                    "status": status,
                    "attempt": attempt,
                    "delivery_id": delivery.delivery_id,
                    "url": delivery.url,
                    "duplicate": delivery.duplicate,
                    "error": error,
                }
            )
            if error is None:
                return
            logger.debug("webhook %s attempt %d failed: %s", delivery.delivery_id, attempt, error)
            with self._cond:
                if self._cond.wait_for(lambda: self._closed, self.retry_backoff * attempt):
                    return
