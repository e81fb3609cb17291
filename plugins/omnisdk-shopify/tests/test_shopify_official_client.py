"""Shopify's official Python client (``ShopifyAPI``) against the sandbox, unmodified.

Only the resource site changes (``ShopifyResource.site`` after ``activate_session``): every
call goes over a real socket to the sandbox's REST Admin API.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from omnisdk.testing.server import LoopbackServer
from omnisdk_shopify.sandbox.app import ShopifySandbox

shopify = pytest.importorskip("shopify")
pyactiveresource = pytest.importorskip("pyactiveresource.connection")

VERSION = "2025-07"


@pytest.fixture
def served() -> Iterator[tuple[ShopifySandbox, str]]:
    """A sandbox on a loopback port, and ShopifyAPI's session pointed at it."""
    sandbox = ShopifySandbox(rest_bucket_size=40, rest_leak_rate=50.0)
    with LoopbackServer(sandbox.app) as server:
        session = shopify.Session("demo-shop.myshopify.com", VERSION, sandbox.access_token)
        shopify.ShopifyResource.activate_session(session)
        shopify.ShopifyResource.site = f"{server.base_url}/admin/api/{VERSION}"
        try:
            yield sandbox, server.base_url
        finally:
            shopify.ShopifyResource.clear_session()
            sandbox.close()


def _control(base_url: str, path: str, body: Any) -> Any:
    response = httpx.post(f"{base_url}/_sandbox{path}", json=body, timeout=30)
    response.raise_for_status()
    return response.json()


def _catalog(count: int) -> list[dict[str, Any]]:
    seeds = []
    for index in range(count):
        seeds.append(
            {
                "sku": f"AT-{index:04d}",
                "title": f"Áo thun cổ tròn {index}",
                "price": str(150_000 + index * 1_000),
                "currency": "VND",
                "stock": 5,
            }
        )
    for size in ("M", "L", "XL"):  # one product with three variants
        seeds.append(
            {
                "sku": f"AD-{size}",
                "title": "Áo dài",
                "product": "Áo dài lụa",
                "options": {"Size": size},
                "price": "890000",
                "currency": "VND",
                "stock": 2,
            }
        )
    return seeds


def test_lists_every_product_with_variants_across_pages(served: tuple[ShopifySandbox, str]) -> None:
    """More than 250 products page through ``Link`` headers; every variant comes back."""
    _, base_url = served
    seeds = _catalog(300)
    _control(base_url, "/seed", {"products": seeds})

    shop = shopify.Shop.current()
    assert shop.myshopify_domain == "demo-shop.myshopify.com"
    assert shop.currency == "VND"
    assert shopify.Product.count() == 301

    page = shopify.Product.find(limit=250)
    pages, products = 1, list(page)
    while page.has_next_page():
        page = page.next_page()
        pages += 1
        products += list(page)
    assert pages == 2
    prices = {v.sku: Decimal(v.price) for p in products for v in p.variants}
    assert prices == {s["sku"]: Decimal(s["price"]) for s in seeds}
    ao_dai = next(p for p in products if p.title == "Áo dài lụa")
    assert [v.option1 for v in ao_dai.variants] == ["M", "L", "XL"]
    assert [o.name for o in ao_dai.options] == ["Size"]
    assert 0 < shopify.Limits.credit_used() <= shopify.Limits.credit_limit() == 40


def test_reads_and_sets_inventory_levels(served: tuple[ShopifySandbox, str]) -> None:
    """Locations and inventory levels read back; ``InventoryLevel.set`` lands and adjusts."""
    sandbox, base_url = served
    _control(base_url, "/seed", {"products": _catalog(3)})
    [location] = shopify.Location.find()
    assert location.name == "Kho HCM"
    variant = shopify.Product.find(limit=1)[0].variants[0]
    levels = shopify.InventoryLevel.find(
        inventory_item_ids=str(variant.inventory_item_id), location_ids=str(location.id)
    )
    assert [(lv.location_id, lv.available) for lv in levels] == [(location.id, 5)]

    level = shopify.InventoryLevel.set(location.id, variant.inventory_item_id, 42)
    assert level.available == 42
    assert sandbox.listing(variant.sku)["stock"] == 42
    adjusted = shopify.InventoryLevel.adjust(location.id, variant.inventory_item_id, -2)
    assert adjusted.available == 40
    at_location = shopify.InventoryLevel.find(
        from_=f"{shopify.ShopifyResource.site}/locations/{location.id}/inventory_levels.json"
    )
    assert {lv.inventory_item_id: lv.available for lv in at_location}[
        variant.inventory_item_id
    ] == 40


