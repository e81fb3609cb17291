"""The sales page: revenue per channel, account and store as inline SVG, per currency, over
a window chosen by a link; the figures drawn are the sales report's."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import pytest_asyncio
from _engine_testkit import Harness

from omnisdk.models import (
    ChannelRef,
    FulfilmentMode,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    PaymentStatus,
)
from omnisdk.statuspage import StatusPage

pytestmark = pytest.mark.asyncio(loop_scope="module")


def _order(
    account: str,
    channel: str,
    external_id: str,
    price: str,
    *,
    currency: str = "VND",
    quantity: int = 1,
    refund: str | None = None,
    pickup: str | None = None,
    days_ago: int = 0,
) -> Order:
    unit = Money.of(price, currency)
    placed = datetime.now(UTC) - timedelta(days=days_ago, minutes=5)
    return Order(
        channel_ref=ChannelRef(channel=channel, account=account, external_id=external_id),
        status=OrderStatus.COMPLETED,
        payment_status=PaymentStatus.PARTIALLY_REFUNDED if refund else PaymentStatus.PAID,
        currency=currency,
        lines=[OrderLine(sku="ÁO-DÀI-LỤA-ĐỎ", quantity=quantity, unit_price=unit)],
        subtotal=unit * quantity,
        total=unit * quantity,
        refund_total=Money.of(refund, currency) if refund else None,
        fulfilment=FulfilmentMode.PICKUP if pickup else FulfilmentMode.SHIP,
        pickup_location=pickup,
        created_at=placed,
        updated_at=placed,
    )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(shop: Harness) -> AsyncIterator[httpx.AsyncClient]:
    engine = shop.engine
    # The shop sold 2 áo dài (2,900,000 đồng) on shop-sai-gon; add a chat sale refunded in
    # part, a counter sale at the Q1 store, a sale in dollars and one three days ago.
    await engine.record_order(_order("zalo-shop", "chat", "Z-1", "1450000", refund="450000"))
    await engine.record_order(_order("pos-q1", "pos", "K-1", "85000", pickup="hcm-q1"))
    await engine.record_order(
        _order("shop-global", "shopify", "U-1", "12.50", currency="USD", quantity=2)
    )
    await engine.record_order(_order("zalo-shop", "chat", "Z-0", "300000", days_ago=3))
    page = StatusPage(shop.engine)
    transport = httpx.ASGITransport(app=page.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://status.test") as http:
        yield http
    page.close()


def _bars(html: str, by: str, currency: str) -> dict[str, str]:
    """The bars of one chart: label -> the figure its tooltip shows."""
    found = re.search(
        rf'<figure class="chart" data-by="{by}" data-currency="{currency}">(.*?)</figure>',
        html,
        re.S,
    )
    assert found, (by, currency)
    return dict(re.findall(r"<rect [^>]*><title>([^<]*): ([^<]*)</title></rect>", found[1]))


async def test_the_charts_draw_net_sales_per_channel_account_and_store_per_currency(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/sales?days=7")
    assert response.status_code == 200
    html = response.text
    assert _bars(html, "channel", "VND") == {
        "chat": "1,300,000 VND",  # 1,450,000 less the 450,000 refunded, plus 300,000
        "example": "2,900,000 VND",
        "pos": "85,000 VND",
    }
    assert _bars(html, "account", "VND") == {
        "pos-q1": "85,000 VND",
        "shop-sai-gon": "2,900,000 VND",
        "zalo-shop": "1,300,000 VND",
    }
    assert _bars(html, "location", "VND") == {
        "(shipped)": "4,200,000 VND",
        "hcm-q1": "85,000 VND",
    }
    # Dollars have charts of their own: never added to đồng.
    assert _bars(html, "channel", "USD") == {"shopify": "25.00 USD"}
    assert "450,000 VND" in html  # the refunds in the VND totals
    assert "<script>" not in html.split("</head>", 1)[1]  # inline SVG, no script drawn


async def test_the_window_is_a_link_and_leaves_older_sales_out(client: httpx.AsyncClient) -> None:
    today = (await client.get("/sales?days=1")).text
    assert _bars(today, "channel", "VND")["chat"] == "1,000,000 VND"  # not the one 3 days ago
    assert '<strong aria-current="page">today</strong>' in today
    assert 'href="/sales?days=30"' in today
    default = (await client.get("/sales")).text
    assert '<strong aria-current="page">30 days</strong>' in default


async def test_a_window_not_offered_is_a_page_saying_so(client: httpx.AsyncClient) -> None:
    for days in ("2", "-1", "abc", "99999999999999999999"):
        response = await client.get(f"/sales?days={days}")
        assert response.status_code == 400, days
        assert "days must be one of 1, 7, 30, 90, 365" in response.text


async def test_the_live_stream_sends_the_sales_section(
    shop: Harness, client: httpx.AsyncClient
) -> None:
    """(``client`` records the sales this page shows.)"""
    page = StatusPage(shop.engine)
    page.close()  # a closed page's stream ends after its first round
    transport = httpx.ASGITransport(app=page.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://status.test") as http:
        response = await http.get("/events/sales?days=7")
    events = [chunk for chunk in response.text.split("\n\n") if chunk.startswith("event:")]
    [sent] = [json.loads(event.split("data: ", 1)[1]) for event in events]
    assert sent["id"] == "sales"
    assert _bars(sent["html"], "channel", "USD") == {"shopify": "25.00 USD"}
