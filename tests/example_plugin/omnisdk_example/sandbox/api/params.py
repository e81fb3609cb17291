"""Reading API requests: query parameters, batch bodies and paging cursors.

Each raises a 400 :class:`~omnisdk.testing.SandboxError` that names the bad field.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from starlette.requests import Request

from omnisdk.testing.sandbox import SandboxError, read_json

__all__ = [
    "MAX_BATCH",
    "batch_items",
    "decode_cursor",
    "encode_cursor",
    "int_param",
    "time_param",
]

MAX_BATCH = 20
"""The most items one batch write takes."""


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