def test_lists_orders_placed_by_a_buyer(served: tuple[ShopifySandbox, str]) -> None:
    """Orders (``status=any``) carry lines, VND totals and the buyer; cancelled ones too."""
    sandbox, base_url = served
    _control(base_url, "/seed", {"products": _catalog(2)})
    placed = _control(
        base_url,
        "/buyer/orders",
        {
            "lines": [{"sku": "AT-0000", "quantity": 2}, {"sku": "AT-0001", "quantity": 1}],
            "customer": {
                "name": "Trần Văn Nam",
                "phone": "0903 123 456",
                "email": "nam@example.vn",
            },
        },
    )["id"]
    other = _control(base_url, "/buyer/orders", {"lines": [{"sku": "AT-0001", "quantity": 1}]})
    # The control routes take one path segment: the numeric id stands for the GID.
    _control(base_url, f"/buyer/orders/{other['id'].rsplit('/', 1)[-1]}/cancel", {})

    open_orders = shopify.Order.find()
    assert [o.admin_graphql_api_id for o in open_orders] == [placed]
    orders = shopify.Order.find(status="any")
    assert len(orders) == 2
    order = next(o for o in orders if o.admin_graphql_api_id == placed)
    assert {(li.sku, li.quantity) for li in order.line_items} == {("AT-0000", 2), ("AT-0001", 1)}
    assert order.currency == "VND"
    assert Decimal(order.total_price) == Decimal(150_000 * 2 + 151_000)
    assert order.customer.phone == "+84903123456"
    assert shopify.Order.count(status="any") == 2
    assert sandbox.listing("AT-0001")["stock"] == 4  # cancelled order restocked its unit


def test_call_limit_answers_429_with_retry_after() -> None:
    """An overflowing leaky bucket answers 429 + ``Retry-After``, as the client expects."""
    sandbox = ShopifySandbox(rest_bucket_size=3, rest_leak_rate=0.5)
    with LoopbackServer(sandbox.app) as server:
        headers = {"X-Shopify-Access-Token": sandbox.access_token}
        url = f"{server.base_url}/admin/api/{VERSION}/shop.json"
        answers = [httpx.get(url, headers=headers) for _ in range(4)]
    sandbox.close()
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[2].headers["X-Shopify-Shop-Api-Call-Limit"] == "3/3"
    assert float(answers[3].headers["Retry-After"]) > 0
    assert "Exceeded 2 calls per second" in answers[3].json()["errors"]


def test_page_info_refuses_other_filters(served: tuple[ShopifySandbox, str]) -> None:
    """After the first page only ``limit`` and ``fields`` may accompany ``page_info``."""
    _, base_url = served
    _control(base_url, "/seed", {"products": _catalog(3)})
    headers = {"X-Shopify-Access-Token": served[0].access_token}
    first = httpx.get(
        f"{base_url}/admin/api/{VERSION}/products.json?limit=1&status=active", headers=headers
    )
    next_url = first.headers["Link"].split(";")[0].strip("<>")
    assert httpx.get(next_url, headers=headers).status_code == 200
    refused = httpx.get(next_url + "&status=active", headers=headers)
    assert refused.status_code == 400
    assert "page_info" in json.dumps(refused.json()["errors"])


def test_wrong_token_is_refused_like_shopify(served: tuple[ShopifySandbox, str]) -> None:
    """A wrong access token: 401 with Shopify's message, UnauthorizedAccess in the client."""
    shopify.ShopifyResource.headers["X-Shopify-Access-Token"] = "shpat_wrong"
    with pytest.raises(pyactiveresource.UnauthorizedAccess):
        shopify.Shop.current()
