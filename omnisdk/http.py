"""The one HTTP layer every channel plugin shares.

An :class:`HttpClient` talks to one platform for one account. It keeps one
:class:`httpx.AsyncClient` (connection reuse, keep-alive, HTTP/1.1), spends the account's
rate budget (:class:`RateLimiter`, by priority :class:`Lane`) on every attempt, retries
transient failures with tenacity (exponential back-off with jitter, ``Retry-After`` honoured),
turns failures into the typed errors of :mod:`omnisdk.errors`, and logs every attempt with
secrets redacted::

    async with HttpClient(base_url="https://partner.shopeemobile.com", channel="shopee",
                          account="shop-hcm", rate=RateBudget(requests_per_second=10, burst=10),
                          secrets=[partner_key], error_mapper=shopee_errors) as http:
        response = await http.get("/api/v2/order/get_order_list", lane=Lane.ORDERS,
                                  params={...})

What is retried: connection failures, time-outs, dropped connections, HTTP 5xx, 408 and 429,
and any error the plugin's :data:`ErrorMapper` returns whose ``retryable`` is true.

**POST is retried too, by default.** Platform APIs use POST for reads (GraphQL, Shopee's
auth calls) and omnisdk's writes are safe to repeat: stock and price pushes carry absolute
values, compare-and-swap guards or idempotency keys. A caller whose request is *not* safe to
repeat passes ``retry=False``; a non-idempotent method (POST, PATCH) is then retried only when
the failure surely happened before the platform processed it: the connection could not be
opened, or the platform refused with 429. Idempotent methods (GET, HEAD, OPTIONS, PUT,
DELETE) are always safe to repeat. ``max_attempts=1`` turns retrying off for one request.

**One attempt for a block of calls.** Inside ``with single_attempt():`` every request is tried
once, whatever its method, ``retry`` or ``max_attempts``: a failure is raised at once, a
transient one still marked ``retryable``. The caller retries, with what it knows *then*. The
stock pusher writes absolute figures this way: a figure resent after a back-off would undo the
sales made since it was decided, so it reads the listing again and decides anew instead. A
429's ``Retry-After`` still pauses the account's rate budget.
"""

from __future__ import annotations

import asyncio
import email.utils
import json as jsonlib
import logging
import math
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from types import TracebackType
from typing import Any, Self, TypedDict, Unpack

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from omnisdk._ratelimit import Clock, Lane, RateBudget, RateLimiter, RateLimiterFactory, Sleep
from omnisdk._redact import guard_library_loggers, is_sensitive_name, redact
from omnisdk.errors import (
    AuthError,
    BadRequest,
    ChannelError,
    NotFound,
    PlatformUnavailable,
    RateLimited,
    ReauthorisationRequired,
)
from omnisdk.refusals import RefusalCount

__all__ = [
    "DEFAULT_REQUEST_ID_FIELDS",
    "DEFAULT_REQUEST_ID_HEADERS",
    "IDEMPOTENT_METHODS",
    "ErrorMapper",
    "HttpClient",
    "Lane",
    "RateBudget",
    "RateLimiter",
    "RateLimiterFactory",
    "RequestOptions",
    "in_single_attempt",
    "json_error_mapper",
    "parse_retry_after",
    "redact",
    "single_attempt",
]

ErrorMapper = Callable[[httpx.Response], ChannelError | None]
"""Turns a platform response into the error it means, or None when it is not an error.

A plugin passes one to :class:`HttpClient` for platforms that signal errors in the body
(Shopee answers HTTP 200 with ``{"error": "error_server", "message": ..., "request_id": ...}``).
It is called for every response, before the status code is looked at; return an error with
``retryable`` true to have it retried. ``channel``, ``account``, ``status`` and
``request_id`` left unset on the error are filled in. It may also raise the error; a
:class:`ValueError` it raises (a body that is not JSON, such as a proxy's HTML error page)
counts as "not a platform error", and the status code decides.
"""

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
"""Methods that are safe to repeat whatever the failure (RFC 9110, 9.2.2)."""

