"""A webhook receiver for tests: an ASGI app that records every delivery it is sent.

Serve it with :class:`~omnisdk.testing.server.LoopbackServer` and point a sandbox at it::

    recorder = WebhookRecorder()
    with LoopbackServer(recorder.app) as server:
        await control.set_webhook_url(server.url("/hooks"))
        ...
        delivery = recorder.wait_for(1)[0]
        events = channel.receive_webhook(delivery.as_request(server.url("/hooks")))
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from omnisdk.channel import WebhookRequest

__all__ = ["ReceivedWebhook", "WebhookRecorder"]


@dataclass(frozen=True)
class ReceivedWebhook:
    """One delivery as it arrived: raw body bytes, headers (lower-cased), path and query."""

    path: str
    headers: dict[str, str]
    body: bytes
    query: dict[str, str]
    url: str

    def as_request(self, callback_url: str | None = None) -> WebhookRequest:
        """The delivery as the :class:`~omnisdk.channel.WebhookRequest` a channel verifies.

        ``callback_url`` is the URL the test configured the platform to deliver to (what a
        receiver takes from its configuration); channels that sign the URL verify against it.
        """
        return WebhookRequest(
            body=self.body,
            headers=self.headers,
            query=self.query,
            url=self.url,
            callback_url=callback_url,
        )

    def header(self, name: str) -> str | None:
        """A header by case-insensitive name."""
        return self.headers.get(name.lower())


class WebhookRecorder:
    """Records POSTed deliveries on any path; can be told to fail the next ones.

    Thread-safe: the server thread records while the test thread waits.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._received: list[ReceivedWebhook] = []
        self._failures: list[int] = []
        self.app = Starlette(routes=[Route("/{path:path}", self._receive, methods=["POST"])])
        """The ASGI app to serve."""

    @property
    def deliveries(self) -> list[ReceivedWebhook]:
        """Every delivery received so far, in arrival order (failed ones included)."""
        with self._cond:
            return list(self._received)

    def fail_next(self, count: int, status: int = 500) -> None:
        """Answer the next ``count`` deliveries with ``status`` (to exercise retries)."""
        with self._cond:
            self._failures.extend([status] * count)

    def clear(self) -> None:
        """Forget the deliveries received so far."""
        with self._cond:
            self._received.clear()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedWebhook]:
        """Wait until ``count`` deliveries have arrived; :class:`TimeoutError` otherwise."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"{len(self._received)} of {count} webhook deliveries "
                        f"arrived in {timeout} s"
                    )
                self._cond.wait(remaining)
            return list(self._received)

    async def _receive(self, request: Request) -> Response:
        body = await request.body()
        delivery = ReceivedWebhook(
            path=request.url.path,
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            query=dict(request.query_params),
            url=str(request.url),
        )
        with self._cond:
            self._received.append(delivery)
            status = self._failures.pop(0) if self._failures else 200
            self._cond.notify_all()
        return Response(status_code=status)
