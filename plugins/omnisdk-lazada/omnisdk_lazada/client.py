"""Signed calls to the Lazada Open Platform (LazOP) over omnisdk's shared HTTP layer.

Signatures, exactly as Lazada's own Python SDK (``lazop_sdk.base.sign``) computes them:

1. take every parameter of the call, system (``app_key``, ``timestamp``, ``sign_method``,
   ``access_token``, ``partner_id``...) and business alike, except ``sign`` and files;
2. sort them by name in byte order and concatenate ``name + value``, no separators;
3. prefix the API path (``/orders/get``: no host, no ``/rest``);
4. HMAC-SHA256 keyed with the app secret (UTF-8), hex, **upper case**.

``timestamp`` is epoch milliseconds as a string; the gateway refuses one more than 7200 s
from its clock. A GET carries every parameter (``sign`` included) in the query string; a POST
carries them all in an ``application/x-www-form-urlencoded`` body and nothing in the query
string, as the SDK sends them.

Pushes are signed differently: the ``Authorization`` header is the **lower-case** hex
HMAC-SHA256, same key, of ``app_key + raw_body`` (:func:`push_signature`).

:class:`LazadaClient` signs every attempt afresh (an :class:`httpx.Auth`, so a retry after a
5xx carries a new timestamp), decodes the JSON with exact decimals and, when Lazada refuses
the access token, refreshes it once and tries once more.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlencode

import httpx

from omnisdk.errors import PlatformUnavailable
from omnisdk.http import HttpClient, Lane
from omnisdk_lazada.errors import LazadaAuthError, parse_body

__all__ = [
    "PARTNER_ID",
    "SIGN_METHOD",
    "TIMESTAMP_WINDOW_SECONDS",
    "Clock",
    "LazadaClient",
    "Signer",
    "SigningAuth",
    "TokenSource",
    "base_string",
    "push_signature",
    "sign",
    "text_value",
    "timestamp_ms",
    "verify_push_signature",
]

SIGN_METHOD = "sha256"
"""The only ``sign_method`` the SDK sends."""

PARTNER_ID = "lazop-sdk-python-20181207"
"""The ``partner_id`` Lazada's Python SDK adds to (and signs in) every call; sent likewise."""

TIMESTAMP_WINDOW_SECONDS = 7200
"""How far a signed timestamp may be from Lazada's clock."""


def text_value(value: Any) -> str:
    """A parameter value as the SDK writes it into the base string and the request (``str``),
    with booleans as JSON writes them (``true``/``false``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def base_string(api_path: str, params: Mapping[str, Any]) -> str:
    """The string Lazada signs: the API path, then ``name + value`` sorted by name.

    ``sign`` itself is left out. ``ValueError`` when ``api_path`` is not a bare API path.
    """
    if not api_path.startswith("/") or "?" in api_path:
        raise ValueError(f"sign the API path alone (like /orders/get), got {api_path!r}")
    names = sorted(name for name in params if name != "sign")
    return api_path + "".join(f"{name}{text_value(params[name])}" for name in names)


def sign(app_secret: str, api_path: str, params: Mapping[str, Any]) -> str:
    """The ``sign`` parameter of a call: upper-case hex HMAC-SHA256 of :func:`base_string`."""
    message = base_string(api_path, params).encode("utf-8")
    return hmac.new(app_secret.encode("utf-8"), message, hashlib.sha256).hexdigest().upper()


def push_signature(app_key: str, app_secret: str, body: bytes) -> str:
    """The ``Authorization`` of a push: lower-case hex HMAC-SHA256 of ``app_key + body``."""
    message = app_key.encode("utf-8") + body
    return hmac.new(app_secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify_push_signature(
    app_key: str, app_secret: str, body: bytes, authorization: str | None
) -> bool:
    """True when ``authorization`` signs the raw ``body`` (constant-time compare)."""
    if not authorization:
        return False
    expected = push_signature(app_key, app_secret, body)
    return hmac.compare_digest(expected, authorization.strip().lower())


def timestamp_ms(when: datetime) -> str:
    """``when`` as the SDK stamps a call: whole seconds, then ``000``."""
    return f"{round(when.timestamp())}000"


@dataclass(frozen=True)
class Signer:
    """Signs calls and pushes for one app. The secret never shows in its repr."""

    app_key: str
    app_secret: str = field(repr=False)

    def sign(self, api_path: str, params: Mapping[str, Any]) -> str:
        """The ``sign`` of a call to ``api_path`` with ``params``."""
        return sign(self.app_secret, api_path, params)

    def signed_params(
        self,
        api_path: str,
        business: Mapping[str, Any],
        *,
        timestamp: str,
        access_token: str | None = None,
    ) -> dict[str, str]:
        """Every parameter of one call, ``sign`` last, in the SDK's order."""
        params: dict[str, str] = {
            "app_key": self.app_key,
            "sign_method": SIGN_METHOD,
            "timestamp": timestamp,
            "partner_id": PARTNER_ID,
        }
        if access_token:
            params["access_token"] = access_token
        for name, value in business.items():
            if value is not None:
                params[name] = text_value(value)
        params["sign"] = self.sign(api_path, params)
        return params

    def push_signature(self, body: bytes) -> str:
        """The ``Authorization`` header of a push of ``body``."""
        return push_signature(self.app_key, self.app_secret, body)

    def verify_push(self, body: bytes, authorization: str | None) -> bool:
        """True when ``authorization`` signs ``body``."""
        return verify_push_signature(self.app_key, self.app_secret, body, authorization)


