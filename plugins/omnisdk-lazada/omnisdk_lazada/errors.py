"""Lazada's error bodies mapped onto omnisdk's exception hierarchy.

Lazada answers every call with JSON; ``code`` is a string and ``"0"`` means success. An error
reads ``{"code": "IllegalAccessToken", "type": "ISV", "message": "...", "request_id": "..."}``
(``type``: ``ISV`` the caller's fault, ``ISP`` a business refusal, ``SYSTEM`` the platform's),
and per-item failures add ``detail: [{"field", "seller_sku", "message"}]``. The HTTP status
is believed to be 200 for all of them (the SDK ignores it), so the body decides.

:func:`error_for` turns a body into the typed error it means; :func:`error_mapper` is the
:data:`omnisdk.http.ErrorMapper` the channel's HTTP client runs on every response, so the
transient ones (``ApiCallLimit``, ``ServiceTimeout``, ``6``, ``901``...) are retried there.
"""

from __future__ import annotations

import json
import re
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
from omnisdk.http import ErrorMapper, json_error_mapper

__all__ = [
    "ACCESS_TOKEN_ERRORS",
    "RATE_LIMIT_ERRORS",
    "REAUTHORISE_ERRORS",
    "TRANSIENT_ERRORS",
    "LazadaAuthError",
    "LazadaBadRequest",
    "error_for",
    "error_mapper",
    "parse_body",
]

ACCESS_TOKEN_ERRORS = frozenset({"IllegalAccessToken", "AccessTokenExpired", "InvalidAccessToken"})
"""Codes meaning the access token was refused: refresh it once and try again."""

REAUTHORISE_ERRORS = frozenset(
    {"IllegalRefreshToken", "AUTH_TYPE_UNSUPPORTED", "RefreshTokenExpired"}
)
"""Codes meaning the seller's authorisation is gone: a person must authorise the app again."""

_AUTH_ERRORS = frozenset(
    {
        "IncompleteSignature",
        "InvalidAppKey",
        "AppKeyNotExist",
        "InsufficientPermission",
        "SellerNotVerified",
        "AppWhiteListLimit",
        "InvalidTimestamp",
    }
)
RATE_LIMIT_ERRORS = frozenset({"ApiCallLimit", "AppCallLimit", "901"})
"""Codes meaning "too many calls": wait (a one-second ban, unless the message says longer)."""

TRANSIENT_ERRORS = frozenset({"ServiceTimeout", "ServiceUnavailable", "6", "513", "1000"})
"""Codes for failures on Lazada's side that a later try may not meet."""

_NOT_FOUND_ERRORS = frozenset({"16", "ORDER_NOT_FOUND", "208", "InvalidApiPath"})
_BAN_SECONDS = re.compile(r"ban will last (\d+) second", re.IGNORECASE)
_DAILY_LIMIT_WAIT = 3600.0


class LazadaAuthError(AuthError):
    """Lazada refused the credentials; ``code`` is its error code.

    ``token_refused`` is True when the access token itself was refused (a refresh may help).
    """

    def __init__(
        self, message: str, *, code: str, token_refused: bool = False, **kwargs: Any
    ) -> None:
        self.code = code
        self.token_refused = token_refused
        super().__init__(f"{code}: {message}", **kwargs)


class LazadaBadRequest(BadRequest):
    """Lazada refused the request; ``detail`` holds its per-item entries (may be empty)."""

    def __init__(
        self, message: str, *, code: str, detail: list[dict[str, Any]] | None = None, **kwargs: Any
    ) -> None:
        self.detail = detail or []
        super().__init__(message, code=code, **kwargs)


def parse_body(content: bytes) -> Any:
    """Decode a Lazada JSON body with every JSON float read as an exact :class:`Decimal`."""
    return json.loads(content, parse_float=Decimal)


def _detail(body: dict[str, Any]) -> list[dict[str, Any]]:
    detail = body.get("detail")
    if isinstance(detail, list):
        return [entry for entry in detail if isinstance(entry, dict)]
    return []


def error_for(
    body: Any, *, status: int | None = None, refreshing: bool = False
) -> ChannelError | None:
    """The error a Lazada response body means, or None for a successful one.

    ``refreshing`` says the body answers ``/auth/token/refresh``: there a refused token of
    any kind means the refresh token is dead (:class:`ReauthorisationRequired`).
    """
    if not isinstance(body, dict):
        if status is not None and status >= 400:
            return None
        return PlatformUnavailable("Lazada answered with JSON that is not an object", status=status)
    raw_code = body.get("code")
    if raw_code is None or str(raw_code) == "0":
        return None
    code = str(raw_code)
    message = str(body.get("message") or "no message")
    request_id = str(body["request_id"]) if body.get("request_id") else None
    context: dict[str, Any] = {"status": status, "request_id": request_id}
    if code in REAUTHORISE_ERRORS or (refreshing and code in ACCESS_TOKEN_ERRORS):
        return ReauthorisationRequired(f"{code}: {message}", **context)
    if code in ACCESS_TOKEN_ERRORS:
        return LazadaAuthError(message, code=code, token_refused=True, **context)
    if code in _AUTH_ERRORS:
        return LazadaAuthError(message, code=code, **context)
    if code in RATE_LIMIT_ERRORS:
        found = _BAN_SECONDS.search(message)
        wait = float(found.group(1)) if found else 1.0
        if code == "AppCallLimit" and not found:
            wait = _DAILY_LIMIT_WAIT
        return RateLimited(f"{code}: {message}", retry_after=wait, **context)
    if code in TRANSIENT_ERRORS or body.get("type") == "SYSTEM":
        return PlatformUnavailable(f"{code}: {message}", **context)
    if code in _NOT_FOUND_ERRORS:
        return NotFound(message, code=code, **context)
    return LazadaBadRequest(message, code=code, detail=_detail(body), **context)


def _read_error(response: httpx.Response, body: Any) -> ChannelError | None:
    refreshing = response.request.url.path.endswith("/auth/token/refresh")
    return error_for(body, status=response.status_code, refreshing=refreshing)


error_mapper: ErrorMapper = json_error_mapper("Lazada", _read_error, parse=parse_body)
""":data:`omnisdk.http.ErrorMapper` for Lazada: the typed error a response carries."""
