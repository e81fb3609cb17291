"""Shopify's error bodies as omnisdk's exceptions.

GraphQL answers HTTP 200 when it is throttled or failed inside, so the body decides:
:func:`shopify_error_mapper` (the channel's ``parse_error``) turns a ``THROTTLED`` answer
into :class:`~omnisdk.errors.RateLimited` with the wait it asks for and Shopify's internal
errors into :class:`~omnisdk.errors.PlatformUnavailable`, both retried by the HTTP layer;
:func:`graphql_error` turns any other top-level ``errors`` into the exception the client
raises. Business failures are ``userErrors``, read by the callers.
"""

from __future__ import annotations

from typing import Any

import httpx

from omnisdk.errors import AuthError, BadRequest, ChannelError, PlatformUnavailable, RateLimited
from omnisdk.http import json_error_mapper
from omnisdk_shopify.queries import MAX_QUERY_COST

__all__ = ["graphql_error", "shopify_error_mapper", "throttled_wait"]

_SERVER_CODES = {"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE", "TIMEOUT"}
_AUTH_CODES = {"ACCESS_DENIED", "UNAUTHORIZED", "FORBIDDEN"}


def shopify_error_mapper(response: httpx.Response) -> ChannelError | None:
    """The :data:`~omnisdk.http.ErrorMapper` for Shopify: GraphQL answers HTTP 200 when it is
    throttled or failed inside, so the body decides."""
    if not response.request.url.path.endswith("/graphql.json") or response.status_code != 200:
        return None
    return _graphql_mapper(response)


def _read_graphql(response: httpx.Response, body: Any) -> ChannelError | None:
    wait = throttled_wait(body)
    if wait is not None:
        return RateLimited(f"GraphQL cost bucket empty: waiting {wait:.2f} s", retry_after=wait)
    codes = _error_codes(body)
    if codes & _SERVER_CODES:
        return PlatformUnavailable(f"GraphQL internal error: {_messages(body)}")
    return None


_graphql_mapper = json_error_mapper("Shopify GraphQL", _read_graphql)


def graphql_error(body: dict[str, Any], *, status: int, channel: str, account: str) -> ChannelError:
    """The exception a GraphQL answer with top-level ``errors`` means: AuthError for access
    errors, else BadRequest carrying Shopify's ``extensions.code``."""
    codes = _error_codes(body)
    where: dict[str, Any] = {"channel": channel, "account": account, "status": status}
    if codes & _AUTH_CODES:
        return AuthError(_messages(body), **where)
    code = next((c for c in sorted(codes) if c != "None"), None)
    return BadRequest(_messages(body), code=code or "GRAPHQL_ERROR", **where)


def _error_codes(body: Any) -> set[str]:
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return set()
    return {str((e.get("extensions") or {}).get("code")) for e in errors if isinstance(e, dict)}


def _messages(body: Any) -> str:
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list):
        return "; ".join(
            str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors
        )[:500]
    return str(errors)[:500]


def throttled_wait(body: Any) -> float | None:
    """Seconds a ``THROTTLED`` GraphQL answer asks to wait; None if ``body`` is not one."""
    if not isinstance(body, dict):
        return None
    errors = body.get("errors")
    if not isinstance(errors, list) or not any(
        isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "THROTTLED"
        for e in errors
    ):
        return None
    cost = (body.get("extensions") or {}).get("cost") or {}
    status = cost.get("throttleStatus") or {}
    try:
        requested = min(
            float(cost.get("requestedQueryCost") or 0),
            MAX_QUERY_COST,
            float(status.get("maximumAvailable") or MAX_QUERY_COST),
        )
        available = float(status.get("currentlyAvailable") or 0)
        restore = float(status.get("restoreRate") or 50)
    except (TypeError, ValueError):
        return 1.0
    return max(0.05, (requested - available) / restore)
