"""Shopee's error bodies mapped onto omnisdk's exception hierarchy.

Shopee answers ``{"request_id": ..., "error": "error_auth", "message": "Invalid access_token."}``
(sometimes with HTTP 200, sometimes 4xx); ``error == ""`` means success. :func:`error_for`
turns such a body into the typed error it means; :func:`error_mapper` is the
:data:`omnisdk.http.ErrorMapper` the channel's HTTP client runs on every response, so transient
errors (``error_server``, ``error_rate_limit``...) are retried by the HTTP layer.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx

from omnisdk.errors import (
    AuthError,
    BadRequest,
    ChannelError,
    NotFound,
    PlatformUnavailable,
    RateLimited,
    ReauthorisationRequired,
)
from omnisdk.http import ErrorMapper, json_error_mapper, parse_retry_after

__all__ = [
    "ACCESS_TOKEN_ERRORS",
    "REAUTHORISE_ERRORS",
    "ShopeeAuthError",
    "daily_limit_reset",
    "error_for",
    "error_mapper",
    "parse_body",
]

ACCESS_TOKEN_ERRORS = frozenset(
    {
        "error_auth",
        "invalid_acceess_token",  # sic: Shopee's own spelling
        "invalid_access_token",
        "error_invalid_access_token",
        "error_access_token",
    }
)
"""Codes that mean the access token was refused: refresh it once and try again."""

REAUTHORISE_ERRORS = frozenset(
    {
        "error_shop_refresh_token",
        "error_merchant_refresh_token",
        "refresh_token_expired",
        "invalid_refresh_token",
        "error_refresh_token",
        "shop_access_expired",
        "merchant_access_expired",
        "supplier_access_expired",
        "partner_shop_no_link",
        "shop_no_linked",
        "merchant_no_linked",
        "supplier_no_linked",
    }
)
"""Codes that mean the shop's authorisation is gone: a person must authorise again."""

_AUTH_ERRORS = frozenset(
    {
        "error_sign",
        "invalid_partner_id",
        "error_partner_key_expired",
        "error_api_permission",
        "error_api_call_restricted",
        "api_suspended",
        "source_ip_undeclared",
        "shop_banned",
        "error_permission",
    }
)
_TRANSIENT_ERRORS = frozenset(
    {
        "error_server",
        "error_inner",
        "error_system_busy",
        "error_network",
        "error_data",
        "error_busi_update_stock_failed",
        "error_timeout",
    }
)
_NOT_FOUND_ERRORS = frozenset(
    {
        "error_item_not_found",
        "error_not_found",
        "error_order_not_found",
        "order.order_not_found",
        "error_item_not_belong_shop",
    }
)
_SHOPEE_TZ = timezone(timedelta(hours=8))


class ShopeeAuthError(AuthError):
    """Shopee refused the credentials; ``code`` is its error code.

    ``token_refused`` is True when the access token itself was refused (a refresh may help).
    """

    def __init__(
        self, message: str, *, code: str, token_refused: bool = False, **kwargs: Any
    ) -> None:
        self.code = code
        self.token_refused = token_refused
        super().__init__(f"{code}: {message}", **kwargs)


def parse_body(content: bytes) -> Any:
    """Decode a Shopee JSON body with every JSON float read as an exact :class:`Decimal`.

    Shopee sends prices as bare JSON numbers (``11.11``). ``parse_float=Decimal`` keeps the
    digits exactly as written, so no price ever passes through a binary float.
    """
    return json.loads(content, parse_float=Decimal)


def daily_limit_reset(now: datetime) -> float:
    """Seconds from ``now`` until Shopee's daily call quota resets (00:00 UTC+08:00)."""
    local = now.astimezone(_SHOPEE_TZ)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(0.0, (midnight - local).total_seconds())


def error_for(
    body: Any,
    *,
    status: int | None = None,
    retry_after: float | None = None,
    now: datetime | None = None,
    refreshing: bool = False,
) -> ChannelError | None:
    """The error a Shopee response body means, or None for a successful one.

    ``refreshing`` says the body answers a token refresh. The codes of
    :data:`REAUTHORISE_ERRORS` (``error_shop_refresh_token``, ``refresh_token_expired``,
    ``shop_access_expired``, ...) mean the shop must be authorised again
    (:class:`~omnisdk.errors.ReauthorisationRequired`), wherever they come from.
    """
    if not isinstance(body, dict):
        if status is not None and status >= 400:
            return None  # let the HTTP layer describe a non-JSON failure by its status
        return PlatformUnavailable(
            "Shopee answered with a body that is not a JSON object", status=status
        )
    code = body.get("error")
    if not code:
        return None
    # Some error examples prefix the common codes ("common.error_auth"); match without it.
    code = str(code).removeprefix("common.")
    message = str(body.get("message") or body.get("msg") or "no message")
    request_id = str(body["request_id"]) if body.get("request_id") else None
    context: dict[str, Any] = {"status": status, "request_id": request_id}
    # At the refresh endpoint error_auth is a partner-level problem (app deleted, partner id
    # invalid, permissions restricted): re-authorising the shop would not cure it.
    refresh_refused = refreshing and code == "error_param" and "refresh" in message.lower()
    if code in REAUTHORISE_ERRORS or refresh_refused:
        return ReauthorisationRequired(f"{code}: {message}", **context)
    if code in ACCESS_TOKEN_ERRORS:
        return ShopeeAuthError(message, code=code, token_refused=True, **context)
    if code in _AUTH_ERRORS:
        return ShopeeAuthError(message, code=code, **context)
    if code == "error_rate_limit":
        return RateLimited(f"{code}: {message}", retry_after=retry_after, **context)
    if code == "error_limit":
        wait = daily_limit_reset(now or datetime.now(UTC))
        return RateLimited(f"{code}: {message}", retry_after=wait, **context)
    if code in _TRANSIENT_ERRORS:
        return PlatformUnavailable(f"{code}: {message}", **context)
    if code in _NOT_FOUND_ERRORS:
        return NotFound(message, code=code, **context)
    return BadRequest(message, code=code, **context)


def _read_error(response: httpx.Response, body: Any) -> ChannelError | None:
    return error_for(
        body,
        status=response.status_code,
        retry_after=parse_retry_after(response.headers.get("retry-after")),
        refreshing=response.request.url.path.endswith("/auth/access_token/get"),
    )


error_mapper: ErrorMapper = json_error_mapper("Shopee", _read_error, parse=parse_body)
""":data:`omnisdk.http.ErrorMapper` for Shopee: the typed error a response carries."""