DEFAULT_REQUEST_ID_HEADERS = (
    "x-request-id",
    "request-id",
    "x-amzn-requestid",
    "x-amz-request-id",
    "x-correlation-id",
    "x-trace-id",
)
"""Generic response headers that carry a platform's id for a request, first found wins.

A channel puts its platform's own header in front (``Channel.request_id_headers``)."""

DEFAULT_REQUEST_ID_FIELDS = ("request_id", "requestId", "trace_id")
"""Generic JSON body fields (top level, or inside an ``error`` object) carrying the request id.

A channel adds its platform's own (``Channel.request_id_fields``)."""

_LOGGER = logging.getLogger("omnisdk.http")
_SINGLE_ATTEMPT: ContextVar[bool] = ContextVar("omnisdk_http_single_attempt", default=False)
_MAX_DETAIL = 300
_UNPROCESSED_FAILURES = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_TRANSIENT_FAILURES = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
    httpx.ProxyError,
    httpx.DecodingError,
)
_FAILURE_WORDS: tuple[tuple[type[Exception], str], ...] = (
    (httpx.ConnectTimeout, "timed out connecting"),
    (httpx.ConnectError, "could not connect"),
    (httpx.PoolTimeout, "no free connection in time"),
    (httpx.ReadTimeout, "timed out waiting for the response"),
    (httpx.WriteTimeout, "timed out sending the request"),
    (httpx.RemoteProtocolError, "connection dropped"),
    (httpx.ReadError, "connection failed while reading"),
    (httpx.WriteError, "connection failed while sending"),
    (httpx.DecodingError, "response could not be decoded"),
)

try:
    _USER_AGENT = f"omnisdk/{version('omnisdk')}"
except PackageNotFoundError:  # a source tree that is not installed
    _USER_AGENT = "omnisdk"


def json_error_mapper(
    platform: str,
    read: Callable[[httpx.Response, Any], ChannelError | None],
    *,
    parse: Callable[[bytes], Any] = jsonlib.loads,
) -> ErrorMapper:
    """An :data:`ErrorMapper` for a platform that answers JSON: ``read(response, body)``
    says what the parsed body means.

    Before ``read`` is asked, the part every such platform shares: an empty body is not
    the platform's to explain (None: the status decides); a body that is not JSON is a
    proxy's or a load balancer's page when the status is 400 or more (None again), and a
    :class:`~omnisdk.errors.PlatformUnavailable` naming ``platform`` when the status says
    success, since a successful answer that cannot be read is no success. ``parse`` reads
    the body (e.g. with ``parse_float=Decimal``, so money never passes through a float).
    """

    def mapper(response: httpx.Response) -> ChannelError | None:
        content = response.content.strip()
        if not content:
            return None
        try:
            body = parse(content)
        except ValueError:
            if response.status_code >= 400:
                return None
            return PlatformUnavailable(
                f"{platform} answered with a body that is not JSON", status=response.status_code
            )
        return read(response, body)

    return mapper


class RequestOptions(TypedDict, total=False):
    """The keyword arguments of :meth:`HttpClient.request`, for the method shortcuts."""

    lane: Lane
    params: httpx.QueryParams | Mapping[str, Any] | None
    json: Any
    content: str | bytes | None
    data: Mapping[str, Any] | None
    headers: Mapping[str, str] | None
    cost: float
    retry: bool
    max_attempts: int | None
    attempt_timeout: float | None
    auth: httpx.Auth | None


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delay-seconds or an HTTP date.

    None when the header is missing or unreadable; a date in the past gives 0.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


@contextmanager
def single_attempt() -> Iterator[None]:
    """Within the block (and the tasks it starts), every :class:`HttpClient` request is tried
    once: no retry, whatever the request's own settings. See the module doc."""
    token = _SINGLE_ATTEMPT.set(True)
    try:
        yield
    finally:
        _SINGLE_ATTEMPT.reset(token)


def in_single_attempt() -> bool:
    """True inside :func:`single_attempt`."""
    return _SINGLE_ATTEMPT.get()


