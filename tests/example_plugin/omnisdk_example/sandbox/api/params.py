"""Reading API requests: query parameters, page numbers, batch bodies and paging cursors.

Each raises a 400 :class:`~omnisdk.testing.SandboxError` that names the bad field.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sized
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from starlette.requests import Request

from omnisdk.testing.sandbox import SandboxError, read_json

__all__ = [
    "MAX_BATCH",
    "NumberedPage",
    "batch_items",
    "decode_cursor",
    "encode_cursor",
    "int_param",
    "time_param",
]

MAX_BATCH = 20
"""The most items one batch write takes."""

Row = TypeVar("Row")


async def batch_items(request: Request) -> list[dict[str, Any]]:
    """The ``{"items": [{...}, ...]}`` of a batch write (1 to :data:`MAX_BATCH` items)."""
    body = await read_json(request)
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise SandboxError('the body must be {"items": [{...}, ...]}', field="items")
    if not items:
        raise SandboxError("items is empty", field="items")
    if len(items) > MAX_BATCH:
        raise SandboxError(f"at most {MAX_BATCH} items per call, got {len(items)}", max=MAX_BATCH)
    return items


def int_param(
    request: Request, name: str, default: int, *, low: int, high: int | None = None
) -> int:
    """The integer query parameter ``name`` (``default`` when absent), within bounds."""
    raw = request.query_params.get(name)
    try:
        value = default if raw is None else int(raw)
    except ValueError:
        raise SandboxError(f"{name} must be an integer", field=name) from None
    if value < low or (high is not None and value > high):
        raise SandboxError(f"{name} must be between {low} and {high}", field=name)
    return value


@dataclass(frozen=True)
class NumberedPage:
    """Which page a page-numbered list call asks for: ``?page=`` (from 1) and ``?limit=``."""

    number: int
    limit: int

    @classmethod
    def of(cls, request: Request, *, max_limit: int) -> NumberedPage:
        """The page ``request`` asks for (page 1 of 50 rows unless it says otherwise)."""
        number = int_param(request, "page", 1, low=1)
        return cls(number, int_param(request, "limit", 50, low=1, high=max_limit))

    def cut(self, rows: list[Row]) -> list[Row]:
        """This page's rows of ``rows`` (all the rows, in their order)."""
        return rows[(self.number - 1) * self.limit : self.number * self.limit]

    def has_more(self, rows: Sized) -> bool:
        """Whether ``rows`` go on past this page."""
        return self.number * self.limit < len(rows)


def time_param(request: Request, name: str) -> datetime | None:
    """The ISO 8601 time (with an offset) of query parameter ``name``, or None."""
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise SandboxError(f"{name} must be an ISO 8601 time", field=name) from None
    if when.tzinfo is None:
        raise SandboxError(f"{name} needs a time zone offset", field=name)
    return when


def encode_cursor(at: datetime, object_id: str) -> str:
    """An opaque cursor pointing just after ``(at, object_id)``."""
    raw = json.dumps([at.isoformat(), object_id]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    """The ``(at, object_id)`` of a cursor from :func:`encode_cursor`, or None for none."""
    if not cursor:
        return None
    try:
        at, object_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(at), str(object_id)
    except (ValueError, TypeError):
        raise SandboxError("cursor is not one this API gave out", field="cursor") from None
