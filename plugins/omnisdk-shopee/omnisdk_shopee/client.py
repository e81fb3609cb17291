"""Signed calls to the Shopee Open Platform over omnisdk's shared HTTP layer.

:class:`ShopeeClient` adds the common parameters and a fresh signature to every attempt (an
:class:`httpx.Auth`, so a retry after a 5xx is signed again with a new timestamp), reads the
JSON body with exact decimals, and handles a refused access token the way Shopee needs: one
refresh, then one retry. Everything else (rate budget, retries of transient failures, typed
errors, redaction) is :class:`omnisdk.http.HttpClient`'s job.

Signatures (:class:`Signer`, Open Platform API v2). Every call carries ``partner_id``,
``timestamp`` (unix seconds) and ``sign`` in its query string; shop calls add ``access_token``
and ``shop_id``, merchant calls ``access_token`` and ``merchant_id``. ``sign`` is the lowercase
hex HMAC-SHA256, keyed with the partner key string (UTF-8, not hex-decoded), of a base string
made of those fields only — never the request's other parameters or body::

    public    f"{partner_id}{path}{timestamp}"
    shop      f"{partner_id}{path}{timestamp}{access_token}{shop_id}"
    merchant  f"{partner_id}{path}{timestamp}{access_token}{merchant_id}"

``path`` is the API path alone (``/api/v2/product/get_item_list``): no host, no query string.

Push deliveries carry an ``Authorization`` header: the lowercase hex HMAC-SHA256, with the same
key, of ``callback_url + "|" + raw_body``, where ``callback_url`` is exactly the URL registered
with Shopee and ``raw_body`` the bytes received.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import httpx

from omnisdk.errors import PlatformUnavailable
from omnisdk.http import HttpClient, Lane
from omnisdk_shopee.errors import ShopeeAuthError, parse_body

__all__ = [
    "PUBLIC_PATH_PREFIXES",
    "TIMESTAMP_VALIDITY_SECONDS",
    "Clock",
    "ShopeeClient",
    "SignatureKind",
    "Signer",
    "SigningAuth",
    "TokenSource",
    "base_string",
    "hmac_sha256_hex",
    "kind_for_path",
    "push_signature",
    "query_list",
    "verify_push_signature",
]

# -- signatures ------------------------------------------------------------------------

TIMESTAMP_VALIDITY_SECONDS = 300
"""How long a signed timestamp stays valid: Shopee says it "expires in 5 minutes"."""

PUBLIC_PATH_PREFIXES: tuple[str, ...] = (
    "/api/v2/auth/",
    "/api/v2/shop/auth_partner",
    "/api/v2/shop/cancel_auth_partner",
    "/api/v2/public/",
    "/api/v2/push/",
)
"""Paths signed with the short (public) base string."""


class SignatureKind(enum.StrEnum):
    """Which base string a call is signed with."""

    PUBLIC = "public"
    """Partner-level calls: authorisation, token exchange and refresh, push configuration."""
    SHOP = "shop"
    """Calls on one shop: products, orders, logistics..."""
    MERCHANT = "merchant"
    """Calls on a main (merchant) account: ``merchant_id`` takes ``shop_id``'s place."""


def kind_for_path(path: str) -> SignatureKind:
    """The signature kind Shopee expects for ``path`` (public or shop).

    Merchant calls cannot be told from the path alone; ask for them explicitly.
    """
    if path.startswith(PUBLIC_PATH_PREFIXES):
        return SignatureKind.PUBLIC
    if path.startswith("/api/v2/merchant/"):
        return SignatureKind.MERCHANT
    return SignatureKind.SHOP


def base_string(
    partner_id: int,
    path: str,
    timestamp: int,
    *,
    access_token: str | None = None,
    shop_id: int | None = None,
    merchant_id: int | None = None,
) -> str:
    """The string Shopee signs for one call.

    With no ``access_token`` the public form; with ``shop_id`` the shop form; with
    ``merchant_id`` the merchant form. Raises ``ValueError`` for an impossible combination.
    """
    if "?" in path or not path.startswith("/"):
        raise ValueError(f"sign the API path alone (like /api/v2/shop/get_shop_info), got {path!r}")
    public = f"{int(partner_id)}{path}{int(timestamp)}"
    if access_token is None:
        if shop_id is not None or merchant_id is not None:
            raise ValueError("a shop or merchant signature needs the access token")
        return public
    if shop_id is not None and merchant_id is None:
        return f"{public}{access_token}{int(shop_id)}"
    if merchant_id is not None and shop_id is None:
        return f"{public}{access_token}{int(merchant_id)}"
    raise ValueError("an access-token signature needs exactly one of shop_id and merchant_id")


