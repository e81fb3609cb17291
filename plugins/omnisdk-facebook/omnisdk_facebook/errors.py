"""Graph API error bodies mapped onto omnisdk's exception hierarchy.

Meta answers a failed call (mostly HTTP 400, whatever the cause) with
``{"error": {"message", "type", "code", "error_subcode", "is_transient", "error_user_title",
"error_user_msg", "fbtrace_id"}}``; the body decides, not the status. :func:`error_for` turns
a body into the typed error it means, each carrying :class:`GraphErrorInfo` (code, subcode,
``fbtrace_id``) as ``graph``; the rate-limit codes become
:class:`~omnisdk.errors.RateLimited` with the wait the usage headers announce.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
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
)
from omnisdk.http import ErrorMapper, json_error_mapper
from omnisdk_facebook.usage import read_usage

__all__ = [
    "PERMISSION_CODES",
    "RATE_LIMIT_CODES",
    "TRANSIENT_CODES",
    "FacebookAuthError",
    "FacebookBadRequest",
    "FacebookNotFound",
    "FacebookRateLimited",
    "FacebookUnavailable",
    "GraphError",
    "GraphErrorInfo",
    "error_for",
    "error_mapper",
    "parse_body",
]

RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80001, 80002, 80003, 80004, 80005, 80006, 80008,
                              80009, 80014})
"""App (4), user (17), page (32), custom (613) and business-use-case (800xx) throttles."""
TRANSIENT_CODES = frozenset({1, 2})
"""Unknown error and temporary service error: a later try may succeed."""
PERMISSION_CODES = frozenset({10, *range(200, 300)})
"""The token lacks a permission for this object."""
TOKEN_CODES = frozenset({102, 104, 190})
"""Session, missing token, and invalid or expired access token."""
_NOT_FOUND = {(100, 33), (803, None)}


@dataclass(frozen=True)
class GraphErrorInfo:
    """What a Graph error body says: ``code``/``subcode`` and Meta's ``fbtrace_id`` to quote."""

    message: str
    type: str | None = None
    code: int | None = None
    subcode: int | None = None
    fbtrace_id: str | None = None
    is_transient: bool = False
    user_message: str | None = None

    @classmethod
    def from_body(cls, body: Any) -> GraphErrorInfo | None:
        """The error of a decoded body, or None when it holds none."""
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            return None
        return cls(
            message=str(error.get("message") or "no message"),
            type=_text(error.get("type")),
            code=_int(error.get("code")),
            subcode=_int(error.get("error_subcode")),
            fbtrace_id=_text(error.get("fbtrace_id")),
            is_transient=error.get("is_transient") is True,
            user_message=_text(error.get("error_user_msg")),
        )

    def label(self) -> str:
        """``"#80014/2446079"``: the code and subcode, as Meta's docs name them."""
        if self.code is None:
            return "#?"
        return f"#{self.code}" + (f"/{self.subcode}" if self.subcode is not None else "")


class GraphError:
    """Mixin of every Graph error: ``graph`` is the body's :class:`GraphErrorInfo`."""

    graph: GraphErrorInfo

    @property
    def graph_code(self) -> int | None:
        """Meta's error ``code``."""
        return self.graph.code

    @property
    def graph_subcode(self) -> int | None:
        """Meta's ``error_subcode``."""
        return self.graph.subcode

    @property
    def fbtrace_id(self) -> str | None:
        """Meta's trace id of the failed call (quote it to Meta support)."""
        return self.graph.fbtrace_id


class FacebookAuthError(GraphError, AuthError):
    """The token, its ``appsecret_proof`` or its permissions were refused."""


class FacebookRateLimited(GraphError, RateLimited):
    """A Graph throttle (codes 4, 17, 32, 613, 800xx); ``retry_after`` from the usage headers."""


class FacebookUnavailable(GraphError, PlatformUnavailable):
    """A transient Graph failure (codes 1, 2, ``is_transient``, or a 5xx)."""


class FacebookNotFound(GraphError, NotFound):
    """The object does not exist or the token may not see it (code 100 subcode 33, 803)."""


class FacebookBadRequest(GraphError, BadRequest):
    """Meta refused the request itself (an invalid parameter, mostly code 100)."""


def parse_body(content: bytes) -> Any:
    """A Graph JSON body with every JSON float read as an exact :class:`Decimal`."""
    return json.loads(content, parse_float=Decimal)


def error_for(
    body: Any, *, status: int | None = None, headers: httpx.Headers | None = None
) -> ChannelError | None:
    """The error a Graph response means, or None for a successful one.

    ``{"success": false}`` is a failure too (Meta's SDK reads it so).
    """
    info = GraphErrorInfo.from_body(body)
    if info is None:
        if isinstance(body, dict) and body.get("success") is False:
            info = GraphErrorInfo(message="Meta answered success: false")
        else:
            return None
    message = f"({info.label()}) {info.message}"
    if info.fbtrace_id:
        message += f" [fbtrace_id {info.fbtrace_id}]"
    context: dict[str, Any] = {"status": status, "request_id": info.fbtrace_id}
    code = info.code
    error: ChannelError
    if code in RATE_LIMIT_CODES:
        usage = read_usage(headers) if headers is not None else None
        wait = usage.pause() if usage is not None else 0.0
        # No regain time announced: the HTTP layer takes Retry-After, else its back-off.
        error = FacebookRateLimited(message, retry_after=wait or None, **context)
    elif code in TOKEN_CODES or code in PERMISSION_CODES or "appsecret_proof" in info.message:
        error = FacebookAuthError(message, **context)
    elif code in TRANSIENT_CODES or info.is_transient or (status or 0) >= 500:
        error = FacebookUnavailable(message, **context)
    elif (code, info.subcode) in _NOT_FOUND or (code, None) in _NOT_FOUND:
        error = FacebookNotFound(info.message, code=info.label(), **context)
    else:
        error = FacebookBadRequest(info.message, code=info.label(), **context)
    error.graph = info
    return error


def _read_error(response: httpx.Response, body: Any) -> ChannelError | None:
    return error_for(body, status=response.status_code, headers=response.headers)


error_mapper: ErrorMapper = json_error_mapper("Meta", _read_error, parse=parse_body)
""":data:`omnisdk.http.ErrorMapper` for the Graph API: the typed error a response carries."""


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _text(value: Any) -> str | None:
    return str(value)[:200] if value not in (None, "") else None
