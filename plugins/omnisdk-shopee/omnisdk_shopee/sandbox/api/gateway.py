"""What Shopee's API gateway does before a handler runs: common parameters, timestamp window,
signature and access token checks, and Shopee's error body.

Errors answer ``{"request_id", "error", "message"}``. HTTP statuses of error bodies are not
documented; the sandbox answers 403 for signature, token and timestamp errors, 429 for
``error_rate_limit``, 400 for other missing common parameters and 200 for business errors
(each configurable through :attr:`GatewayPolicy.statuses`).
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from omnisdk.testing.api import SandboxApi
from omnisdk.testing.responses import json_response
from omnisdk.testing.sandbox import SandboxError
from omnisdk_shopee.client import SignatureKind, Signer, kind_for_path

if TYPE_CHECKING:
    from omnisdk_shopee.sandbox.app import ShopeeSandbox  # noqa: F401 (in the base class)

__all__ = [
    "DEFAULT_STATUSES",
    "Caller",
    "GatewayPolicy",
    "ShopeeApi",
    "ShopeeApiError",
    "array_param",
    "int_id",
    "int_param",
    "json_number",
    "param_error",
    "read_body",
    "shopee_json",
    "shopee_response",
    "verify_call",
]

DEFAULT_STATUSES: dict[str, int] = {
    "error_sign": 403,
    "error_auth": 403,
    "invalid_acceess_token": 403,
    "invalid_partner_id": 403,
    "error_timestamp": 403,
    "error_param_common": 400,
    "error_rate_limit": 429,
}
"""HTTP status per error code (``error_timestamp`` stands for the timestamp errors, which
Shopee reports as ``error_param``; ``error_param_common`` for other missing common params)."""


class ShopeeApiError(SandboxError):
    """An error the sandbox answers in Shopee's shape."""

    def __init__(
        self, code: str, message: str, *, status: int = 200, response: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.response = response


GatedHandler = Callable[[Request, dict[str, Any]], Response]
"""A Shopee endpoint: the request and its JSON body (``{}`` for a GET), called verified."""


class ShopeeApi(SandboxApi["ShopeeSandbox"]):
    """Base of the Shopee API areas: every endpoint passes the gateway first.

    A POST's body is read (``error_param`` when it is not a JSON object), then, with the
    sandbox's lock held, :meth:`ShopeeSandbox.verify` runs the gateway checks and the
    handler gets the request and the body.
    """

    def endpoint(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        """``handler`` behind the gateway (see the class docstring)."""
        gated: GatedHandler = handler

        async def verified(request: Request) -> Response:
            body = await read_body(request) if request.method == "POST" else {}
            with self.sandbox.lock:
                self.sandbox.verify(request)
                return gated(request, body)

        return verified


@dataclass
class GatewayPolicy:
    """How strict the gateway is: timestamp window, statuses of error bodies."""

    timestamp_window: int = 300
    statuses: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_STATUSES))

    def error(self, code: str, message: str, *, kind: str | None = None) -> ShopeeApiError:
        """A gateway error with its configured HTTP status."""
        return ShopeeApiError(code, message, status=self.statuses.get(kind or code, 200))


@dataclass(frozen=True)
class Caller:
    """Who a verified call is from: the partner and, for shop calls, the shop and token."""

    partner_id: int
    kind: SignatureKind
    shop_id: int | None = None
    access_token: str | None = None


def json_number(value: Decimal) -> int | float:
    """A Decimal as the JSON number Shopee would send: an int when whole, else a float."""
    return int(value) if value == value.to_integral_value() else float(value)


def shopee_json(data: Any) -> bytes:
    """Compact JSON as Shopee writes it: Decimals as bare numbers, UTF-8 text."""

    def default(value: Any) -> Any:
        if isinstance(value, Decimal):
            return json_number(value)
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")

    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=default).encode()


def shopee_response(
    request_id: str,
    response: dict[str, Any] | None = None,
    *,
    flat: dict[str, Any] | None = None,
    warning: str | list[str] | None = None,
    status: int = 200,
) -> Response:
    """A successful Shopee answer: the envelope with ``response`` (or ``flat`` fields)."""
    body: dict[str, Any] = {"request_id": request_id, "error": "", "message": ""}
    if warning is not None:
        body["warning"] = warning
    if response is not None:
        body["response"] = response
    if flat:
        body.update(flat)
    return json_response(body, status, encode=shopee_json)


_BRACKETS = re.compile(r"^\s*\[(.*)\]\s*$")


def param_error(detail: str) -> ShopeeApiError:
    """Shopee's ``error_param`` for a business parameter: "Wrong parameters, detail: ..."."""
    return ShopeeApiError("error_param", f"Wrong parameters, detail: {detail}")


