"""Bulk operations, client side: run a bulk query, poll it, stream its JSONL result.

The result is requested grouped (``groupObjects: true``): every child line (a node of a
nested connection, carrying ``__parentId``) comes right after its parent, so a root object is
complete when the next root line starts and only one is held in memory at a time.

Beyond the plugin shape: bulk export is a read path of its own (start, poll, stream), used
by two fetches.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from omnisdk.errors import BadRequest, PlatformUnavailable
from omnisdk.http import Lane
from omnisdk_shopify import queries
from omnisdk_shopify.client import ShopifyClient

__all__ = ["FINISHED_BADLY", "IN_PROGRESS", "bulk_nodes", "run_bulk_query"]

FINISHED_BADLY = frozenset({"FAILED", "CANCELED", "CANCELING", "EXPIRED"})
IN_PROGRESS = frozenset({"CREATED", "RUNNING"})
MAX_POLL_INTERVAL = 30.0
MAX_STARTS = 5
"""How many times a start is tried when Shopify surely did not take the earlier one."""

logger = logging.getLogger("omnisdk_shopify.bulk")


async def run_bulk_query(
    client: ShopifyClient,
    document: str,
    *,
    poll_interval: float,
    give_up_after: float,
    sleep: Callable[[float], Awaitable[None]],
) -> str | None:
    """Start a bulk query (waiting out one already running) and poll it to its end.

    ``bulkOperationRunQuery`` is never repeated blind: it is sent without HTTP retries, and
    after a time-out or a lost connection ``currentBulkOperation`` tells whether it started
    the export; if so that operation is adopted. An operation of the same query already in
    progress is adopted too. Returns the result file's URL, or None when nothing matched.
    """
    deadline = time.monotonic() + give_up_after
    operation_id = await _start(client, document, poll_interval, deadline, sleep)
    return await _poll(client, operation_id, poll_interval, give_up_after, deadline, sleep)


async def _current(client: ShopifyClient) -> dict[str, Any] | None:
    data = await client.graphql(queries.CURRENT_BULK, lane=Lane.BACKFILL)
    current: dict[str, Any] | None = data.get("currentBulkOperation")
    return current


def _ours(current: Mapping[str, Any] | None, document: str) -> bool:
    return current is not None and current.get("query") == document


async def _start(
    client: ShopifyClient,
    document: str,
    poll_interval: float,
    deadline: float,
    sleep: Callable[[float], Awaitable[None]],
) -> str:
    """The id of the operation running ``document``: started now, or adopted."""
    http = client.http
    before = await _current(client)
    if _ours(before, document) and before is not None and before["status"] in IN_PROGRESS:
        logger.info("%s/%s: adopting bulk operation %s", http.channel, http.account, before["id"])
        return str(before["id"])
    known = before["id"] if before is not None else None
    failures = 0
    while True:
        try:
            data = await client.graphql(
                queries.BULK_RUN, {"query": document}, lane=Lane.BACKFILL, retry=False
            )
        except PlatformUnavailable as exc:
            # The mutation may have started the export before the answer was lost.
            current = await _current(client)
            if _ours(current, document) and current is not None and current["id"] != known:
                logger.info(
                    "%s/%s: bulkOperationRunQuery got no answer (%s) but started %s: adopted",
                    http.channel,
                    http.account,
                    type(exc).__name__,
                    current["id"],
                )
                return str(current["id"])
            failures += 1
            if failures >= MAX_STARTS or time.monotonic() >= deadline:
                raise
            await sleep(min(poll_interval * 2**failures, MAX_POLL_INTERVAL))
            continue
        answer = data["bulkOperationRunQuery"]
        errors = answer.get("userErrors") or []
        if not errors:
            return str(answer["bulkOperation"]["id"])
        busy = any(
            e.get("code") == "OPERATION_IN_PROGRESS" or "in progress" in str(e.get("message"))
            for e in errors
        )
        if busy:
            current = await _current(client)
            if (
                _ours(current, document)
                and current is not None
                and current["status"] in IN_PROGRESS
            ):
                return str(current["id"])  # an earlier start of ours, or the same export
        if not busy or time.monotonic() >= deadline:
            raise BadRequest(
                "; ".join(str(e.get("message")) for e in errors),
                code=str(errors[0].get("code") or "BULK_QUERY_INVALID"),
                channel=http.channel,
                account=http.account,
            )
        await sleep(poll_interval)


async def _poll(
    client: ShopifyClient,
    operation_id: str,
    poll_interval: float,
    give_up_after: float,
    deadline: float,
    sleep: Callable[[float], Awaitable[None]],
) -> str | None:
    http = client.http
    interval = poll_interval
    while True:
        data = await client.graphql(queries.BULK_POLL, {"id": operation_id}, lane=Lane.BACKFILL)
        node = data["node"]
        status = node["status"]
        if status == "COMPLETED":
            return str(node["url"]) if node.get("url") else None
        if status in FINISHED_BADLY:
            raise PlatformUnavailable(
                f"bulk operation {operation_id} ended {status} ({node.get('errorCode')})",
                channel=http.channel,
                account=http.account,
            )
        if time.monotonic() >= deadline:
            raise PlatformUnavailable(
                f"bulk operation {operation_id} still {status} after {give_up_after:.0f} s",
                channel=http.channel,
                account=http.account,
            )
        await sleep(interval)
        interval = min(interval * 2, MAX_POLL_INTERVAL)


async def bulk_nodes(
    client: ShopifyClient, url: str, children: Mapping[str, str]
) -> AsyncIterator[dict[str, Any]]:
    """Each root object of a grouped JSONL result, with its children attached.

    ``children`` maps a child's GraphQL type (``"ProductVariant"``) to the connection field
    it belongs in (``"variants"``); the field becomes ``{"nodes": [...]}`` as in a paged
    answer, so the same mapping reads both.
    """
    current: dict[str, Any] | None = None
    fields = tuple(children.values())
    async for batch in client.download_batches(url):
        for line in batch:
            parent = line.pop("__parentId", None)
            if parent is None:
                if current is not None:
                    yield current
                current = line
                for name in fields:
                    current[name] = {"nodes": []}
                continue
            kind = str(line.get("id", "")).split("/")[3:4]
            field = children.get(kind[0] if kind else "")
            if current is None or current.get("id") != parent or field is None:
                raise BadRequest(
                    f"bulk result line {line.get('id')} is not grouped under its parent "
                    f"{parent}",
                    channel=client.http.channel,
                    account=client.http.account,
                )
            current[field]["nodes"].append(line)
    if current is not None:
        yield current
