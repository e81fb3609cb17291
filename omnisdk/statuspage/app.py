"""The status page as a Starlette app any process can serve or mount.

:class:`StatusPage` wraps a :class:`~omnisdk.statuspage.source.StatusSource` (an open
engine) in a read-only ASGI app::

    page = StatusPage(engine)
    app = Starlette(routes=[Mount("/status", app=page.app)])   # or serve page.app itself

Routes (relative to where it is mounted): ``GET /`` the overview (channels and their health,
lag, outbox, quarantine, what the quotas held back, the newest orders), ``GET /sku/{SKU}`` one
SKU's stock and quotas across channels (``GET /sku?sku=…`` is the lookup form's target),
``GET /sales?days=N`` revenue per channel, account and store as inline SVG charts, one set
per currency, over the last N days (1, 7, 30, 90 or 365; 30 by default), ``GET /events``,
``GET /events/sku/{SKU}`` and ``GET /events/sales?days=N`` the live updates (server-sent
events: a section whose HTML changed is sent again), ``/static/…`` the stylesheet and the
script.

Every page is whole without JavaScript. Reads go through a cache shared by every viewer
(``ttl``, 1 s by default), so a wall of open browsers costs the store one read per second;
the sales page's aggregations are read at most every ``sales_ttl`` (30 s by default).
Nothing on the page comes from the token store or the config's secrets, and every value is
escaped by the templates. :meth:`StatusPage.close` ends the live streams (at shutdown).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from markupsafe import Markup
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from omnisdk.errors import InvalidValue, OmnisdkError
from omnisdk.statuspage.cache import TimedCache
from omnisdk.statuspage.render import (
    OVERVIEW_SECTIONS,
    SALES_SECTIONS,
    SKU_SECTIONS,
    PageRenderer,
    Rendered,
)
from omnisdk.statuspage.source import (
    SALES_WINDOWS,
    StatusSource,
    read_overview,
    read_sales,
    read_sku,
)

__all__ = ["StatusPage"]

logger = logging.getLogger("omnisdk.statuspage")

T = TypeVar("T")

STATIC = Path(__file__).parent / "static"
RETRY_MS = 3000
"""How soon a browser reconnects a dropped live stream."""

_HEADERS = {
    # Only the page's own script and stylesheet run, even if a value ever slipped through
    # unescaped; the page is never framed; no URL leaks in a Referer.
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


@dataclass(frozen=True)
class _Loaded:
    """One page's rendered sections and what its frame shows (title, time, database)."""

    rendered: Rendered
    title: str
    generated_at: datetime
    dialect: str


