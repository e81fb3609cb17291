"""KiotViet's error answers as omnisdk errors.

The API answers a refusal with an HTTP error status and
``{"responseStatus": {"errorCode": "...", "message": "...", "errors": []}}`` (KiotViet's own
plugin reads ``responseStatus.message``); the identity server with IdentityServer's
``{"error": "invalid_client"}``. :func:`error_mapper` is the channel's ``parse_error``:
401/403 are :class:`KiotVietAuthError` (a refused token is refreshed once by the client),
a refused client credential :class:`~omnisdk.errors.ReauthorisationRequired` (a person must
fix the credentials), 429 :class:`~omnisdk.errors.RateLimited` with ``Retry-After``, 404
:class:`~omnisdk.errors.NotFound`, 5xx :class:`~omnisdk.errors.PlatformUnavailable`.
Messages are KiotViet's own (often Vietnamese) and never carry credentials.
"""

from __future__ import annotations

import json
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
from omnisdk.http import json_error_mapper, parse_retry_after

__all__ = ["IDENTITY_ERRORS", "KiotVietAuthError", "error_mapper", "parse_body"]

IDENTITY_ERRORS = frozenset({"invalid_client", "unauthorized_client", "invalid_grant"})
"""Identity-server codes that mean the client id/secret are wrong or revoked."""


class KiotVietAuthError(AuthError):
    """The API refused the access token (401/403): refresh it once and try again."""


def parse_body(content: bytes) -> Any:
    """Decode KiotViet JSON with every fractional number as an exact :class:`Decimal`."""
    return json.loads(content, parse_float=Decimal)


def error_mapper(response: httpx.Response) -> ChannelError | None:
    """The error a KiotViet answer means, or None for a success (or a body that is not
    KiotViet's, which the HTTP layer then judges by its status)."""
    if response.status_code < 400:
        return None
    return _failure_mapper(response)


def _read_failure(response: httpx.Response, body: Any) -> ChannelError | None:
    if not isinstance(body, dict):
        return None
    status = response.status_code
    if isinstance(body.get("error"), str):  # the identity server
        code = body["error"]
        text = str(body.get("error_description") or code)
        if code in IDENTITY_ERRORS:
            return ReauthorisationRequired(
                f"KiotViet refused the client credentials ({code}): check client_id and "
                "client_secret (Thiết lập cửa hàng > Thiết lập kết nối API)",
                status=status,
            )
        return BadRequest(text, code=code, status=status)
    envelope = body.get("responseStatus")
    envelope = envelope if isinstance(envelope, dict) else {}
    code = str(envelope.get("errorCode") or status)
    message = str(envelope.get("message") or response.reason_phrase or "error")
    if status in (401, 403):
        return KiotVietAuthError(f"{code}: {message}", status=status)
    if status == 429:
        wait = parse_retry_after(response.headers.get("retry-after"))
        return RateLimited(f"{code}: {message}", retry_after=wait, status=status)
    if status in (404, 410):
        return NotFound(message, code=code, status=status)
    if status == 408 or status >= 500:
        return PlatformUnavailable(f"{code}: {message}", status=status)
    return BadRequest(message, code=code, status=status)


_failure_mapper = json_error_mapper("KiotViet", _read_failure, parse=parse_body)