def hmac_sha256_hex(key: str, message: bytes | str) -> str:
    """Lowercase hex HMAC-SHA256 of ``message`` keyed with the UTF-8 bytes of ``key``."""
    data = message.encode("utf-8") if isinstance(message, str) else message
    return hmac.new(key.encode("utf-8"), data, hashlib.sha256).hexdigest()


def push_signature(partner_key: str, callback_url: str, body: bytes) -> str:
    """The ``Authorization`` value Shopee sends with a push to ``callback_url``."""
    return hmac_sha256_hex(partner_key, callback_url.encode("utf-8") + b"|" + body)


def verify_push_signature(
    partner_key: str, callback_url: str, body: bytes, authorization: str | None
) -> bool:
    """True when ``authorization`` is the push signature of ``body`` (constant-time compare)."""
    if not authorization:
        return False
    expected = push_signature(partner_key, callback_url, body)
    return hmac.compare_digest(expected, authorization.strip().lower())


@dataclass(frozen=True)
class Signer:
    """Signs calls for one partner (app). The key never shows in its repr."""

    partner_id: int
    partner_key: str = field(repr=False)

    def sign(
        self,
        path: str,
        timestamp: int,
        *,
        access_token: str | None = None,
        shop_id: int | None = None,
        merchant_id: int | None = None,
    ) -> str:
        """The ``sign`` query parameter for a call to ``path`` at ``timestamp``."""
        base = base_string(
            self.partner_id,
            path,
            timestamp,
            access_token=access_token,
            shop_id=shop_id,
            merchant_id=merchant_id,
        )
        return hmac_sha256_hex(self.partner_key, base)

    def common_params(
        self,
        path: str,
        timestamp: int,
        *,
        access_token: str | None = None,
        shop_id: int | None = None,
        merchant_id: int | None = None,
    ) -> dict[str, str]:
        """The common query parameters (``partner_id``, ``timestamp``, ``sign``, and
        ``access_token`` with ``shop_id`` or ``merchant_id``) for one call."""
        params = {"partner_id": str(self.partner_id), "timestamp": str(int(timestamp))}
        if access_token is not None:
            params["access_token"] = access_token
            if shop_id is not None:
                params["shop_id"] = str(shop_id)
            if merchant_id is not None:
                params["merchant_id"] = str(merchant_id)
        params["sign"] = self.sign(
            path, timestamp, access_token=access_token, shop_id=shop_id, merchant_id=merchant_id
        )
        return params

    def push_signature(self, callback_url: str, body: bytes) -> str:
        """The ``Authorization`` header of a push of ``body`` to ``callback_url``."""
        return push_signature(self.partner_key, callback_url, body)

    def verify_push(self, callback_url: str, body: bytes, authorization: str | None) -> bool:
        """True when ``authorization`` signs ``body`` for ``callback_url``."""
        return verify_push_signature(self.partner_key, callback_url, body, authorization)


# -- signed calls ----------------------------------------------------------------------

Clock = Callable[[], datetime]
"""Returns the current time (aware); the source of every signed timestamp."""


class TokenSource(Protocol):
    """Where the client gets the shop's access token, and how it asks for a new one."""

    @property
    def shop_id(self) -> int:
        """The shop the calls are for."""

    async def current_access_token(self) -> str:
        """The access token to use now (refreshed first when due)."""

    async def refused_access_token(self, refused: str) -> str:
        """Shopee refused ``refused``: refresh (once, under the lock) and return the new one."""


_QueryValue = str | int | float | bool | None


def query_list(values: Mapping[str, Any] | None) -> list[tuple[str, _QueryValue]]:
    """Business query parameters as pairs; a list value repeats its key (``item_status``)."""
    pairs: list[tuple[str, _QueryValue]] = []
    for name, value in (values or {}).items():
        if value is None:
            continue
        items = value if isinstance(value, list | tuple) else [value]
        for item in items:
            if isinstance(item, bool):
                pairs.append((name, "true" if item else "false"))
            else:
                pairs.append((name, str(item)))
    return pairs


