"""What Lazada's API gateway does before a handler runs: parameters from the query string and
the form body, app key, timestamp window, signature and access token, and Lazada's envelopes.

Success: ``{"code": "0", "data": ..., "request_id": ...}``; error: ``{"code", "type",
"message", "request_id"}`` (``detail`` for per-item failures). HTTP statuses of error bodies
are believed to be 200 (the SDK ignores them); :attr:`GatewayPolicy.statuses` changes them
per code. The signature is checked over *every* parameter that arrived (the SDK signs its
``partner_id`` too), and both signing variants are accepted: the Python SDK's (empty values
kept as the bare name) and the Java SDK's (empty values skipped).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from omnisdk.testing.api import SandboxApi
from omnisdk.testing.responses import json_response
from omnisdk.testing.sandbox import SandboxError
from omnisdk_lazada.client import Signer

if TYPE_CHECKING:
    from omnisdk_lazada.sandbox.app import LazadaSandbox  # noqa: F401 (in the base class)

__all__ = [
    "PREFIX",
    "Call",
    "GatewayPolicy",
    "LazadaApi",
    "LazadaApiError",
    "business_error",
    "int_param",
    "lazada_json",
    "lazada_response",
    "read_params",
    "verify_call",
]

PREFIX = "/rest"
"""Where the sandbox serves the API (the SDK's ``server_url`` ends in ``/rest``)."""

PUBLIC_PATHS = frozenset({"/auth/token/create", "/auth/token/refresh"})
"""Paths signed without an access token."""


class LazadaApiError(SandboxError):
    """An error the sandbox answers in Lazada's shape."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        kind: str = "ISV",
        status: int = 200,
        detail: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.kind = kind
        self.status = status
        self.detail = detail


def business_error(code: str, message: str, **options: Any) -> LazadaApiError:
    """A business (``ISP``) error of an endpoint, e.g. ``17`` "Invalid Date Format"."""
    return LazadaApiError(code, message, kind=options.pop("kind", "ISP"), **options)


@dataclass
class GatewayPolicy:
    """How strict the gateway is: timestamp window (s) and HTTP statuses per error code."""

    timestamp_window: int = 7200
    statuses: dict[str, int] = field(default_factory=dict)

    def error(self, code: str, message: str, *, kind: str = "ISV") -> LazadaApiError:
        """A gateway error with its configured HTTP status."""
        return LazadaApiError(code, message, kind=kind, status=self.statuses.get(code, 200))


@dataclass(frozen=True)
class Call:
    """A verified call: its API path, every parameter, and the seller of its token."""

    api_path: str
    params: dict[str, str]
    seller_id: str | None

    def get(self, name: str, default: str | None = None) -> str | None:
        """A business parameter (None or ``default`` when absent or empty)."""
        value = self.params.get(name)
        return value if value not in (None, "") else default


def lazada_json(data: Any) -> bytes:
    """Compact UTF-8 JSON, Decimals as bare numbers (as Lazada writes amounts)."""

    def default(value: Any) -> Any:
        if isinstance(value, Decimal):
            return float(value)
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")

    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=default).encode()


def lazada_response(
    request_id: str, data: Any = None, *, flat: dict[str, Any] | None = None
) -> Response:
    """A successful answer: ``code "0"`` with ``data`` (or ``flat`` fields beside it)."""
    body: dict[str, Any] = {"code": "0"}
    if data is not None:
        body["data"] = data
    if flat:
        body.update(flat)
    body["request_id"] = request_id
    return json_response(body, 200, encode=lazada_json)


async def read_params(request: Request) -> dict[str, str]:
    """Every parameter of a call: the query string, then a form or multipart body (the Node
    SDK sends both), for GET and POST alike. File parts are not parameters."""
    params: dict[str, str] = dict(request.query_params.items())
    if request.method == "POST":
        kind = request.headers.get("content-type", "")
        if kind.startswith("application/x-www-form-urlencoded"):
            raw = (await request.body()).decode("utf-8", errors="replace")
            params.update(parse_qsl(raw, keep_blank_values=True))
        elif kind.startswith("multipart/form-data"):
            try:
                form = await request.form()  # needs python-multipart (file uploads only)
            except AssertionError:
                raise LazadaApiError(
                    "InvalidParameter", "multipart bodies are not supported"
                ) from None
            for name, value in form.multi_items():
                if isinstance(value, str):
                    params[name] = value
        elif kind.startswith("application/json"):
            content = await request.body()
            try:
                data = json.loads(content) if content.strip() else {}
            except ValueError:
                data = None
            if isinstance(data, dict):
                params.update(
                    {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
                )
    return params


def int_param(
    call: Call, name: str, *, default: int | None = None, code: str = "InvalidParameter"
) -> int | None:
    """An integer parameter (``default`` when absent); ``code`` when it is not a number."""
    raw = call.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise business_error(
            code, f'Invalid parameter "{name}": {raw!r} is not an integer'
        ) from None


def _timestamp(raw: str) -> float | None:
    if raw.isdigit():
        return int(raw) / 1000
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.timestamp() if parsed.tzinfo is not None else None


def verify_call(
    api_path: str,
    params: dict[str, str],
    *,
    signer: Signer,
    now: float,
    policy: GatewayPolicy,
    check_token: Callable[[str], str],
) -> Call:
    """Check presence, app key, timestamp, signature and token, in that order; the call."""

    def missing(name: str) -> LazadaApiError:
        return policy.error("MissingParameter", f"missing required parameter: {name}")

    for name in ("app_key", "timestamp", "sign_method", "sign"):
        if not params.get(name):
            raise missing(name)
    if params["app_key"] != signer.app_key:
        raise policy.error("InvalidAppKey", "The specified app key is invalid")
    stamp = _timestamp(params["timestamp"])
    if stamp is None:
        raise policy.error("InvalidParameter", 'Invalid parameter "timestamp"')
    if abs(now - stamp) > policy.timestamp_window:
        raise policy.error(
            "InvalidTimestamp",
            f"The request timestamp is more than {policy.timestamp_window} s from the server time",
        )
    if params["sign_method"].lower() not in ("sha256", "hmac-sha256"):
        raise policy.error("InvalidParameter", 'Invalid parameter "sign_method"')
    given = params["sign"].upper()
    unsigned = {name: value for name, value in params.items() if name != "sign"}
    java_variant = {name: value for name, value in unsigned.items() if value != ""}
    if not any(
        hmac.compare_digest(given, signer.sign(api_path, variant))
        for variant in (unsigned, java_variant)
    ):
        raise policy.error(
            "IncompleteSignature", "The request signature does not conform to lazop standards"
        )
    seller_id: str | None = None
    if api_path not in PUBLIC_PATHS:
        token = params.get("access_token")
        if not token:
            raise missing("access_token")
        seller_id = check_token(token)
    return Call(api_path=api_path, params=params, seller_id=seller_id)


Handler = Callable[[Request, Call], Response]
"""A Lazada endpoint: the request and its verified call."""


class LazadaApi(SandboxApi["LazadaSandbox"]):
    """Base of the Lazada API areas: every endpoint passes the gateway first."""

    prefix = PREFIX

    def endpoint(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        """``handler`` behind the gateway: parameters read, then, under the sandbox's lock,
        :meth:`LazadaSandbox.verify` and the handler."""
        gated: Handler = handler

        async def verified(request: Request) -> Response:
            params = await read_params(request)
            api_path = request.url.path.removeprefix(PREFIX)
            with self.sandbox.lock:
                call = self.sandbox.verify(api_path, params)
                return gated(request, call)

        return verified
