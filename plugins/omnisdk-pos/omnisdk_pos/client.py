"""Calls to the KiotViet Public API over omnisdk's shared HTTP layer.

Every call carries ``Retailer: <name>`` and ``Authorization: Bearer <token>``; writes send
JSON. A 401 makes the client fetch a new token once and repeat the call (the token may have
been revoked or expired early). Lists are offset-paged: ``pageSize`` (at most 100) and
``currentItem`` (0-based), answered ``{"total", "pageSize", "data", "timestamp"}``;
:meth:`KiotVietClient.pages` walks them, stopping at ``total`` or at a short page, and
refusing to loop when the platform stops moving.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

import httpx

from omnisdk.errors import BadRequest, PlatformUnavailable
from omnisdk.http import HttpClient, Lane
from omnisdk_pos.errors import KiotVietAuthError, parse_body

__all__ = ["PAGE_SIZE", "KiotVietClient", "Page", "TokenSource", "query_params"]

PAGE_SIZE = 100
"""The largest ``pageSize`` KiotViet accepts."""


class TokenSource(Protocol):
    """Where the client gets its access token."""

    async def current_access_token(self) -> str:
        """The token to use now (fetched or renewed first when due)."""

    async def refused_access_token(self, refused: str) -> str:
        """KiotViet refused ``refused``: fetch a new one (once, under the lock)."""


def query_params(
    values: Mapping[str, Any] | None,
) -> list[tuple[str, str | int | float | bool | None]]:
    """Query parameters: booleans as ``true``/``false``, lists comma-joined (``branchIds=1,2``)."""
    pairs: list[tuple[str, str | int | float | bool | None]] = []
    for name, value in (values or {}).items():
        if value is None:
            continue
        if isinstance(value, bool):
            pairs.append((name, "true" if value else "false"))
        elif isinstance(value, list | tuple):
            pairs.append((name, ",".join(str(v) for v in value)))
        else:
            pairs.append((name, str(value)))
    return pairs


class Page:
    """One page of a list: its rows, the total and KiotViet's ``timestamp``."""

    def __init__(self, body: dict[str, Any]) -> None:
        data = body.get("data") or []
        if not isinstance(data, list):
            raise BadRequest("a KiotViet list's data is not a list", code="bad_page")
        self.rows: list[dict[str, Any]] = [row for row in data if isinstance(row, dict)]
        self.total = int(body.get("total") or 0)
        self.timestamp: str | None = body.get("timestamp")
        self.body = body


class KiotVietClient:
    """JSON calls to one KiotViet retailer through the account's :class:`HttpClient`."""

    def __init__(self, http: HttpClient, tokens: TokenSource, retailer: str) -> None:
        self.http = http
        self.tokens = tokens
        self.retailer = retailer

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        lane: Lane = Lane.DEFAULT,
    ) -> Any:
        """Send one call; its decoded JSON. A refused token is renewed once."""
        token = await self.tokens.current_access_token()
        for attempt in (1, 2):
            headers = {"Retailer": self.retailer, "Authorization": f"Bearer {token}"}
            try:
                response = await self.http.request(
                    method,
                    path,
                    params=httpx.QueryParams(query_params(params)),
                    json=dict(body) if body is not None else None,
                    headers=headers,
                    lane=lane,
                )
            except KiotVietAuthError:
                if attempt == 2:
                    raise
                token = await self.tokens.refused_access_token(token)
                continue
            try:
                return parse_body(response.content) if response.content.strip() else {}
            except ValueError:
                raise PlatformUnavailable(
                    f"{path} answered with a body that is not JSON",
                    channel=self.http.channel,
                    account=self.http.account,
                    status=response.status_code,
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def get(
        self, path: str, params: Mapping[str, Any] | None = None, *, lane: Lane = Lane.DEFAULT
    ) -> Any:
        """GET ``path``."""
        return await self.call("GET", path, params=params, lane=lane)

    async def pages(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        lane: Lane = Lane.DEFAULT,
        page_size: int = PAGE_SIZE,
    ) -> AsyncIterator[Page]:
        """Every page of list ``path`` (``currentItem`` += ``pageSize`` while < ``total``)."""
        offset = 0
        while True:
            body = await self.get(
                path, {**(params or {}), "pageSize": page_size, "currentItem": offset}, lane=lane
            )
            if not isinstance(body, dict):
                raise BadRequest(f"{path} answered a list that is not an object", code="bad_page")
            page = Page(body)
            yield page
            offset += len(page.rows)
            if not page.rows or offset >= page.total or len(page.rows) < page_size:
                return
