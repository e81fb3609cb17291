"""``omnisdk webhooks``: the webhook receiver of the scale-out runtime.

The same :class:`~omnisdk.webhooks.WebhookReceiver` as ``omnisdk run`` (verification,
redelivery checks against the store, size limits), on uvicorn; each accepted delivery is
appended to its account's intake buffer, and one ``omnisdk.drain_intake`` task per account is
queued to take them in together (:mod:`omnisdk.runtime.celery.intake`; without Redis, each
delivery is an ``omnisdk.handle_events`` task), so any worker may handle them. Run as many
receivers as the traffic needs behind a load balancer: they share nothing but the store, the
broker and the Redis.

This is the deployment's web process: when ``[engine] status_page`` names an address, the
read-only status page (:class:`omnisdk.statuspage.StatusPage`, the same as ``omnisdk run``
serves) is served there too, from the shared store.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from omnisdk._listen import bind_socket
from omnisdk.models import ChannelEvent
from omnisdk.runtime.celery.intake import IntakeSender
from omnisdk.runtime.served import ServedApp, make_server, status_page_address
from omnisdk.sync.engine import Engine
from omnisdk.webhooks import WebhookBatch, WebhookReceiver

if TYPE_CHECKING:
    from omnisdk.statuspage import StatusPage

__all__ = ["BrokerReceiver"]

logger = logging.getLogger("omnisdk.runtime.celery")

Enqueue = Callable[[str, list[dict[str, Any]]], None]
"""Puts one delivery's events (as JSON data) of an account on the broker (a blocking call)."""


class BrokerReceiver:
    """Serves ``POST /webhooks/{account}`` for an open ``engine``; ``enqueue`` sends each
    accepted delivery to the workers (default:
    :class:`~omnisdk.runtime.celery.intake.IntakeSender`).
    ``status_page``: ``HOST:PORT`` to serve the status page at, True (the default) for
    ``[engine] status_page`` (off unless set), False for no page."""

    def __init__(
        self,
        engine: Engine,
        *,
        host: str,
        port: int,
        enqueue: Enqueue | None = None,
        status_page: str | bool | None = True,
    ) -> None:
        self.engine = engine
        self.status_page_address = status_page_address(engine, status_page)
        self.host = host
        self.port = port
        self._sender: IntakeSender | None = None
        if enqueue is None:
            self._sender = enqueue = IntakeSender(engine.config, _send_task)
        self._enqueue = enqueue
        public = engine.config.engine.webhook_public_url
        self.receiver = WebhookReceiver(engine.channels, engine.store, public_url=public)
        self.enqueued = 0
        self.failed = 0
        self.status_page: ServedApp | None = None
        """The status page's server while :meth:`serve` runs (None when the page is off)."""

    @property
    def status_page_url(self) -> str | None:
        """``http://HOST:PORT`` of the status page while it is served."""
        return self.status_page.base_url if self.status_page is not None else None

    async def serve(self, stop: asyncio.Event) -> None:
        """Receive and enqueue until ``stop`` is set; deliveries accepted are enqueued first."""
        sock = bind_socket(self.host, self.port)
        server = make_server(self.receiver.app)
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        consumer = asyncio.create_task(self.receiver.consume(self._send, on_error=self._failed))
        page: StatusPage | None = None
        try:
            page = await self._start_status_page()
            host, port = sock.getsockname()[:2]
            logger.info("webhook receiver on http://%s:%s/webhooks/<account>", host, port)
            waiter = asyncio.create_task(stop.wait())
            await asyncio.wait({serving, waiter}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
        finally:
            server.should_exit = True
            await asyncio.gather(serving, return_exceptions=True)
            try:
                await asyncio.wait_for(self.receiver.join(), 5)
            except TimeoutError:
                logger.warning(
                    "%d deliveries not enqueued; polls find them", self.receiver.pending()
                )
            consumer.cancel()
            await asyncio.gather(consumer, return_exceptions=True)
            if self._sender is not None:
                self._sender.close()
            sock.close()
            if page is not None:
                page.close()
            if self.status_page is not None:
                await self.status_page.stop(grace=1.0)
                self.status_page = None

    async def _start_status_page(self) -> StatusPage | None:
        address = self.status_page_address
        if address is None:
            return None
        from omnisdk.statuspage import StatusPage

        page = StatusPage(self.engine)
        self.status_page = ServedApp("status page", page.app)
        await self.status_page.start(*address)
        logger.info("status page at %s", self.status_page.base_url)
        return page

    async def _send(self, account: str, events: list[ChannelEvent]) -> None:
        payload = [event.model_dump(mode="json") for event in events]
        await asyncio.to_thread(self._enqueue, account, payload)
        self.enqueued += 1

    def _failed(self, batch: WebhookBatch, exc: Exception) -> None:
        # The broker refused it: the account's next poll finds what the delivery said.
        self.failed += 1
        logger.warning("enqueueing a delivery of %s failed: %s", batch.account, exc)


def _send_task(task: str, *args: Any) -> None:
    from omnisdk.runtime.celery.tasks import send

    send(task, *args)
