"""The status page over HTTP (in-process, no browser): what it shows, that it escapes and
normalises everything, shows no secret, is read-only, works under a mount, and that its
viewers share one read of the store."""

from __future__ import annotations

import asyncio
import json
import unicodedata
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from _engine_testkit import Harness
from _page_testkit import (
    HANOI_SHOP,
    QUARANTINE_REASON,
    SAIGON_SHOP,
    SHIRT_TITLE,
    SKU_HAT,
    SKU_SHIRT,
    secrets_of,
)
from starlette.applications import Starlette
from starlette.routing import Mount

from omnisdk.auth import Token
from omnisdk.errors import StoreError
from omnisdk.statuspage import StatusPage
from omnisdk.store import Store

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module")
async def page(shop: Harness) -> StatusPage:
    return StatusPage(shop.engine)


@pytest_asyncio.fixture(loop_scope="module")
async def client(page: StatusPage) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=page.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://status.test") as http:
        yield http


def _sku_url(sku: str) -> str:
    return "/sku/" + httpx.URL("/" + sku).raw_path.decode()[1:]


async def test_the_overview_shows_channels_pushes_quarantine_quotas_and_orders(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    html = response.text
    for text in (
        HANOI_SHOP,
        SAIGON_SHOP,
        "0/2</span> channels healthy",  # one quarantined payload, one failed push
        "sản phẩm bị khoá <code>LOCKED</code>",
        "HN-0042",
        "No SKU is oversold",
        "2,900,000 VND",  # the buyer's two áo dài, in dong
        f"{SHIRT_TITLE}</a> <small>{SKU_SHIRT}</small>",
        "#1001",
    ):
        assert text in html, text
    # The one hat can be listed by one account only: the other is held at 0.
    assert '<span class="n">2</span> listings held at 0' in html


async def test_every_value_is_escaped(client: httpx.AsyncClient) -> None:
    overview = (await client.get("/")).text
    sku_page = (await client.get(_sku_url(SKU_HAT))).text
    for html in (overview, sku_page):
        assert "<script>window.pwned" not in html
        assert "Nón lá Huế &lt;script&gt;window.pwned = 1&lt;/script&gt;" in html
    assert "<img src=x" not in overview
    assert "&lt;img src=x onerror=alert(1)&gt;" in overview
    assert overview.count("<script") == 1  # the page's own script, nothing else


async def test_no_secret_reaches_any_page(
    shop: Harness, page: StatusPage, client: httpx.AsyncClient
) -> None:
    refreshed = Token(access_token="tok-bí-mật-7f3a9c", refresh_token="rt-bí-mật-0b1d2e")
    await asyncio.to_thread(shop.store.write_token, "example", HANOI_SHOP, refreshed)
    page.close()  # the live stream then ends after its first round
    bodies = [
        (await client.get(path)).text
        for path in ("/", _sku_url(SKU_HAT), "/events", "/events" + _sku_url(SKU_SHIRT))
    ]
    secrets = [*secrets_of(shop), "tok-bí-mật-7f3a9c", "rt-bí-mật-0b1d2e"]
    assert all(len(secret) >= 8 for secret in secrets)
    for body in bodies:
        for secret in secrets:
            assert secret not in body
    assert shop.engine.config.store.url not in bodies[0]


async def test_a_sku_page_shows_its_stock_and_quotas_across_channels(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(_sku_url(SKU_SHIRT))
    assert response.status_code == 200
    html = response.text
    assert f"<h1>{SHIRT_TITLE}</h1>" in html
    assert "quota allocation" in html
    # 6 on hand, 2 held by the order: 4 free, shared by the two accounts' quotas.
    assert '<td>main</td><td class="num">6</td><td class="num">2</td><td class="num">4</td>' in html
    rows = html.split("<h2>Per channel</h2>", 1)[1]
    assert HANOI_SHOP in rows and SAIGON_SHOP in rows
    assert "Quota</th>" in rows and "Share</th>" in rows


async def test_lookups_redirect_in_nfc_and_bad_input_is_a_page_not_a_crash(
    client: httpx.AsyncClient,
) -> None:
    decomposed = unicodedata.normalize("NFD", SKU_SHIRT)
    response = await client.get("/sku", params={"sku": f"  {decomposed} "})
    assert response.status_code == 303
    assert response.headers["location"] == _sku_url(SKU_SHIRT)
    assert (await client.get("/sku", params={"sku": ""})).headers["location"] == "/"

    shown = await client.get("/sku/" + httpx.URL("/" + decomposed).raw_path.decode()[1:])
    assert shown.status_code == 200
    assert f"<h1>{SHIRT_TITLE}</h1>" in shown.text

    unknown = await client.get(_sku_url("KHÔNG-CÓ-MÃ-NÀY"))
    assert unknown.status_code == 200
    assert "The store knows nothing of this SKU" in unknown.text

    bad = await client.get("/sku/%20%09")
    assert bad.status_code == 400
    assert "Not a SKU" in bad.text


async def test_the_page_is_read_only_and_locked_down(client: httpx.AsyncClient) -> None:
    for method in ("POST", "PUT", "DELETE"):
        assert (await client.request(method, "/")).status_code == 405
    assert (await client.post(_sku_url(SKU_HAT))).status_code == 405
    response = await client.get("/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    script = await client.get("/static/status.js")
    assert script.status_code == 200 and "EventSource" in script.text
    assert script.headers["x-content-type-options"] == "nosniff"


async def test_vietnamese_text_is_sent_in_nfc(shop: Harness, client: httpx.AsyncClient) -> None:
    html = (await client.get("/")).text
    assert unicodedata.is_normalized("NFC", html)
    assert SHIRT_TITLE in html  # "Áo dài lụa Hà Đông", composed


async def test_mounted_under_a_prefix_every_link_stays_under_it(page: StatusPage) -> None:
    outer = Starlette(routes=[Mount("/status", app=page.app)])
    transport = httpx.ASGITransport(app=outer)
    async with httpx.AsyncClient(transport=transport, base_url="http://web.test") as http:
        html = (await http.get("/status/")).text
        assert 'href="/status/static/status.css"' in html
        assert 'data-live="/status/events"' in html
        assert f'href="/status{_sku_url(SKU_SHIRT)}"' in html
        assert (await http.get(f"/status{_sku_url(SKU_SHIRT)}")).status_code == 200
        redirect = await http.get("/status/sku", params={"sku": SKU_HAT})
        assert redirect.headers["location"] == f"/status{_sku_url(SKU_HAT)}"


async def test_concurrent_viewers_share_one_read_of_the_store(
    page: StatusPage, client: httpx.AsyncClient
) -> None:
    responses = await asyncio.gather(*(client.get("/") for _ in range(12)))
    assert {r.status_code for r in responses} == {200}
    assert page.cache.loads == 1
    assert len({r.text for r in responses}) == 1


async def test_the_live_stream_sends_every_section_then_ends_when_closed(
    page: StatusPage, client: httpx.AsyncClient
) -> None:
    page.close()
    response = await client.get("/events")
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    events = [chunk for chunk in response.text.split("\n\n") if chunk.startswith("event:")]
    sent = [json.loads(event.split("data: ", 1)[1]) for event in events]
    assert [item["id"] for item in sent] == [
        "summary",
        "channels",
        "pushes",
        "quarantine",
        "quotas",
        "orders",
    ]
    assert QUARANTINE_REASON not in response.text  # escaped in the HTML it carries
    orders = next(item for item in sent if item["id"] == "orders")
    assert "#1001" in orders["html"]


class _LockedStore:
    """A source whose store cannot be read (as when the database is locked or gone)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def status(self) -> Any:
        raise StoreError("store read failed: OperationalError: database is locked")

    async def stock_view(self, sku: str) -> Any:
        raise StoreError("store read failed: OperationalError: database is locked")


async def test_a_store_that_cannot_be_read_is_a_page_saying_so_not_a_crash(
    shop: Harness,
) -> None:
    page = StatusPage(_LockedStore(shop.store))
    transport = httpx.ASGITransport(app=page.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://status.test") as http:
        for path in ("/", _sku_url(SKU_HAT)):
            response = await http.get(path)
            assert response.status_code == 503
            assert "This page could not be built" in response.text
            assert "database is locked" in response.text
        page.close()
        live = await http.get("/events")
        assert live.status_code == 200
        assert "event:" not in live.text  # nothing to send, and the stream still ended cleanly
