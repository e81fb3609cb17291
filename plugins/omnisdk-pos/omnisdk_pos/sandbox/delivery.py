"""How KiotViet delivers webhooks: 5 s to answer, retries with a rising ``Attempt``, and a
URL that answers 400, 401, 403, 404 or 405 is not retried (and is switched off).

:class:`KiotVietDispatcher` is the common :class:`~omnisdk.testing.webhooks.WebhookDispatcher`
with KiotViet's retry rule: a retry after a 5xx, a time-out or a lost connection re-sends the
envelope with ``"Attempt": n`` and signs that new body again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx

from omnisdk.testing.webhooks import WebhookDelivery, WebhookDispatcher

__all__ = ["DISABLING_STATUSES", "KiotVietDispatcher", "with_attempt"]

DISABLING_STATUSES = frozenset({400, 401, 403, 404, 405})
"""Answers after which KiotViet stops sending to a URL."""


def with_attempt(body: bytes, attempt: int) -> bytes:
    """The envelope ``body`` with its ``"Attempt"`` set to ``attempt`` (bytes otherwise kept)."""
    marker = b'"Attempt":'
    start = body.find(marker)
    if start < 0:
        return body
    end = start + len(marker)
    stop = end
    while stop < len(body) and body[stop : stop + 1].isdigit():
        stop += 1
    return body[:end] + str(attempt).encode() + body[stop:]


class KiotVietDispatcher(WebhookDispatcher):
    """Delivers like KiotViet: ``resign(topic, body)`` gives the headers of a re-sent body."""

    def __init__(
        self,
        *,
        record: Callable[[dict[str, Any]], None],
        transport: Callable[[], httpx.BaseTransport | None],
        resign: Callable[[str, bytes], dict[str, str]],
    ) -> None:
        super().__init__(record=record, transport=transport, timeout=5.0)
        self._resign = resign

    def _deliver(self, delivery: WebhookDelivery, generation: int) -> None:
        current = delivery
        for attempt in range(1, self.max_attempts + 1):
            with self._cond:
                if self._closed or generation != self._generation:
                    return
            if attempt > 1:
                body = with_attempt(delivery.body, attempt)
                current = replace(
                    delivery,
                    body=body,
                    headers={**delivery.headers, **self._resign(delivery.topic, body)},
                )
            status: int | None = None
            error: str | None = None
            try:
                response = self._http().post(
                    current.url, content=current.body, headers=current.headers
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
            if error is None or status in DISABLING_STATUSES:
                return
            with self._cond:
                if self._cond.wait_for(lambda: self._closed, self.retry_backoff * attempt):
                    return