Clock = Callable[[], datetime]
"""Returns the current time (aware): the source of every signed timestamp."""


class TokenSource(Protocol):
    """Where the client gets the seller's access token, and how it asks for a new one."""

    async def current_access_token(self) -> str:
        """The access token to use now (refreshed first when due)."""

    async def refused_access_token(self, refused: str) -> str:
        """Lazada refused ``refused``: refresh (once, under the lock) and return the new one."""


class SigningAuth(httpx.Auth):
    """Puts the signed parameters into a request when the attempt is sent.

    GET: the query string. POST: a form body (the query string is emptied).
    """

    def __init__(
        self,
        signer: Signer,
        api_path: str,
        business: Mapping[str, Any],
        clock: Clock,
        *,
        access_token: str | None = None,
    ) -> None:
        self._signer = signer
        self._path = api_path
        self._business = dict(business)
        self._clock = clock
        self._access_token = access_token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Sign ``request`` now."""
        params = self._signer.signed_params(
            self._path,
            self._business,
            timestamp=timestamp_ms(self._clock()),
            access_token=self._access_token,
        )
        if request.method == "GET":
            request.url = request.url.copy_with(params=params)
            yield request
            return
        body = urlencode(params).encode("ascii")
        headers = {
            name: value
            for name, value in request.headers.items()
            if name.lower() not in ("content-length", "content-type", "transfer-encoding")
        }
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        signed = httpx.Request(
            request.method,
            request.url.copy_with(query=None),
            headers=headers,
            content=body,
            extensions=request.extensions,
        )
        yield signed


class LazadaClient:
    """Signed JSON calls for one Lazada seller, through the account's :class:`HttpClient`."""

    def __init__(
        self,
        http: HttpClient,
        signer: Signer,
        tokens: TokenSource,
        *,
        clock: Clock,
        auth_url: str,
    ) -> None:
        self.http = http
        self.signer = signer
        self.tokens = tokens
        self.clock = clock
        self.auth_url = auth_url.rstrip("/")

    async def get(
        self, path: str, params: Mapping[str, Any] | None = None, *, lane: Lane = Lane.DEFAULT
    ) -> dict[str, Any]:
        """GET ``path`` with ``params``; the decoded body (``code`` is ``"0"``)."""
        return await self.call("GET", path, params, lane=lane)

    async def post(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        lane: Lane = Lane.DEFAULT,
        retry: bool = True,
    ) -> dict[str, Any]:
        """POST ``params`` as a form to ``path``; ``retry=False`` for a call that must not be
        repeated after a lost answer (a stock delta, a single-use refresh token)."""
        return await self.call("POST", path, params, lane=lane, retry=retry)

    async def call(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        lane: Lane = Lane.DEFAULT,
        retry: bool = True,
    ) -> dict[str, Any]:
        """One signed seller call with the access token; a refused token is refreshed once
        and the call tried once more."""
        token = await self.tokens.current_access_token()
        for attempt in (1, 2):
            auth = SigningAuth(self.signer, path, params or {}, self.clock, access_token=token)
            try:
                return await self._send(method, path, auth, lane, retry)
            except LazadaAuthError as exc:
                if not exc.token_refused or attempt == 2:
                    raise
                token = await self.tokens.refused_access_token(token)
        raise AssertionError("unreachable")  # pragma: no cover

    async def call_auth(
        self, path: str, params: Mapping[str, Any], *, lane: Lane = Lane.ORDERS
    ) -> dict[str, Any]:
        """A token call (``/auth/token/create``, ``/auth/token/refresh``) on the auth host:
        signed without an access token, POSTed once (the code or refresh token it carries
        may be spent by a lost answer)."""
        auth = SigningAuth(self.signer, path, params, self.clock)
        return await self._send("POST", self.auth_url + path, auth, lane, False, api_path=path)

    async def _send(
        self,
        method: str,
        url: str,
        auth: httpx.Auth,
        lane: Lane,
        retry: bool,
        *,
        api_path: str | None = None,
    ) -> dict[str, Any]:
        response = await self.http.request(
            method,
            url,
            content=b"" if method == "POST" else None,
            lane=lane,
            auth=auth,
            retry=retry,
        )
        try:
            decoded = parse_body(response.content)
        except ValueError:
            raise PlatformUnavailable(
                f"{api_path or url} answered with a body that is not JSON",
                channel=self.http.channel,
                account=self.http.account,
                status=response.status_code,
            ) from None
        if not isinstance(decoded, dict):
            raise PlatformUnavailable(
                f"{api_path or url} answered with JSON that is not an object",
                channel=self.http.channel,
                account=self.http.account,
                status=response.status_code,
            )
        return decoded
