"""Signed calls to the Shopee Open Platform over omnisdk's shared HTTP layer.

:class:`ShopeeClient` adds the common parameters and a fresh signature to every attempt (an
:class:`httpx.Auth`, so a retry after a 5xx is signed again with a new timestamp), reads the
JSON body with exact decimals, and handles a refused access token the way Shopee needs: one
refresh, then one retry. Everything else (rate budget, retries of transient failures, typed
errors, redaction) is :class:`omnisdk.http.HttpClient`'s job.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from datetime import datetime
from typing import Any, Protocol

import httpx

from omnisdk.errors import PlatformUnavailable
from omnisdk.http import HttpClient, Lane
from omnisdk_shopee.errors import ShopeeAuthError, parse_body
from omnisdk_shopee.signing import SignatureKind, Signer, kind_for_path

__all__ = ["Clock", "ShopeeClient", "SigningAuth", "TokenSource", "query_list"]

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
