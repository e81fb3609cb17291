"""What every Admin API request passes before its handler: the access token, the REST call
limit, Shopify's response headers, and Shopify's JSON answers.

Header names keep Shopify's capitalisation (ShopifyAPI reads ``X-Shopify-Shop-Api-Call-Limit``
case-sensitively), so answers go through :func:`admin_json` / ``keep_header_case``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from omnisdk.testing.responses import json_response, keep_header_case
from omnisdk.testing.sandbox import SandboxError
from omnisdk_shopify.sandbox.state.records import ShopStateError

if TYPE_CHECKING:
    from omnisdk_shopify.sandbox.app import ShopifySandbox

__all__ = [
    "CALL_LIMIT_MESSAGE",
    "INVALID_TOKEN",
    "RestError",
    "admin_headers",
    "admin_json",
    "rest_endpoint",
    "shopify_json",
]

INVALID_TOKEN = (
    "[API] Invalid API key or access token "  # noqa: S105 (an error message)
    "(unrecognized login or wrong password)"
)
CALL_LIMIT_MESSAGE = (
    "Exceeded 2 calls per second for api client. Reduce request rates to "
    "resume uninterrupted service."
)

RestHandler = Callable[[Request], Any]
"""A REST handler: returns a Response, or an awaitable of one."""


class RestError(SandboxError):
    """A REST failure answered as ``{"errors": ...}`` with ``status``."""

    def __init__(self, status: int, errors: Any) -> None:
        super().__init__(str(errors))
        self.status = status
        self.errors = errors


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def shopify_json(data: Any) -> bytes:
    """JSON as the Admin API writes it: UTF-8 text, Decimals as strings, UTC ISO 8601 times."""
    return json.dumps(data, ensure_ascii=False, default=_default).encode()


def admin_json(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """An Admin API JSON answer, ``headers`` spelt as given."""
    return json_response(
        body, status, headers, encode=shopify_json, media_type="application/json; charset=utf-8"
    )


def admin_headers(sandbox: ShopifySandbox, version: str) -> dict[str, str]:
    """The headers of every Admin API answer: the API version served and a request id."""
    return {"X-Shopify-API-Version": version, "X-Request-Id": str(sandbox.next_delivery_id())}


def rest_endpoint(sandbox: ShopifySandbox, handler: RestHandler) -> RestHandler:
    """Wrap a REST handler: token check, call limit, lock, Shopify error bodies."""

    async def endpoint(request: Request) -> Response:
        headers = admin_headers(sandbox, request.path_params.get("version", sandbox.api_version))
        refused = _admit(sandbox, request, headers)
        if refused is not None:
            return refused
        try:
            result = handler(request)
            if hasattr(result, "__await__"):
                with sandbox.lock:
                    response: Response = await result
            else:
                with sandbox.lock:
                    response = result
        except RestError as exc:
            return admin_json({"errors": exc.errors}, exc.status, headers)
        except ShopStateError as exc:
            errors: Any = "Not Found" if exc.status == 404 else [str(exc)]
            return admin_json({"errors": errors}, exc.status, headers)
        except SandboxError as exc:
            return admin_json({"errors": [exc.message]}, 422, headers)
        return keep_header_case(response, headers)

    return endpoint


def _admit(sandbox: ShopifySandbox, request: Request, headers: dict[str, str]) -> Response | None:
    """None when the request may go on; else the 401 or 429 answer. Adds the call-limit header."""
    token = request.headers.get("x-shopify-access-token")
    if token is None or not sandbox.token_valid(token):
        return admin_json({"errors": INVALID_TOKEN}, 401, headers)
    bucket = sandbox.rest_bucket(token)
    allowed = bucket.try_fill()
    headers["X-Shopify-Shop-Api-Call-Limit"] = f"{math.ceil(bucket.level)}/{bucket.capacity:g}"
    if not allowed:
        headers["Retry-After"] = f"{1 / bucket.leak_rate:.1f}"
        return admin_json({"errors": CALL_LIMIT_MESSAGE}, 429, headers)
    return None