class _SecurityHeaders:
    """ASGI middleware adding :data:`_HEADERS` to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in _HEADERS.items():
                    if name.encode() not in present:
                        headers.append((name.encode(), value.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class StatusPage:
    """The read-only status page of ``source`` (see the module doc).

    ``ttl``: how long one read of the store serves every viewer (``sales_ttl`` for the
    sales page's aggregations); ``interval``: how often a live stream looks for changes;
    ``heartbeat``: the longest a quiet stream stays silent (a comment line keeps proxies from
    closing it).
    """

    def __init__(
        self,
        source: StatusSource,
        *,
        ttl: float = 1.0,
        sales_ttl: float = 30.0,
        interval: float = 1.0,
        heartbeat: float = 15.0,
    ) -> None:
        self.source = source
        self.interval = interval
        self.heartbeat = heartbeat
        self.renderer = PageRenderer()
        self.cache: TimedCache[tuple[str, ...], _Loaded] = TimedCache(ttl)
        self.sales_cache: TimedCache[tuple[str, ...], _Loaded] = TimedCache(sales_ttl)
        # The page's own reads and rendering get a thread of their own: they never hold one
        # of the pool threads the engine's store calls run in.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="omnisdk-status")
        self._closing = asyncio.Event()
        self._streams = 0
        self.app: ASGIApp = _SecurityHeaders(
            Starlette(
                routes=[
                    Route("/", self._overview_page, methods=["GET"]),
                    Route("/sku", self._lookup, methods=["GET"]),
                    Route("/sku/{sku:path}", self._sku_page, methods=["GET"]),
                    Route("/sales", self._sales_page, methods=["GET"]),
                    Route("/events/sales", self._sales_events, methods=["GET"]),
                    Route("/events", self._overview_events, methods=["GET"]),
                    Route("/events/sku/{sku:path}", self._sku_events, methods=["GET"]),
                    Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
                ]
            )
        )
        """The ASGI app: serve it with uvicorn, or mount it in another Starlette app."""

    @property
    def streams(self) -> int:
        """How many live streams are open now."""
        return self._streams

    def close(self) -> None:
        """End every live stream (and refuse new ones): call it before stopping the server."""
        self._closing.set()
        self._thread.shutdown(wait=False)

    async def _blocking(self, call: Callable[[], T]) -> T:
        """``call()`` in the page's own thread (in a passing one once the page is closed)."""
        if self._closing.is_set():
            return await asyncio.to_thread(call)
        return await asyncio.get_running_loop().run_in_executor(self._thread, call)

    # -- loading, through the shared cache ----------------------------------------------------

    async def _overview(self, base: str) -> _Loaded:
        async def load() -> _Loaded:
            data = await read_overview(self.source)
            context = {"view": data, "base": base}
            rendered = await asyncio.to_thread(self.renderer.sections, OVERVIEW_SECTIONS, context)
            report = data.report
            return _Loaded(rendered, "Engine status", report.generated_at, report.store_dialect)

        return await self.cache.get(("overview", base), load)

    async def _sku(self, base: str, sku: str) -> _Loaded:
        async def load() -> _Loaded:
            data = await read_sku(self.source, sku, self._blocking)
            context = {"stock": data, "base": base}
            rendered = await self._blocking(lambda: self.renderer.sections(SKU_SECTIONS, context))
            title = f"{data.title} ({data.view.sku})" if data.title else data.view.sku
            return _Loaded(rendered, title, datetime.now(UTC), self.source.store.dialect)

        return await self.cache.get(("sku", base, sku), load)

    async def _sales(self, base: str, days: int) -> _Loaded:
        async def load() -> _Loaded:
            data = await read_sales(self.source, days)
            context = {"sales": data, "base": base}
            rendered = await self._blocking(
                lambda: self.renderer.sections(SALES_SECTIONS, context)
            )
            return _Loaded(rendered, "Sales", datetime.now(UTC), self.source.store.dialect)

        return await self.sales_cache.get(("sales", base, str(days)), load)

    # -- pages ------------------------------------------------------------------------------

    async def _sales_page(self, request: Request) -> Response:
        base = _base(request)
        days = _days(request)
        if days is None:
            frame = {"base": base, "sku_query": "", "live_url": None}
            choices = ", ".join(str(d) for d in SALES_WINDOWS)
            return self._problem(frame, 400, "Not a window",
                                 f"days must be one of {choices}, not "
                                 f"{request.query_params.get('days')!r}")
        return await self._page(
            request, "sales.html", SALES_SECTIONS, lambda: self._sales(base, days),
            f"/events/sales?days={days}", windows=SALES_WINDOWS, window=days,
        )

    async def _overview_page(self, request: Request) -> Response:
        base = _base(request)
        return await self._page(
            request, "overview.html", OVERVIEW_SECTIONS, lambda: self._overview(base), "/events"
        )

    async def _sku_page(self, request: Request) -> Response:
        base = _base(request)
        sku = _nfc(request.path_params["sku"])
        return await self._page(
            request,
            "sku.html",
            SKU_SECTIONS,
            lambda: self._sku(base, sku),
            f"/events/sku/{quote(sku, safe='')}",
            sku_query=sku,
        )

    async def _lookup(self, request: Request) -> Response:
        sku = _nfc(request.query_params.get("sku", "").strip())
        target = f"/sku/{quote(sku, safe='')}" if sku else "/"
        return RedirectResponse(_base(request) + target, status_code=303)

    async def _page(
        self,
        request: Request,
        template: str,
        names: tuple[str, ...],
        load: Callable[[], Awaitable[_Loaded]],
        live: str,
        *,
        sku_query: str = "",
        **extra: Any,
    ) -> Response:
        base = _base(request)
        frame: dict[str, Any] = {"base": base, "sku_query": sku_query, "live_url": None}
        try:
            loaded = await load()
        except InvalidValue as exc:
            return self._problem(frame, 400, "Not a SKU", str(exc))
        except OmnisdkError as exc:
            logger.warning("status page: %s could not be built: %s", request.url.path, exc)
            return self._problem(frame, 503, "This page could not be built", str(exc))
        html = self.renderer.page(
            template,
            {
                **frame,
                **extra,
                "title": loaded.title,
                "generated_at": loaded.generated_at,
                "dialect": loaded.dialect,
                "live_url": base + live,
                "section_names": names,
                "sections": {n: Markup(loaded.rendered.sections[n]) for n in names},  # noqa: S704
            },
        )
        return HTMLResponse(html, headers={"cache-control": "no-store"})

    def _problem(self, frame: dict[str, Any], status: int, heading: str, message: str) -> Response:
        html = self.renderer.page(
            "error.html",
            {
                **frame,
                "title": heading,
                "heading": heading,
                "message": message,
                "generated_at": datetime.now(UTC),
                "dialect": self.source.store.dialect,
            },
        )
        return HTMLResponse(html, status_code=status, headers={"cache-control": "no-store"})

    # -- live updates -----------------------------------------------------------------------

    async def _overview_events(self, request: Request) -> Response:
        base = _base(request)
        return self._events(lambda: self._overview(base))

    async def _sku_events(self, request: Request) -> Response:
        base, sku = _base(request), _nfc(request.path_params["sku"])
        return self._events(lambda: self._sku(base, sku))

    async def _sales_events(self, request: Request) -> Response:
        base, days = _base(request), _days(request) or 30
        return self._events(lambda: self._sales(base, days))

    def _events(self, load: Callable[[], Awaitable[_Loaded]]) -> Response:
        return StreamingResponse(
            self._stream(load),
            media_type="text/event-stream; charset=utf-8",
            headers={"cache-control": "no-store", "x-accel-buffering": "no"},
        )

    async def _stream(self, load: Callable[[], Awaitable[_Loaded]]) -> AsyncIterator[str]:
        """Every section once, then each section again whenever its HTML changes (until the
        page is closed: a closed page's stream ends after the first round)."""
        self._streams += 1
        try:
            sent: dict[str, str] = {}
            problem: str | None = None
            yield f"retry: {RETRY_MS}\n\n"
            quiet_since = time.monotonic()
            while True:
                try:
                    loaded: _Loaded | None = await load()
                    problem = None
                except OmnisdkError as exc:
                    loaded = None
                    if str(exc) != problem:  # once per cause, not every second per viewer
                        logger.warning("status page: a live update could not be built: %s", exc)
                    problem = str(exc)
                if loaded is not None:
                    for name, digest in loaded.rendered.digests.items():
                        if sent.get(name) != digest:
                            sent[name] = digest
                            quiet_since = time.monotonic()
                            yield _event(
                                "section",
                                {
                                    "id": name,
                                    "html": loaded.rendered.sections[name],
                                    "digest": digest,
                                },
                            )
                if self._closing.is_set():
                    break
                if time.monotonic() - quiet_since >= self.heartbeat:
                    quiet_since = time.monotonic()
                    yield ": still here\n\n"
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), self.interval)
        finally:
            self._streams -= 1


def _event(name: str, data: dict[str, str]) -> str:
    """One server-sent event (JSON data has no newline, so it is one ``data:`` line)."""
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _days(request: Request) -> int | None:
    """The sales window asked for (30 days when not given), None when it is not offered."""
    text = request.query_params.get("days", "30").strip()
    return int(text) if text.isdigit() and int(text) in SALES_WINDOWS else None


def _base(request: Request) -> str:
    """The path the page is mounted at ("" at the root), for links that work under a mount."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)