class _AttemptFailed(Exception):
    """One attempt's failure, with what the retry policy needs to know about it."""

    def __init__(
        self,
        error: ChannelError,
        *,
        retry_after: float | None = None,
        unprocessed: bool = False,
        rate_limited: bool = False,
    ) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after
        self.unprocessed = unprocessed
        """True when the platform surely did not act on the request (safe to repeat)."""
        self.rate_limited = rate_limited


class _Attempt:
    """What one attempt is: for log lines and error messages."""

    def __init__(
        self,
        client: HttpClient,
        method: str,
        url: str,
        lane: Lane,
        number: int,
        of: int,
        secrets: frozenset[str],
    ) -> None:
        self.method = method
        self.url = redact(url, secrets)
        self.lane = lane
        self.number = number
        self.of = of
        self.secrets = secrets
        self.client = client

    def where(self, status: int | None = None, request_id: str | None = None) -> str:
        parts = [f"{self.method} {self.url}" + (f" -> HTTP {status}" if status else "")]
        if request_id:
            parts.append(f"request id {request_id}")
        parts.append(f"attempt {self.number} of {self.of}")
        return ", ".join(parts)

    def log_extra(self, **fields: object) -> dict[str, object]:
        return {
            "omnisdk_channel": self.client.channel,
            "omnisdk_account": self.client.account,
            "http_method": self.method,
            "http_url": self.url,
            "http_attempt": self.number,
            "http_lane": self.lane.name,
            **{f"http_{name}": value for name, value in fields.items()},
        }


_TLS: ssl.SSLContext | None = None
_TLS_LOCK = threading.Lock()


def _shared_tls() -> ssl.SSLContext:
    """One TLS context (httpx's default: certifi's roots, or ``SSL_CERT_FILE`` /
    ``SSL_CERT_DIR``) for every client of the process. Loading the roots costs ~1 MB and tens
    of milliseconds per context; a worker serving hundreds of accounts built one per account
    (0.9 GB for 1,000)."""
    global _TLS
    with _TLS_LOCK:
        if _TLS is None:
            _TLS = httpx.create_ssl_context()
        return _TLS