def array_param(request: Request, name: str, *, at_most: int | None = None) -> list[str]:
    """A list parameter in any form clients send: repeated keys, comma-joined, or bracketed
    (``[34001, 34002]``, ``['NORMAL']`` as Python's repr writes it).

    With ``at_most``, a list that is empty or longer is refused with ``error_param``.
    """
    values: list[str] = []
    for raw in request.query_params.getlist(name):
        match = _BRACKETS.match(raw)
        text = match.group(1) if match else raw
        values += [part.strip().strip("'\"") for part in text.split(",")]
    found = [value for value in values if value]
    if at_most is not None and not 1 <= len(found) <= at_most:
        raise param_error(f"{name} size should be in [1, {at_most}].")
    return found


def int_param(
    request: Request, name: str, *, required: bool = False, default: int | None = None
) -> int | None:
    """An integer query parameter; ``error_param`` when missing (if required) or not a number."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        if required:
            raise param_error(f"{name} is required.")
        return default
    try:
        return int(raw)
    except ValueError:
        raise param_error(f"{name} must be an integer.") from None


def int_id(value: Any) -> int:
    """An id given in a JSON body (``item_id``, ``model_id``): an integer, or ``error_param``
    (a boolean is not an id, though Python counts it as one)."""
    if isinstance(value, bool):
        raise param_error("ids must be integers.")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise param_error(f"{value!r} is not an integer id.") from None


async def read_body(request: Request) -> dict[str, Any]:
    """The JSON body of a POST, numbers kept exact; ``error_param`` when it is not JSON."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw, parse_float=Decimal)
    except ValueError:
        raise param_error("body is not JSON.") from None
    if not isinstance(data, dict):
        raise param_error("body must be an object.")
    return data


def verify_call(
    request: Request,
    *,
    signer: Signer,
    now: float,
    policy: GatewayPolicy,
    check_token: Callable[[str, int], None],
) -> Caller:
    """Check the common parameters, timestamp and signature of a call; return who made it.

    ``check_token(access_token, shop_id)`` raises :class:`ShopeeApiError` for a refused
    token. The checks run in the gateway's order: presence, partner, timestamp, signature,
    token.
    """
    query = request.query_params
    path = request.url.path
    kind = kind_for_path(path)

    def missing(name: str) -> ShopeeApiError:
        return policy.error(
            "error_param", f"There is no {name} in query.", kind="error_param_common"
        )

    partner_raw = query.get("partner_id")
    if not partner_raw:
        raise missing("partner_id")
    try:
        partner_id = int(partner_raw)
    except ValueError:
        raise policy.error("invalid_partner_id", "Invalid partner_id.") from None
    if partner_id != signer.partner_id:
        raise policy.error("invalid_partner_id", "Invalid partner_id.")
    stamp = query.get("timestamp")
    if not stamp:
        raise missing("timestamp")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise policy.error("error_param", "Invalid timestamp.", kind="error_timestamp") from None
    if abs(int(now) - timestamp) > policy.timestamp_window:
        raise policy.error("error_param", "Timestamp is expired.", kind="error_timestamp")
    sign = query.get("sign")
    if not sign:
        raise missing("sign")
    access_token: str | None = None
    shop_id: int | None = None
    if kind is SignatureKind.PUBLIC:
        expected = signer.sign(path, timestamp)
    else:
        access_token, shop_id = _owner(query, kind, policy, missing)
        if kind is SignatureKind.MERCHANT:
            expected = signer.sign(path, timestamp, access_token=access_token, merchant_id=shop_id)
        else:
            expected = signer.sign(path, timestamp, access_token=access_token, shop_id=shop_id)
    if not hmac.compare_digest(sign.lower(), expected):
        raise policy.error("error_sign", "Wrong sign.")
    if access_token is not None and shop_id is not None:
        check_token(access_token, shop_id)
    return Caller(partner_id=partner_id, kind=kind, shop_id=shop_id, access_token=access_token)


def _owner(
    query: Any,
    kind: SignatureKind,
    policy: GatewayPolicy,
    missing: Callable[[str], ShopeeApiError],
) -> tuple[str, int]:
    """The access token and shop (or merchant) id a shop-level call carries."""
    access_token = query.get("access_token")
    if not access_token:
        raise missing("access_token")
    owner = "merchant_id" if kind is SignatureKind.MERCHANT else "shop_id"
    owner_raw = query.get(owner)
    if not owner_raw:
        raise missing(owner)
    try:
        return str(access_token), int(owner_raw)
    except ValueError:
        raise policy.error("error_param", f"Invalid {owner}.", kind="error_param_common") from None