class SigningAuth(httpx.Auth):
    """Adds ``partner_id``, ``timestamp``, ``sign`` (and ``access_token`` with ``shop_id``) to a
    request, with the timestamp read when the attempt is sent."""

    def __init__(
        self,
        signer: Signer,
        path: str,
        kind: SignatureKind,
        clock: Clock,
        *,
        access_token: str | None = None,
        owner_id: int | None = None,
    ) -> None:
        self._signer = signer
        self._path = path
        self._kind = kind
        self._clock = clock
        self._access_token = access_token
        self._owner_id = owner_id

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Sign ``request`` now."""
        timestamp = int(self._clock().timestamp())
        if self._kind is SignatureKind.PUBLIC:
            common = self._signer.common_params(self._path, timestamp)
        elif self._kind is SignatureKind.MERCHANT:
            common = self._signer.common_params(
                self._path, timestamp, access_token=self._access_token, merchant_id=self._owner_id
            )
        else:
            common = self._signer.common_params(
                self._path, timestamp, access_token=self._access_token, shop_id=self._owner_id
            )
        business = [(k, v) for k, v in request.url.params.multi_items() if k not in common]
        request.url = request.url.copy_with(params=httpx.QueryParams([*common.items(), *business]))
        yield request


class ShopeeClient:
    """Signed JSON calls to one Shopee shop, through the account's :class:`HttpClient`."""

    def __init__(
        self, http: HttpClient, signer: Signer, tokens: TokenSource, *, clock: Clock
    ) -> None:
        self.http = http
        self.signer = signer
        self.tokens = tokens
        self.clock = clock

    async def get(
        self, path: str, params: Mapping[str, Any] | None = None, *, lane: Lane = Lane.DEFAULT
    ) -> dict[str, Any]:
        """GET ``path`` with ``params`` in the query string; the decoded body."""
        return await self.call("GET", path, params=params, lane=lane)

    async def post(
        self,
        path: str,
        body: Mapping[str, Any],
        *,
        lane: Lane = Lane.DEFAULT,
        kind: SignatureKind | None = None,
        retry: bool = True,
    ) -> dict[str, Any]:
        """POST ``body`` as JSON to ``path``; the decoded body. ``retry=False`` for a call
        that must not be repeated after a lost answer (see :class:`omnisdk.http.HttpClient`)."""
        return await self.call("POST", path, body=body, lane=lane, kind=kind, retry=retry)

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        lane: Lane = Lane.DEFAULT,
        kind: SignatureKind | None = None,
        retry: bool = True,
    ) -> dict[str, Any]:
        """Send one signed call and return its decoded JSON body (``error`` is empty).

        Shop calls whose access token Shopee refuses (``error_auth``, ``invalid_acceess_token``)
        are retried once after a refresh. Errors are those of :mod:`omnisdk_shopee.errors`.
        """
        kind = kind or kind_for_path(path)
        if kind is SignatureKind.PUBLIC:
            auth = SigningAuth(self.signer, path, kind, self.clock)
            return await self._send(method, path, params, body, lane, auth, retry)
        token = await self.tokens.current_access_token()
        for attempt in (1, 2):
            auth = SigningAuth(
                self.signer,
                path,
                kind,
                self.clock,
                access_token=token,
                owner_id=self.tokens.shop_id,
            )
            try:
                return await self._send(method, path, params, body, lane, auth, retry)
            except ShopeeAuthError as exc:
                if not exc.token_refused or attempt == 2:
                    raise
                token = await self.tokens.refused_access_token(token)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Mapping[str, Any] | None,
        lane: Lane,
        auth: httpx.Auth,
        retry: bool,
    ) -> dict[str, Any]:
        response = await self.http.request(
            method,
            path,
            params=httpx.QueryParams(query_list(params)),
            json=dict(body) if body is not None else None,
            lane=lane,
            auth=auth,
            retry=retry,
        )
        try:
            decoded = parse_body(response.content)
        except ValueError:
            raise PlatformUnavailable(
                f"{path} answered with a body that is not JSON",
                channel=self.http.channel,
                account=self.http.account,
                status=response.status_code,
            ) from None
        if not isinstance(decoded, dict):
            raise PlatformUnavailable(
                f"{path} answered with JSON that is not an object",
                channel=self.http.channel,
                account=self.http.account,
                status=response.status_code,
            )
        return decoded
