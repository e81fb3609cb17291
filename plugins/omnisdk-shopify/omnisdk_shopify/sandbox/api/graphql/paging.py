"""Relay connections: ``first/after/last/before`` over a sorted list, with keyset cursors.

A cursor encodes the sort key of the item it points at (not its offset), so a page boundary
stays put when items before it change, as Shopify's cursors do.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from graphql import GraphQLError

__all__ = ["MAX_PAGE_SIZE", "SortKey", "connection", "decode_cursor", "encode_cursor"]

T = TypeVar("T")
SortKey = tuple[Any, ...]
"""A comparable tuple; its last element is the object's numeric id (the tie-breaker)."""

MAX_PAGE_SIZE = 250


def encode_cursor(key: SortKey) -> str:
    """An opaque cursor for ``key``."""
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in key]
    raw = json.dumps(plain, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    """The sort key inside ``cursor``; a GraphQL error when it is not one of ours."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, TypeError):
        raise GraphQLError(f"Invalid cursor for current pagination sort: {cursor!r}") from None
    if not isinstance(value, list):
        raise GraphQLError(f"Invalid cursor for current pagination sort: {cursor!r}")
    return value


def _comparable(key: SortKey) -> list[Any]:
    return [v.isoformat() if isinstance(v, datetime) else v for v in key]


def connection(
    items: Sequence[T],
    *,
    sort_key: Callable[[T], SortKey],
    args: dict[str, Any],
    unbounded: bool = False,
) -> dict[str, Any]:
    """One page of ``items`` as a connection dict (``edges``, ``nodes``, ``pageInfo``).

    ``items`` must already be in the wanted order (``reverse`` applied). ``unbounded`` lifts
    the rule that ``first`` or ``last`` is required (bulk operations read whole lists).
    """
    first, last = args.get("first"), args.get("last")
    after, before = args.get("after"), args.get("before")
    reverse = bool(args.get("reverse"))
    if first is None and last is None and not unbounded:
        raise GraphQLError("you must provide one of first or last")
    for name, size in (("first", first), ("last", last)):
        if size is not None and not 0 <= size <= MAX_PAGE_SIZE:
            raise GraphQLError(f"The {name} argument must be between 0 and {MAX_PAGE_SIZE}.")
    keyed = [(_comparable(sort_key(item)), item) for item in items]
    descending = reverse

    def beyond(key: list[Any], bound: list[Any]) -> bool:
        return key < bound if descending else key > bound

    if after is not None:
        bound = decode_cursor(after)
        keyed = [(k, item) for k, item in keyed if beyond(k, bound)]
    if before is not None:
        bound = decode_cursor(before)
        keyed = [(k, item) for k, item in keyed if beyond(bound, k)]
    has_next = has_previous = False
    if first is not None:
        has_next = len(keyed) > first
        keyed = keyed[:first]
    if last is not None:
        has_previous = len(keyed) > last
        keyed = keyed[len(keyed) - last :] if last else []
    edges = [{"cursor": encode_cursor(tuple(k)), "node": item} for k, item in keyed]
    return {
        "edges": edges,
        "nodes": [edge["node"] for edge in edges],
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous or after is not None,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }
