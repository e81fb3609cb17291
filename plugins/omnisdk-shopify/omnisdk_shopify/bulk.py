"""Bulk operations, client side: run a bulk query, poll it, stream its JSONL result.

The result is requested grouped (``groupObjects: true``): every child line (a node of a
nested connection, carrying ``__parentId``) comes right after its parent, so a root object is
complete when the next root line starts and only one is held in memory at a time.

Beyond the plugin shape: bulk export is a read path of its own (start, poll, stream), used
by two fetches.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from omnisdk.errors import BadRequest, PlatformUnavailable
from omnisdk.http import Lane
from omnisdk_shopify import queries
from omnisdk_shopify.client import ShopifyClient

__all__ = ["FINISHED_BADLY", "bulk_nodes", "run_bulk_query"]

FINISHED_BADLY = frozenset({"FAILED", "CANCELED", "CANCELING", "EXPIRED"})
MAX_POLL_INTERVAL = 30.0


async def run_bulk_query(
    client: ShopifyClient,
    document: str,
    *,
    poll_interval: float,
    give_up_after: float,
    sleep: Callable[[float], Awaitable[None]],
) -> str | None:
    """Start a bulk query (waiting out one already running) and poll it to its end.

    Returns the result file's URL, or None when nothing matched.
    """
    http = client.http
    deadline = time.monotonic() + give_up_after
    while True:
        data = await client.graphql(queries.BULK_RUN, {"query": document}, lane=Lane.BACKFILL)
        answer = data["bulkOperationRunQuery"]
        errors = answer.get("userErrors") or []
        if not errors:
            break
        busy = any(
            e.get("code") == "OPERATION_IN_PROGRESS" or "in progress" in str(e.get("message"))
            for e in errors
        )
        if not busy or time.monotonic() >= deadline:
            raise BadRequest(
                "; ".join(str(e.get("message")) for e in errors),
                code=str(errors[0].get("code") or "BULK_QUERY_INVALID"),
                channel=http.channel,
                account=http.account,
            )
        await sleep(poll_interval)
    operation_id = answer["bulkOperation"]["id"]
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
    async for line in client.download_lines(url):
        parent = line.pop("__parentId", None)
        if parent is None:
            if current is not None:
                yield current
            current = {**line, **{field: {"nodes": []} for field in children.values()}}
            continue
        kind = str(line.get("id", "")).split("/")[3:4]
        field = children.get(kind[0] if kind else "")
        if current is None or current.get("id") != parent or field is None:
            raise BadRequest(
                f"bulk result line {line.get('id')} is not grouped under its parent {parent}",
                channel=client.http.channel,
                account=client.http.account,
            )
        current[field]["nodes"].append(line)
    if current is not None:
        yield current
