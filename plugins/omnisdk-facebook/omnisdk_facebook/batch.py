"""``items_batch``: sending catalog writes and following their handles to completion.

``POST /{catalog_id}/items_batch`` (``item_type=PRODUCT_ITEM``, at most
:data:`MAX_BATCH_REQUESTS` requests) answers at once with ``handles`` and a
``validation_status`` per refused item; Meta applies the rest asynchronously.
``GET /{catalog_id}/check_batch_request_status?handle=...`` reports ``status`` (``started``,
``in_progress``, ``finished``, ``error``) and, once done, ``errors`` per item (``id`` = our
retailer id) and ``ids_of_invalid_requests``. :func:`run_batch` does both and returns one
:class:`ItemOutcome` per request, in order: a write is confirmed only when its handle
finished without an error for it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from omnisdk.errors import AuthError, ChannelError, PlatformUnavailable, RateLimited
from omnisdk.http import Lane
from omnisdk_facebook.client import GraphClient

__all__ = [
    "DONE_STATUSES",
    "MAX_BATCH_REQUESTS",
    "BatchRequest",
    "ItemOutcome",
    "run_batch",
]

MAX_BATCH_REQUESTS = 5000
"""The most requests one ``items_batch`` call takes (Meta: up to 5000; body <= 28 MB)."""
DONE_STATUSES = frozenset({"finished", "error"})
"""``check_batch_request_status`` values after which nothing more changes."""
FIRST_POLL_DELAY = 0.05
"""Seconds before the first status check; each later wait doubles, up to :data:`MAX_POLL_DELAY`."""
MAX_POLL_DELAY = 5.0
"""The longest wait between two status checks."""


@dataclass(frozen=True)
class BatchRequest:
    """One request of a batch: ``method`` (``CREATE``, ``UPDATE``, ``DELETE``) and feed-named
    ``data`` whose ``id`` is the retailer id (our SKU)."""

    method: str
    data: dict[str, Any]

    @property
    def retailer_id(self) -> str:
        """The SKU the request is about."""
        return str(self.data["id"])

    def as_json(self) -> dict[str, Any]:
        """The entry of the ``requests`` array."""
        return {"method": self.method, "data": self.data}


@dataclass(frozen=True)
class ItemOutcome:
    """How one request ended: ``ok``, else Meta's ``error`` (and whether to try again)."""

    retailer_id: str
    ok: bool
    error: str | None = None
    code: str | None = None
    retryable: bool = False


def _messages(entries: Any) -> dict[str, str]:
    """``{retailer id: message}`` of ``validation_status`` or status ``errors`` entries."""
    found: dict[str, str] = {}
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        key = entry.get("retailer_id") or entry.get("id")
        if not isinstance(key, str | int) or isinstance(key, bool):
            continue
        errors = entry.get("errors")
        if isinstance(errors, list):  # validation_status: {"retailer_id", "errors": [...]}
            texts = [str(e.get("message")) for e in errors if isinstance(e, dict)]
            if texts:
                found.setdefault(str(key), "; ".join(texts))
        elif entry.get("message"):
            found.setdefault(str(key), str(entry["message"]))
    return found


async def _status(
    graph: GraphClient, catalog_id: str, handle: str, *, within: float, lane: Lane
) -> dict[str, Any]:
    """Poll the handle's status until it is done (or ``within`` s pass: PlatformUnavailable).

    A status check that fails for now is tried again: it only reads.
    """
    deadline = time.monotonic() + within
    delay = FIRST_POLL_DELAY
    while True:
        await asyncio.sleep(delay)
        delay = min(delay * 2, MAX_POLL_DELAY)
        try:
            body = await graph.get(
                catalog_id,
                "check_batch_request_status",
                {"handle": handle, "load_ids_of_invalid_requests": True},
                lane=lane,
            )
        except (PlatformUnavailable, RateLimited) as exc:
            if time.monotonic() + delay > deadline:
                raise PlatformUnavailable(
                    f"batch {handle[:12]}…: its status could not be read: {exc}"
                ) from exc
            if isinstance(exc, RateLimited) and exc.retry_after:
                delay = max(delay, min(exc.retry_after, MAX_POLL_DELAY * 6))
            continue
        data = body.get("data")
        status = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
        if str(status.get("status") or "").lower() in DONE_STATUSES:
            return status
        if time.monotonic() + delay > deadline:
            raise PlatformUnavailable(
                f"batch {handle[:12]}… not finished after {within:g} s "
                f"(status {status.get('status')!r})"
            )


async def run_batch(
    graph: GraphClient,
    catalog_id: str,
    requests: Sequence[BatchRequest],
    *,
    allow_upsert: bool,
    within: float,
    lane: Lane = Lane.DEFAULT,
) -> list[ItemOutcome]:
    """Send ``requests`` in one ``items_batch`` call and follow its handles to the end.

    Returns one outcome per request, in order. The call itself failing raises (the caller
    turns that into per-item failures); a handle whose status cannot be read in ``within``
    seconds leaves its items unconfirmed (failed, retryable): they may have landed or not.
    """
    if not requests:
        return []
    if len(requests) > MAX_BATCH_REQUESTS:
        raise ValueError(f"at most {MAX_BATCH_REQUESTS} requests per items_batch call")
    answer = await graph.post(
        catalog_id,
        "items_batch",
        {
            "item_type": "PRODUCT_ITEM",
            "allow_upsert": allow_upsert,
            "requests": [r.as_json() for r in requests],
        },
        lane=lane,
    )
    refused = _messages(answer.get("validation_status"))
    handles = [h for h in answer.get("handles") or [] if isinstance(h, str) and h]
    failed: dict[str, str] = {}
    invalid: set[str] = set()
    unconfirmed: str | None = None
    if not handles and len(refused) < len({r.retailer_id for r in requests}):
        unconfirmed = "Meta returned no batch handle"
    for handle in handles:
        try:
            status = await _status(graph, catalog_id, handle, within=within, lane=lane)
        except AuthError:
            raise
        except ChannelError as exc:
            unconfirmed = str(exc)
            continue
        failed.update(_messages(status.get("errors")))
        invalid.update(str(i) for i in status.get("ids_of_invalid_requests") or [])
        if str(status.get("status")).lower() == "error" and not failed and not invalid:
            unconfirmed = "Meta ended the batch in error without naming the items"
    outcomes = []
    for request in requests:
        sku = request.retailer_id
        if sku in refused:
            outcomes.append(ItemOutcome(sku, False, refused[sku], "invalid_request"))
        elif sku in failed or sku in invalid:
            message = failed.get(sku) or "Meta refused this item"
            outcomes.append(ItemOutcome(sku, False, message, "item_error"))
        elif unconfirmed is not None:
            outcomes.append(ItemOutcome(sku, False, unconfirmed, "batch_unconfirmed", True))
        else:
            outcomes.append(ItemOutcome(sku, True))
    return outcomes
