"""Transport for one shop: GraphQL and REST calls over :class:`omnisdk.http.HttpClient`.

What it adds to the shared HTTP layer:

- the ``X-Shopify-Access-Token`` header on every call, with one retry after a forced token
  refresh when Shopify answers 401 (client-credentials tokens expire);
- the GraphQL cost throttle (:class:`CostThrottle`): wait for the bucket before a query
  (a ``THROTTLED`` answer becomes :class:`~omnisdk.errors.RateLimited` with the wait it asks
  for, :mod:`omnisdk_shopify.errors`, so the HTTP layer retries it after exactly that long);
- GraphQL ``errors`` as typed exceptions (top-level errors are failures; business failures
  are ``userErrors`` that the caller reads);
- REST ``Link`` pagination (the next URL followed verbatim) and the
  ``X-Shopify-Shop-Api-Call-Limit`` header (slow down before the bucket overflows);
- bulk-operation result files streamed line by line, never loaded whole.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import httpx

from omnisdk.errors import AuthError, BadRequest, PlatformUnavailable
from omnisdk.http import HttpClient, Lane
from omnisdk.jsonlines import LineSplitter, loads
from omnisdk_shopify.errors import graphql_error
from omnisdk_shopify.queries import MAX_QUERY_COST

__all__ = ["CostThrottle", "ShopifyClient", "next_link"]

logger = logging.getLogger("omnisdk_shopify.client")

TokenSource = Callable[[], Awaitable[str]]
Refresher = Callable[[], Awaitable[None]]


def next_link(header: str | None) -> str | None:
    """The ``rel="next"`` URL of a REST ``Link`` header, verbatim (None on the last page)."""
    for part in (header or "").split(","):
        url, _, rel = part.strip().partition(";")
        if rel.strip().replace(" ", "") == 'rel="next"':
            return url.strip().removeprefix("<").removesuffix(">")
    return None


def _call_limit(header: str | None) -> tuple[int, int] | None:
    used, _, size = (header or "").partition("/")
    try:
        return int(used), int(size)
    except ValueError:
        return None


# -- the GraphQL cost throttle -----------------------------------------------------------
#
# Every GraphQL answer reports the bucket in ``extensions.cost.throttleStatus``
# (``maximumAvailable``, ``currentlyAvailable``, ``restoreRate``). CostThrottle keeps the
# latest report, predicts the bucket from it (it refills at ``restoreRate`` points per second)
# and makes a query wait until its expected cost fits, so the client rarely meets a
# ``THROTTLED`` answer.


class CostThrottle:
    """The client's model of one shop's GraphQL cost bucket (one per channel account)."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._maximum: float | None = None
        self._available = 0.0
        self._restore = 0.0
        self._seen_at = 0.0
        self._costs: dict[str, float] = {}
        self.waited = 0.0
        """Seconds spent waiting for the bucket (for tests and metrics)."""

    def expected_cost(self, key: str) -> float:
        """What a query was charged last time (0 until it has been sent once)."""
        return self._costs.get(key, 0.0)

    def available_now(self) -> float | None:
        """The predicted points in the bucket now (None before the first report)."""
        if self._maximum is None:
            return None
        elapsed = max(0.0, self._clock() - self._seen_at)
        return min(self._maximum, self._available + elapsed * self._restore)

    async def wait_for(self, key: str) -> None:
        """Sleep until the query known as ``key`` is expected to fit in the bucket."""
        needed = min(self.expected_cost(key), MAX_QUERY_COST)
        available = self.available_now()
        if available is None or self._maximum is None or self._restore <= 0:
            return
        needed = min(needed, self._maximum)
        if available >= needed:
            return
        delay = (needed - available) / self._restore
        self.waited += delay
        await self._sleep(delay)

    def observe(self, key: str, extensions: Any) -> None:
        """Take in a response's ``extensions`` (cost charged and bucket state)."""
        cost = extensions.get("cost") if isinstance(extensions, dict) else None
        if not isinstance(cost, dict):
            return
        requested = cost.get("requestedQueryCost")
        if isinstance(requested, int | float):
            self._costs[key] = float(requested)
        status = cost.get("throttleStatus")
        if isinstance(status, dict):
            try:
                self._maximum = float(status["maximumAvailable"])
                self._available = float(status["currentlyAvailable"])
                self._restore = float(status["restoreRate"])
            except (KeyError, TypeError, ValueError):
                return
            self._seen_at = self._clock()


