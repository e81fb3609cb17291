"""JSON answers for sandboxes, with headers spelt exactly as the platform spells them.

HTTP header names are case-insensitive, but some official clients look them up
case-sensitively (ShopifyAPI reads ``X-Shopify-Shop-Api-Call-Limit`` from a plain dict), and
Starlette lower-cases every header it is given. :func:`json_response` and
:func:`keep_header_case` write the names byte for byte instead.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import BaseModel
from starlette.responses import Response

__all__ = ["dumps", "json_response", "keep_header_case"]


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(data: Any) -> bytes:
    """Compact UTF-8 JSON (Decimals as strings, datetimes in ISO 8601), as platforms send."""
    return json.dumps(
        data, ensure_ascii=False, separators=(",", ":"), default=_json_default
    ).encode()


def json_response(
    data: Any,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    *,
    encode: Callable[[Any], bytes] = dumps,
    media_type: str = "application/json",
) -> Response:
    """A JSON response of ``data`` encoded with ``encode`` (default :func:`dumps`).

    ``headers`` keep the exact case given (see :func:`keep_header_case`).
    """
    response = Response(encode(data), status_code=status, media_type=media_type)
    return keep_header_case(response, headers or {})


def keep_header_case(response: Response, headers: Mapping[str, str]) -> Response:
    """Set ``headers`` on ``response`` with their names spelt as given; returns ``response``.

    A header already on the response under any case is replaced.
    """
    names = {name.lower().encode("latin-1") for name in headers}
    response.raw_headers = [
        (name, value) for name, value in response.raw_headers if name.lower() not in names
    ]
    response.raw_headers += [
        (name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
    ]
    return response
