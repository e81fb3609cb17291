"""The webhook receiver: an ASGI app (Starlette) that every channel account's webhooks reach.

One receiver serves every configured account at ``POST /webhooks/{account}``, where
``account`` is the ``name`` of the account's ``[[channels]]`` entry::

    receiver = WebhookReceiver(engine.channels, engine.store)
    # serve receiver.app with uvicorn; consume what it accepted:
    await receiver.consume(engine.handle_events)

For each delivery the receiver

1. finds the account (unknown: **404**) and checks its channel takes webhooks (else **404**);
2. verifies and parses it with :meth:`omnisdk.channel.Channel.receive_webhook` over the
   exact body bytes (a bad signature or an unreadable body: **401**);
3. drops events whose delivery id was processed already (``Store.remember_delivery``
   recorded it) or is waiting in the queue — a redelivery is answered **200** and changes
   nothing;
4. enqueues the new events on the account's queue and answers **200** at once (platforms
   want a quick answer and time out slow receivers). :meth:`WebhookReceiver.consume` hands
   queued events to the engine, one worker per account — in order within an account, and
   a slow account (one whose webhooks are bare hints that need a fetch) never holds up the
   others. The engine's ``handle_events`` remembers each delivery id *in the transaction
   that processes it* (``remember_delivery(session=...)``): a delivery that failed is not
   remembered, so the platform's retry is processed rather than mistaken for a redelivery.

When ``queue_size`` deliveries wait already the receiver answers **503** with
``Retry-After``. Webhooks are hints:
an event that fails later is reported to ``on_error`` (the runtime then polls that account,
which is the truth) rather than lost silently.

Bodies above ``max_body`` bytes are refused with **413**. ``GET /healthz`` answers 200 for
load balancers and readiness checks. Signatures, secrets and bodies never reach logs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from omnisdk.channel import Capability, Channel, WebhookRequest
from omnisdk.errors import WebhookVerificationError
from omnisdk.models import ChannelEvent

if TYPE_CHECKING:
    from omnisdk.store import Store

__all__ = [
    "DEFAULT_MAX_BODY",
    "DEFAULT_QUEUE_SIZE",
    "EventHandler",
    "WebhookBatch",
    "WebhookReceiver",
]

logger = logging.getLogger("omnisdk.webhooks")

DEFAULT_MAX_BODY = 5 * 1024 * 1024
"""The largest delivery accepted, in bytes (platforms send far less)."""
DEFAULT_QUEUE_SIZE = 10_000
"""How many accepted deliveries may wait for the engine before the receiver answers 503."""
RETRY_AFTER_SECONDS = 5

EventHandler = Callable[[str, list[ChannelEvent]], Awaitable[None]]
"""What consumes accepted events: ``handle(account, events)`` (e.g. ``Engine.handle_events``)."""


@dataclass(frozen=True, slots=True)
class WebhookBatch:
    """The new events of one accepted delivery, waiting to be handed to the engine."""

    account: str
    events: list[ChannelEvent] = field(repr=False)
    delivery_ids: tuple[str, ...]


def _answer(code: int, **body: Any) -> JSONResponse:
    return JSONResponse(body, status_code=code)


class WebhookReceiver:
    """Receives every account's webhooks at ``POST /webhooks/{account}`` (see the module doc).

    ``channels`` maps account names to open channels; it is read on every request, so the
    engine's live ``channels`` dict may be passed. ``store`` is where processed delivery ids
    are looked up.
    ``on_accepted`` is called (in the event loop) after each enqueued delivery, e.g. to wake
    a consumer or count deliveries.
    ``public_url`` is the base URL platforms deliver to (``https://hooks.example.vn``); each
    delivery's :attr:`~omnisdk.channel.WebhookRequest.callback_url` is
    ``{public_url}/webhooks/{account}``, which channels that sign the URL verify against.
    It comes from configuration only, never from the request's ``Host`` header (None: no
    callback URL is given and such channels need their own setting).
    """

    def __init__(
        self,
        channels: Mapping[str, Channel],
        store: Store,
        *,
        max_body: int = DEFAULT_MAX_BODY,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        on_accepted: Callable[[WebhookBatch], None] | None = None,
        public_url: str | None = None,
    ) -> None:
        self.channels = channels
        self.public_url = public_url.rstrip("/") if public_url else None
        self.store = store
        self.max_body = max_body
        self.on_accepted = on_accepted
        self.queue_size = queue_size
        self._queues: dict[str, asyncio.Queue[WebhookBatch]] = {}
        self._arrived = asyncio.Event()
        self._inflight: set[tuple[str, str]] = set()
        self.received = 0
        """Deliveries answered so far (any status), for status displays."""
        self.duplicates = 0
        """Redeliveries recognised and ignored."""
        self.rejected = 0
        """Deliveries refused for a bad signature or body."""
        self.app = Starlette(
            routes=[
                Route("/webhooks/{account}", self._deliver, methods=["POST"]),
                Route("/healthz", self._health, methods=["GET"]),
            ]
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """The receiver is itself an ASGI app (the same as :attr:`app`)."""
        await self.app(scope, receive, send)

    # -- the endpoint ----------------------------------------------------------------------

    async def _health(self, request: Request) -> JSONResponse:
        return _answer(200, status="ok", queued=self.pending())

    async def _deliver(self, request: Request) -> JSONResponse:
        self.received += 1
        account = request.path_params["account"]
        channel = self.channels.get(account)
        if channel is None:
            logger.warning("webhook for unknown account %r refused", account)
            return _answer(404, error="unknown_account", message=f"no account {account!r}")
        if Capability.WEBHOOKS not in channel.capabilities:
            return _answer(
                404,
                error="webhooks_not_supported",
                message=f"account {account!r} ({channel.name}) does not receive webhooks",
            )
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            return _answer(413, error="too_large", message=f"at most {self.max_body} bytes")
        body = await request.body()
        if len(body) > self.max_body:
            return _answer(413, error="too_large", message=f"at most {self.max_body} bytes")
        delivery = WebhookRequest(
            body=body,
            headers=dict(request.headers),
            query=dict(request.query_params),
            url=str(request.url),
            callback_url=self.callback_url(account),
        )
        try:
            events = channel.receive_webhook(delivery)
        except WebhookVerificationError as exc:
            self.rejected += 1
            # The plugin's message names what failed, never the secret or the signature.
            logger.warning("webhook for %s refused: %s", account, exc)
            return _answer(401, error="invalid_webhook", message="verification failed")
        if not events:
            return _answer(200, status="ignored", events=0)
        if self.pending() >= self.queue_size:
            logger.warning("webhook queue full (%d); asking %s to retry", self.pending(), account)
            return JSONResponse(
                {"error": "busy", "message": "try again later"},
                status_code=503,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        fresh = await self._fresh(account, events)
        if not fresh:
            self.duplicates += 1
            shown = ", ".join(sorted({e.delivery_id for e in events if e.delivery_id}))
            logger.info("webhook %s for %s already received; ignored", shown, account)
            return _answer(200, status="duplicate", events=0)
        ids = tuple(dict.fromkeys(e.delivery_id for e in fresh if e.delivery_id))
        batch = WebhookBatch(account=account, events=fresh, delivery_ids=ids)
        self.enqueue(batch)
        if self.on_accepted is not None:
            self.on_accepted(batch)
        return _answer(200, status="accepted", events=len(fresh))

    def callback_url(self, account: str) -> str | None:
        """The configured URL of ``account``'s deliveries (None without ``public_url``)."""
        if self.public_url is None:
            return None
        return f"{self.public_url}/webhooks/{account}"

    async def _fresh(self, account: str, events: list[ChannelEvent]) -> list[ChannelEvent]:
        """The events whose delivery is neither queued nor processed already.

        Events without a delivery id are always fresh: ingestion is idempotent, so such a
        redelivery changes nothing anyway.
        """
        ids = {event.delivery_id for event in events if event.delivery_id}
        queued = {delivery_id for delivery_id in ids if (account, delivery_id) in self._inflight}
        done = await asyncio.to_thread(self.store.processed_deliveries, account, ids - queued)
        old = queued | done
        return [event for event in events if not event.delivery_id or event.delivery_id not in old]

    def _release(self, batch: WebhookBatch) -> None:
        """The batch left the queue: its ids are the store's to remember (or not) now."""
        for delivery_id in batch.delivery_ids:
            self._inflight.discard((batch.account, delivery_id))

    # -- the queues --------------------------------------------------------------------------

    def _queue(self, account: str) -> asyncio.Queue[WebhookBatch]:
        queue = self._queues.get(account)
        if queue is None:
            queue = self._queues[account] = asyncio.Queue()
        return queue

    def enqueue(self, batch: WebhookBatch) -> None:
        """Queue ``batch`` for its account's worker (its ids count as received from now)."""
        self._inflight.update((batch.account, delivery_id) for delivery_id in batch.delivery_ids)
        self._queue(batch.account).put_nowait(batch)
        self._arrived.set()

    def next_batch_nowait(self) -> WebhookBatch | None:
        """Take the oldest queued batch of the first account that has one (None: empty).

        The caller handles it; its ids are released at once.
        """
        for queue in self._queues.values():
            if not queue.empty():
                batch = queue.get_nowait()
                queue.task_done()
                self._release(batch)
                return batch
        return None

    def pending(self) -> int:
        """How many accepted deliveries wait for the engine, over every account."""
        return sum(queue.qsize() for queue in self._queues.values())

    async def join(self) -> None:
        """Wait until every queued delivery has been handled (by :meth:`consume`)."""
        while True:
            queues = list(self._queues.values())
            for queue in queues:
                await queue.join()
            if len(self._queues) == len(queues) and not self.pending():
                return

    # -- the consumers -----------------------------------------------------------------------

    async def consume(
        self,
        handler: EventHandler,
        *,
        on_error: Callable[[WebhookBatch, Exception], Awaitable[None] | None] | None = None,
    ) -> None:
        """Hand every accepted delivery to ``handler``, forever (cancel the task to stop).

        One worker per account, started when the account's first delivery arrives: batches
        of one account are handled in order, accounts side by side. A failing batch is
        logged and reported to ``on_error`` (the runtime polls the account then); the worker
        goes on with the next one.
        """
        workers: dict[str, asyncio.Task[None]] = {}
        try:
            while True:
                for account in list(self._queues):
                    if account not in workers:
                        workers[account] = asyncio.create_task(
                            self._work(account, handler, on_error),
                            name=f"omnisdk:webhooks:{account}",
                        )
                self._arrived.clear()
                if all(account in workers for account in self._queues):
                    await self._arrived.wait()
        finally:
            for worker in workers.values():
                worker.cancel()
            await asyncio.gather(*workers.values(), return_exceptions=True)

    async def _work(
        self,
        account: str,
        handler: EventHandler,
        on_error: Callable[[WebhookBatch, Exception], Awaitable[None] | None] | None,
    ) -> None:
        queue = self._queue(account)
        while True:
            batch = await queue.get()
            try:
                await handler(batch.account, batch.events)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning(
                    "webhook events for %s could not be handled (%s: %s); polling will catch up",
                    batch.account,
                    type(exc).__name__,
                    exc,
                )
                if on_error is not None:
                    outcome = on_error(batch, exc)
                    if outcome is not None:
                        await outcome
            finally:
                self._release(batch)
                queue.task_done()

    async def drain(self, handler: EventHandler) -> int:
        """Hand every queued delivery to ``handler`` now, in this task; returns how many.

        For embedding without :meth:`consume` (and for tests). Failures are logged and
        skipped (the account's poller finds what they said on the next run).
        """
        handled = 0
        while (batch := self.next_batch_nowait()) is not None:
            try:
                await handler(batch.account, batch.events)
                handled += 1
            except Exception as exc:
                logger.warning(
                    "webhook events for %s could not be handled (%s: %s)",
                    batch.account,
                    type(exc).__name__,
                    exc,
                )
        return handled