class ShopifyClient:
    """GraphQL and REST for one shop (see the module docstring).

    ``token`` returns the access token to send (refreshed as needed); ``refresh`` forces a new
    one after a 401 (None when the token cannot be refreshed). ``transport`` is used for bulk
    downloads, which go to a signed storage URL rather than the Admin API.
    """

    def __init__(
        self,
        http: HttpClient,
        *,
        api_version: str,
        token: TokenSource,
        refresh: Refresher | None = None,
        throttle: CostThrottle | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        max_attempts: int = 5,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rest_leak_rate: float = 2.0,
    ) -> None:
        self.http = http
        self.api_version = api_version
        self.throttle = throttle or CostThrottle(sleep=sleep)
        self._token = token
        self._refresh = refresh
        self._transport = transport
        self._timeout = timeout
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._rest_leak_rate = rest_leak_rate
        self._downloads: httpx.AsyncClient | None = None

    @property
    def prefix(self) -> str:
        """``/admin/api/{version}``."""
        return f"/admin/api/{self.api_version}"

    async def aclose(self) -> None:
        """Close the download client (the HttpClient belongs to the channel)."""
        if self._downloads is not None:
            await self._downloads.aclose()
            self._downloads = None

    async def _send(self, method: str, url: str, *, lane: Lane, **options: Any) -> httpx.Response:
        for attempt in (1, 2):
            headers = {"X-Shopify-Access-Token": await self._token(), "Accept": "application/json"}
            try:
                return await self.http.request(method, url, lane=lane, headers=headers, **options)
            except AuthError as exc:
                if attempt == 2 or self._refresh is None or exc.status != 401:
                    raise
                logger.info(
                    "%s/%s: access token refused, fetching a new one",
                    self.http.channel,
                    self.http.account,
                )
                await self._refresh()
        raise AssertionError("unreachable")  # pragma: no cover

    # -- GraphQL ---------------------------------------------------------------------------

    async def graphql(
        self,
        document: str,
        variables: Mapping[str, Any] | None = None,
        *,
        lane: Lane = Lane.DEFAULT,
        retry: bool = True,
    ) -> dict[str, Any]:
        """Run one GraphQL operation and return its ``data``.

        ``retry=False`` for a mutation that is not safe to repeat: after a time-out or a lost
        connection it is not sent again (the caller finds out whether it acted); throttling
        and refused connections, which surely did not reach Shopify, are still retried.
        Waits for the cost bucket first. Top-level ``errors`` raise
        :class:`~omnisdk.errors.BadRequest` (``code`` from ``extensions.code``), or
        :class:`~omnisdk.errors.AuthError` for access errors.
        """
        key = hashlib.sha1(document.encode(), usedforsecurity=False).hexdigest()
        await self.throttle.wait_for(key)
        response = await self._send(
            "POST",
            f"{self.prefix}/graphql.json",
            lane=lane,
            json={"query": document, "variables": dict(variables or {})},
            retry=retry,
        )
        try:
            body = response.json()
        except ValueError:
            raise PlatformUnavailable(
                "GraphQL answer is not JSON", channel=self.http.channel, account=self.http.account
            ) from None
        self.throttle.observe(key, body.get("extensions") if isinstance(body, dict) else None)
        if not isinstance(body, dict):
            raise BadRequest(
                "GraphQL answer is not an object",
                channel=self.http.channel,
                account=self.http.account,
            )
        if body.get("errors"):
            raise graphql_error(
                body,
                status=response.status_code,
                channel=self.http.channel,
                account=self.http.account,
            )
        data = body.get("data")
        if not isinstance(data, dict):
            raise BadRequest(
                "GraphQL answer has no data", channel=self.http.channel, account=self.http.account
            )
        return data

    # -- REST ------------------------------------------------------------------------------

    async def rest(
        self,
        method: str,
        path: str,
        *,
        lane: Lane = Lane.DEFAULT,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
    ) -> Any:
        """One REST call (``path`` relative to ``/admin/api/{version}``); the decoded body."""
        response = await self._send(
            method, f"{self.prefix}/{path.lstrip('/')}", lane=lane, params=params, json=json_body
        )
        await self._respect_call_limit(response)
        return response.json() if response.content else {}

    async def rest_pages(
        self,
        path: str,
        key: str,
        *,
        params: Mapping[str, Any] | None = None,
        lane: Lane = Lane.DEFAULT,
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Every page of a REST list, following ``Link: rel="next"`` URLs verbatim."""
        url: str | None = f"{self.prefix}/{path.lstrip('/')}"
        query: Mapping[str, Any] | None = params
        while url is not None:
            response = await self._send("GET", url, lane=lane, params=query)
            await self._respect_call_limit(response)
            page = response.json().get(key)
            if not isinstance(page, list):
                raise BadRequest(
                    f"REST answer for {path} has no {key!r} list",
                    channel=self.http.channel,
                    account=self.http.account,
                )
            yield page
            url, query = next_link(response.headers.get("link")), None

    async def _respect_call_limit(self, response: httpx.Response) -> None:
        limit = _call_limit(response.headers.get("x-shopify-shop-api-call-limit"))
        if limit is None:
            return
        used, size = limit
        headroom = max(2, size // 10)
        if used >= size - headroom:
            # Let the bucket leak below the headroom instead of running into a 429.
            await self._sleep((used - (size - headroom) + 1) / self._rest_leak_rate)

    # -- bulk result files -----------------------------------------------------------------

    async def download_batches(self, url: str) -> AsyncIterator[list[Any]]:
        """Stream a bulk operation's JSONL file: the decoded objects of each chunk's lines.

        The file is read as a stream of byte chunks, never held whole, and cut on ``b"\\n"``
        only (:class:`omnisdk.jsonlines.LineSplitter`): JSON text may hold U+2028, U+0085
        and the like raw, which a text line splitter (``str.splitlines``, httpx's
        ``aiter_lines``) would take for line ends. Objects come a chunk's worth at a time
        (one step of the stream per chunk, not per line). A transfer that breaks is re-opened
        and resumes after the last line already yielded.
        """
        if self._downloads is None:
            self._downloads = httpx.AsyncClient(transport=self._transport, timeout=self._timeout)
        done = 0
        attempt = 0
        while True:
            attempt += 1
            try:
                async with self._downloads.stream("GET", url) as response:
                    if response.status_code >= 400:
                        detail = f"bulk result download answered HTTP {response.status_code}"
                        if response.status_code < 500 and response.status_code != 429:
                            raise BadRequest(
                                detail,
                                channel=self.http.channel,
                                account=self.http.account,
                                status=response.status_code,
                            )
                        raise PlatformUnavailable(
                            detail, channel=self.http.channel, account=self.http.account
                        )
                    seen = 0
                    splitter = LineSplitter()
                    async for chunk in response.aiter_bytes():
                        lines = splitter.feed(chunk)
                        if seen + len(lines) > done:
                            fresh = lines[max(done - seen, 0) :]
                            seen += len(lines)
                            done = seen
                            yield [loads(line) for line in fresh]
                        else:
                            seen += len(lines)
                    last = splitter.end()
                    if last and seen + 1 > done:
                        done = seen + 1
                        yield [loads(last[0])]
                return
            except (httpx.TransportError, PlatformUnavailable) as exc:
                if attempt >= self._max_attempts:
                    raise PlatformUnavailable(
                        f"bulk result download failed after {attempt} attempts: "
                        f"{type(exc).__name__}",
                        channel=self.http.channel,
                        account=self.http.account,
                    ) from None
                await self._sleep(min(0.2 * 2**attempt, 10.0))