class HttpClient:
    """HTTP client for one channel account: rate limited, retrying, typed errors, redacted logs.

    ``rate`` builds the account's :class:`RateLimiter`; pass ``limiter`` instead to share one
    (not both; neither means no rate limit, though 429 pauses still apply). ``timeout`` is
    per attempt, ``max_attempts`` counts the first try, ``max_retry_wait`` caps each wait
    between attempts: when a platform's ``Retry-After`` asks for longer, the client does not
    wait but raises :class:`~omnisdk.errors.RateLimited` at once for the caller to reschedule.
    ``secrets`` are values to mask in logs and errors (credentials, keys); values of sensitive
    ``headers`` are added automatically. ``transport`` replaces the network (tests and
    sandboxes pass ``httpx.ASGITransport(app)``). ``auth`` is an :class:`httpx.Auth` run on
    every attempt: signatures with a timestamp are made fresh for each retry.
    ``connect_timeout`` (default: the smaller of ``timeout`` and 10 s) bounds opening a
    connection; at most ``max_connections`` are open at once, and an idle one is kept for
    ``keepalive_expiry`` seconds. ``backoff`` is the first retry's maximum wait in seconds,
    doubling per attempt (full jitter). ``clock`` and ``sleep`` drive the limiter and the
    waits between retries (fakes in tests). ``request_id_headers`` and ``request_id_fields``
    name the response headers and JSON body fields where the platform puts its request id
    (first found wins).

    ``reauth_after`` turns a run of refusals into a lost authorisation: once that many
    requests in a row ended in :class:`~omnisdk.errors.AuthError` (401, 403, or the platform's
    own auth error), the last one is raised as :class:`~omnisdk.errors.ReauthorisationRequired`
    instead, which the engine answers by marking the account ``needs_reauth`` (a revoked token
    or an uninstalled app otherwise fails every call while the account looks ``active``). Any
    successful request resets the count; other failures (5xx, 429) leave it as it is; requests
    that were in flight together when one of them was refused count once. None never
    converts. :attr:`auth_failures` is the current count. ``refusals`` keeps that count
    beyond this client (:class:`~omnisdk.refusals.RefusalCount`; the engine's is in the store,
    so a cron ``sync --once`` and every worker add to one count): the client loads it before
    its first request, adds each refusal to it, resets it on the first success after one, and
    otherwise reads it at most every ``refusals_checked_every`` seconds of successes, to reset
    what another process counted while this one's requests went through.
    """

    def __init__(
        self,
        *,
        base_url: str,
        channel: str,
        account: str,
        rate: RateBudget | None = None,
        limiter: RateLimiter | None = None,
        timeout: float = 30.0,
        max_attempts: int = 5,
        max_retry_wait: float = 60.0,
        headers: Mapping[str, str] | None = None,
        secrets: Iterable[str] = (),
        error_mapper: ErrorMapper | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        logger: logging.Logger | None = None,
        auth: httpx.Auth | None = None,
        connect_timeout: float | None = None,
        max_connections: int = 10,
        keepalive_expiry: float = 30.0,
        backoff: float = 0.5,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        request_id_headers: Iterable[str] = DEFAULT_REQUEST_ID_HEADERS,
        request_id_fields: Iterable[str] = DEFAULT_REQUEST_ID_FIELDS,
        reauth_after: int | None = None,
        refusals: RefusalCount | None = None,
        refusals_checked_every: float = 60.0,
    ) -> None:
        if rate is not None and limiter is not None:
            raise ValueError("pass either rate or limiter to HttpClient, not both")
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {max_attempts}")
        if not timeout > 0 or max_retry_wait < 0 or backoff < 0:
            raise ValueError("timeout must be positive; max_retry_wait and backoff not negative")
        if reauth_after is not None and reauth_after < 1:
            raise ValueError(f"reauth_after must be at least 1, not {reauth_after}")
        self.reauth_after = reauth_after
        """Refusals in a row after which :class:`ReauthorisationRequired` is raised."""
        self.auth_failures = 0
        """Requests in a row that ended in an authorisation refusal (0 after any success)."""
        self._refusals_seen = 0
        self._refusals = refusals
        self._refusals_loaded = refusals is None
        self._refusals_checked_every = refusals_checked_every
        self._refusals_checked_at = -math.inf
        self._clock = clock
        self.channel = channel
        """The channel type, e.g. ``"shopee"``."""
        self.account = account
        """The configured account name."""
        self._base_url = base_url
        self._max_attempts = max_attempts
        self._max_retry_wait = max_retry_wait
        self._error_mapper = error_mapper
        self._request_id_headers = tuple(request_id_headers)
        self._request_id_fields = tuple(request_id_fields)
        self._logger = logger or _LOGGER
        self._sleep = sleep
        self._backoff = wait_random_exponential(multiplier=backoff, max=max_retry_wait)
        self._limiter = limiter or RateLimiter(
            rate or RateBudget(requests_per_second=math.inf, burst=1), clock=clock, sleep=sleep
        )
        self._secrets: set[str] = set()
        for value in secrets:
            self.add_secret(value)
        for value in _sensitive_header_values(headers or {}):
            self.add_secret(value)
        self._client = httpx.AsyncClient(
            base_url=base_url,
            headers={"User-Agent": _USER_AGENT, **(headers or {})},
            auth=auth,
            timeout=httpx.Timeout(timeout, connect=min(timeout, connect_timeout or 10.0)),
            limits=httpx.Limits(
                max_connections=max_connections,
                max_keepalive_connections=max_connections,
                keepalive_expiry=keepalive_expiry,
            ),
            transport=transport,
            verify=_shared_tls() if transport is None else True,
            follow_redirects=False,
        )
        guard_library_loggers(self)

    def __repr__(self) -> str:
        return (
            f"HttpClient(base_url={redact(self._base_url, self._secrets)!r}, "
            f"channel={self.channel!r}, account={self.account!r})"
        )

    @property
    def limiter(self) -> RateLimiter:
        """The rate limiter every attempt of this client spends from."""
        return self._limiter

    def add_secret(self, value: str) -> None:
        """Mask ``value`` (a refreshed token, a signing key) in everything logged or raised."""
        if value:
            self._secrets.add(value)
            scheme, _, credential = value.partition(" ")
            if credential and scheme.isalpha():  # "Bearer abc": mask "abc" on its own too
                self._secrets.add(credential)

    def secret_values(self) -> frozenset[str]:
        """The secret values this client masks (for redacting filters)."""
        return frozenset(self._secrets)

    async def aclose(self) -> None:
        """Close the connections; the client cannot be used afterwards."""
        await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- requests ------------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        url: str,
        *,
        lane: Lane = Lane.DEFAULT,
        params: httpx.QueryParams | Mapping[str, Any] | None = None,
        json: Any = None,
        content: str | bytes | None = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        cost: float = 1.0,
        retry: bool = True,
        max_attempts: int | None = None,
        attempt_timeout: float | None = None,
        auth: httpx.Auth | None = None,
    ) -> httpx.Response:
        """Send a request, retrying transient failures; return the successful response.

        ``url`` is relative to the base URL (or absolute). Each attempt first spends ``cost``
        from the rate budget in ``lane``. ``retry=False`` marks a request that is not safe to
        repeat (see the module doc); ``max_attempts`` and ``attempt_timeout`` override the
        client's for this request; inside :func:`single_attempt` it is tried once. A
        response below 400 that the error mapper accepts is returned as is (redirects are
        not followed); otherwise the typed error is raised:
        :class:`~omnisdk.errors.AuthError` (401, 403),
        :class:`~omnisdk.errors.NotFound` (404, 410),
        :class:`~omnisdk.errors.RateLimited` (429, with ``retry_after``),
        :class:`~omnisdk.errors.BadRequest` (other 4xx, with the platform's ``code``),
        :class:`~omnisdk.errors.PlatformUnavailable` (5xx, 408, time-outs, lost connections).
        """
        method = method.upper()
        if not (cost > 0 and math.isfinite(cost)):
            raise ValueError(f"request cost must be a positive number, not {cost!r}")
        attempts = 1 if _SINGLE_ATTEMPT.get() else max_attempts or self._max_attempts
        secrets = frozenset(self._secrets | _request_secrets(headers, params))
        repeatable = retry or method in IDEMPOTENT_METHODS
        options: dict[str, Any] = {
            "params": params,
            "json": json,
            "content": content,
            "data": data,
            "headers": headers,
        }
        if attempt_timeout is not None:
            options["timeout"] = attempt_timeout

        def worth_retrying(exc: BaseException) -> bool:
            if not isinstance(exc, _AttemptFailed) or not exc.error.retryable:
                return False
            if exc.retry_after is not None and exc.retry_after > self._max_retry_wait:
                return False
            return repeatable or exc.unprocessed

        retrying = AsyncRetrying(
            stop=stop_after_attempt(attempts),
            wait=self._wait_before_retry,
            retry=retry_if_exception(worth_retrying),
            before_sleep=self._before_retry,
            sleep=self._sleep,
            reraise=True,
        )
        if not self._refusals_loaded:
            await self._load_refusals()
        seen = self._refusals_seen
        started = datetime.now(UTC)
        try:
            async for attempt in retrying:
                with attempt:
                    request = self._client.build_request(method, url, **options)
                    this = _Attempt(
                        self,
                        method,
                        str(request.url),
                        lane,
                        attempt.retry_state.attempt_number,
                        attempts,
                        secrets,
                    )
                    await self._limiter.acquire(lane, cost)
                    response = await self._send(request, this, auth)
                    await self._succeeded()
                    return response
        except _AttemptFailed as failure:
            raised = await self._count_refusal(failure.error, seen, started)
            raise raised from (failure.error if raised is not failure.error else None)
        raise RuntimeError("unreachable: tenacity ended without a result")  # pragma: no cover

    async def _load_refusals(self) -> None:
        """The shared count, before the first request (see ``refusals``)."""
        self._refusals_loaded = True
        if self._refusals is not None:
            self.auth_failures = await asyncio.to_thread(self._refusals.load)
            self._refusals_checked_at = self._clock()

    async def _succeeded(self) -> None:
        """A request went through: the refusals in a row are over, here and in the shared
        count (read now and then, in case another process counted some meanwhile)."""
        counted, self.auth_failures = self.auth_failures, 0
        if self._refusals is None:
            return
        refusals, now = self._refusals, self._clock()
        if counted:
            self._refusals_checked_at = now
            await asyncio.to_thread(refusals.reset)
        elif now - self._refusals_checked_at >= self._refusals_checked_every:
            self._refusals_checked_at = now
            if await asyncio.to_thread(refusals.load):  # a read; a write only when needed
                await asyncio.to_thread(refusals.reset)

    async def _count_refusal(
        self, error: ChannelError, seen: int, started: datetime
    ) -> ChannelError:
        """``error``, or the lost authorisation it completes (see ``reauth_after``).

        ``seen`` is how many refusals had been counted when the request started: a request
        already in flight when another one was refused brings no new evidence (an access
        token that just expired refuses every concurrent call at once, before the channel's
        one refresh), so only refusals one after another count towards ``reauth_after``.
        """
        if not isinstance(error, AuthError) or isinstance(error, ReauthorisationRequired):
            return error
        if seen != self._refusals_seen:
            return error
        self._refusals_seen += 1
        self.auth_failures += 1
        if self._refusals is not None:
            shared = await asyncio.to_thread(self._refusals.add, started, datetime.now(UTC))
            if shared is None:  # another process counted this piece of evidence already
                return error
            self.auth_failures = shared
        if self.reauth_after is None or self.auth_failures < self.reauth_after:
            return error
        last = str(error.args[0]) if error.args else type(error).__name__
        last = last.removeprefix(f"{self.channel}/{self.account}: ")  # named once, below
        return ReauthorisationRequired(
            f"{self.auth_failures} requests in a row were refused for authorisation (a revoked "
            f"token or an uninstalled app?); the last: {last}",
            channel=self.channel,
            account=self.account,
            status=error.status,
            request_id=error.request_id,
        )

    async def get(self, url: str, **options: Unpack[RequestOptions]) -> httpx.Response:
        """``request("GET", url, ...)``."""
        return await self.request("GET", url, **options)

    async def post(self, url: str, **options: Unpack[RequestOptions]) -> httpx.Response:
        """``request("POST", url, ...)``; retried by default, see the module doc."""
        return await self.request("POST", url, **options)

    async def put(self, url: str, **options: Unpack[RequestOptions]) -> httpx.Response:
        """``request("PUT", url, ...)``."""
        return await self.request("PUT", url, **options)

    async def patch(self, url: str, **options: Unpack[RequestOptions]) -> httpx.Response:
        """``request("PATCH", url, ...)``."""
        return await self.request("PATCH", url, **options)

    async def delete(self, url: str, **options: Unpack[RequestOptions]) -> httpx.Response:
        """``request("DELETE", url, ...)``."""
        return await self.request("DELETE", url, **options)

    # -- one attempt ---------------------------------------------------------------------------

    async def _send(
        self, request: httpx.Request, this: _Attempt, auth: httpx.Auth | None
    ) -> httpx.Response:
        started = time.perf_counter()
        try:
            if auth is None:
                response = await self._client.send(request)
            else:
                response = await self._client.send(request, auth=auth)
        except httpx.RequestError as exc:
            elapsed = (time.perf_counter() - started) * 1000
            self._logger.debug(
                "%s/%s %s %s -> %s after %.0f ms (attempt %d of %d, lane %s)",
                self.channel,
                self.account,
                this.method,
                this.url,
                type(exc).__name__,
                elapsed,
                this.number,
                this.of,
                this.lane.name,
                extra=this.log_extra(error=type(exc).__name__, elapsed_ms=round(elapsed, 1)),
            )
            raise self._transport_failure(exc, this) from None
        elapsed = (time.perf_counter() - started) * 1000
        status = response.status_code
        request_id = _header_request_id(response, self._request_id_headers)
        failure = self._check(response, this, request_id)
        if failure is not None:
            request_id = failure.error.request_id
        self._logger.debug(
            "%s/%s %s %s -> %d in %.0f ms (attempt %d of %d, lane %s%s)",
            self.channel,
            self.account,
            this.method,
            this.url,
            status,
            elapsed,
            this.number,
            this.of,
            this.lane.name,
            f", request id {request_id}" if request_id else "",
            extra=this.log_extra(
                status=status, elapsed_ms=round(elapsed, 1), request_id=request_id
            ),
        )
        if failure is not None:
            if failure.retry_after is not None and failure.error.retryable:
                # The platform said when anyone may call again: hold the whole account back.
                self._limiter.pause(min(failure.retry_after, self._max_retry_wait))
            raise failure
        return response

    def _check(
        self, response: httpx.Response, this: _Attempt, header_request_id: str | None
    ) -> _AttemptFailed | None:
        mapped: ChannelError | None = None
        if self._error_mapper is not None:
            try:
                mapped = self._error_mapper(response)
            except ChannelError as exc:
                mapped = exc
            except ValueError:
                # Not a body the mapper can read (a proxy's HTML error page): judge by status.
                mapped = None
        if mapped is None and response.status_code < 400:
            return None
        body = _json_body(response)
        request_id = header_request_id or _body_request_id(body, self._request_id_fields)
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        if mapped is not None:
            return self._adopt(mapped, response, this, request_id, retry_after)
        error = self._status_error(response, body, this, request_id, retry_after)
        rate_limited = response.status_code == 429
        return _AttemptFailed(
            error,
            retry_after=retry_after if error.retryable else None,
            unprocessed=rate_limited,
            rate_limited=rate_limited,
        )

    def _adopt(
        self,
        error: ChannelError,
        response: httpx.Response,
        this: _Attempt,
        request_id: str | None,
        retry_after: float | None,
    ) -> _AttemptFailed:
        """Complete an error from the plugin's mapper with what the client knows."""
        who_missing = error.channel is None
        error.channel = error.channel or self.channel
        error.account = error.account or self.account
        error.status = error.status or response.status_code
        error.request_id = error.request_id or request_id
        rate_limited = isinstance(error, RateLimited)
        if isinstance(error, RateLimited):
            error.retry_after = error.retry_after if error.retry_after is not None else retry_after
            retry_after = error.retry_after
        message = str(error.args[0]) if error.args else type(error).__name__
        if who_missing:
            message = f"{self.channel}/{self.account}: {message}"
        message = f"{message} ({this.where(response.status_code, error.request_id)})"
        error.args = (redact(message, this.secrets),)
        return _AttemptFailed(
            error, retry_after=retry_after, unprocessed=rate_limited, rate_limited=rate_limited
        )

    def _status_error(
        self,
        response: httpx.Response,
        body: Any,
        this: _Attempt,
        request_id: str | None,
        retry_after: float | None,
    ) -> ChannelError:
        status = response.status_code
        code, detail = _error_detail(response, body)
        detail = _clip(redact(detail or response.reason_phrase or "error", this.secrets))
        code = _clip(redact(code, this.secrets)) if code else None
        message = f"{detail} ({this.where(status, request_id)})"
        context: dict[str, Any] = {
            "channel": self.channel,
            "account": self.account,
            "status": status,
            "request_id": request_id,
        }
        if status in (401, 403):
            return AuthError(f"{code}: {message}" if code else message, **context)
        if status == 429:
            return RateLimited(message, retry_after=retry_after, **context)
        if status in (404, 410):
            return NotFound(message, code=code, **context)
        if status == 408 or status >= 500:
            return PlatformUnavailable(f"{code}: {message}" if code else message, **context)
        return BadRequest(message, code=code, **context)

    def _transport_failure(self, exc: httpx.RequestError, this: _Attempt) -> _AttemptFailed:
        what = next(
            (words for kind, words in _FAILURE_WORDS if isinstance(exc, kind)), "request failed"
        )
        detail = redact(str(exc), this.secrets) or "no detail"
        message = f"{what}: {type(exc).__name__}: {_clip(detail)} ({this.where()})"
        context: dict[str, Any] = {"channel": self.channel, "account": self.account}
        transient = isinstance(exc, _TRANSIENT_FAILURES)
        error = (
            PlatformUnavailable(message, **context)
            if transient
            else ChannelError(message, **context)
        )
        return _AttemptFailed(error, unprocessed=isinstance(exc, _UNPROCESSED_FAILURES))

    # -- between attempts ----------------------------------------------------------------------

    def _wait_before_retry(self, state: RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome else None
        if isinstance(failure, _AttemptFailed) and failure.retry_after is not None:
            return min(failure.retry_after, self._max_retry_wait)
        return float(self._backoff(state))

    def _before_retry(self, state: RetryCallState) -> None:
        failure = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        if not isinstance(failure, _AttemptFailed):
            return
        if failure.rate_limited and failure.retry_after is None:
            # Slow down without being told how long: the whole account backs off with us.
            self._limiter.pause(wait)
        self._logger.warning(
            "%s; retrying in %.2f s",
            failure.error,
            wait,
            extra={
                "omnisdk_channel": self.channel,
                "omnisdk_account": self.account,
                "http_status": failure.error.status,
                "http_retry_in": wait,
                "http_request_id": failure.error.request_id,
            },
        )


# -- helpers -----------------------------------------------------------------------------------


def _sensitive_header_values(headers: Mapping[str, str]) -> list[str]:
    return [value for name, value in headers.items() if is_sensitive_name(name) and value]


def _request_secrets(
    headers: Mapping[str, str] | None, params: httpx.QueryParams | Mapping[str, Any] | None
) -> set[str]:
    found = set(_sensitive_header_values(headers or {}))
    for value in list(found):
        scheme, _, credential = value.partition(" ")
        if credential and scheme.isalpha():
            found.add(credential)
    if params is not None:
        for name, value in httpx.QueryParams(params).multi_items():
            if is_sensitive_name(name) and value:
                found.add(value)
    return found


def _json_body(response: httpx.Response) -> Any:
    content = response.content.lstrip()
    if not content or content[:1] not in (b"{", b"["):
        return None
    try:
        return jsonlib.loads(content)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        return None


def _header_request_id(response: httpx.Response, names: Iterable[str]) -> str | None:
    for name in names:
        value: str | None = response.headers.get(name)
        if value:
            return value
    return None


def _body_request_id(body: Any, names: tuple[str, ...]) -> str | None:
    if not isinstance(body, dict):
        return None
    for holder in (body, body.get("error")):
        if isinstance(holder, dict):
            for name in names:
                value = holder.get(name)
                if isinstance(value, str | int) and not isinstance(value, bool) and value != "":
                    return str(value)
    return None


def _error_detail(response: httpx.Response, body: Any) -> tuple[str | None, str | None]:
    """The error code and message, from the generic body shapes most APIs share.

    A platform's own shape is read by its channel's ``parse_error``, before this runs.
    """
    if isinstance(body, list):
        return None, _flatten(body) or None
    if not isinstance(body, dict):
        if response.headers.get("content-type", "").startswith("text/plain"):
            return None, response.text.strip() or None
        return None, None
    code: str | None = None
    message: str | None = None
    error = body.get("error")
    if isinstance(error, dict):  # {"error": {"code": ..., "message": ...}}
        code = _scalar(error.get("code")) or _scalar(error.get("type"))
        message = _scalar(error.get("message"))
    elif isinstance(error, str) and error:  # {"error": "invalid_grant", "message": ...}
        code = error
    if message is None:
        for name in ("message", "msg", "error_description", "error_message", "detail"):
            message = _scalar(body.get(name))
            if message:
                break
    if not message and body.get("errors"):  # GraphQL and JSON:API style error lists
        message = _flatten(body["errors"])
    if code is None:
        for name in ("code", "error_code", "errcode"):
            value = _scalar(body.get(name))
            if value and value != "0":  # {"code": "0"} means success
                code = value
                break
    return code, message or None


def _scalar(value: Any) -> str | None:
    if isinstance(value, bool) or value is None or value == "":
        return None
    if isinstance(value, str | int | float):
        return str(value)
    return None


def _flatten(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "; ".join(part for part in (_flatten(item) for item in value) if part)
    if isinstance(value, dict):
        if "message" in value:
            return _flatten(value["message"])
        return "; ".join(f"{key} {_flatten(item)}" for key, item in value.items())
    return "" if value is None else str(value)


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"
