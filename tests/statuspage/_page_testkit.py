"""A shop for the status page tests: two Example accounts under quotas, a catalog with a
hostile product name, stock, an order, a quarantined payload and a failed push."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from _engine_testkit import Account, Harness, Recorder, engine_config, plugins_with
from omnisdk_example.channel import ExampleChannel
from omnisdk_example.sandbox import ExampleSandbox

from omnisdk.models import Money, Product, Variant
from omnisdk.sync import Engine
from omnisdk.testing.control import SandboxControl
from omnisdk.testing.registration import unthrottled

HANOI_SHOP = "shop-ha-noi"
SAIGON_SHOP = "shop-sai-gon"
SKU_HAT = "NÓN-LÁ-HUẾ"
SKU_SHIRT = "ÁO-DÀI-LỤA-ĐỎ"
HOSTILE_TITLE = "Nón lá Huế <script>window.pwned = 1</script>"
SHIRT_TITLE = "Áo dài lụa Hà Đông"
QUARANTINE_REASON = "giá trị không hợp lệ: <img src=x onerror=alert(1)>"


async def stock_the_shop(harness: Harness) -> None:
    """Catalog, stock (1 hat: one account may list it, the other is held at 0), listings
    pushed, one buyer's order polled in, a quarantined payload and a push failed for good."""
    engine, store = harness.engine, harness.store
    store.upsert_product(
        Product(title=HOSTILE_TITLE, variants=[Variant(sku=SKU_HAT, price=Money.of(85000, "VND"))])
    )
    store.upsert_product(
        Product(
            title=SHIRT_TITLE, variants=[Variant(sku=SKU_SHIRT, price=Money.of(1450000, "VND"))]
        )
    )
    for account, control in harness.controls.items():
        await control.seed(
            [
                {"sku": sku, "title": title, "price": price, "currency": "VND", "stock": 0}
                for sku, title, price in (
                    (SKU_HAT, "Nón lá", "85000"),
                    (SKU_SHIRT, "Áo dài", "1450000"),
                )
            ]
        )
        for sku in (SKU_HAT, SKU_SHIRT):
            await engine.add_listing(account, sku)
    await engine.set_stock(SKU_HAT, 1)
    await engine.set_stock(SKU_SHIRT, 6)
    await engine.push()
    await harness.controls[SAIGON_SHOP].place_order([(SKU_SHIRT, 2)])
    await engine.poll_orders(SAIGON_SHOP)
    await engine.push()
    store.quarantine(HANOI_SHOP, "order", "HN-0042", QUARANTINE_REASON, {"id": "HN-0042"})
    store.record_push_failure(SAIGON_SHOP, SKU_HAT, "sản phẩm bị khoá", code="LOCKED")


def secrets_of(harness: Harness) -> list[str]:
    """Every credential the shop's accounts were configured with."""
    found = []
    for sandbox in harness.sandboxes.values():
        settings = sandbox.channel_settings("http://unused")
        found += [str(settings["api_token"]), str(settings["webhook_secret"])]
    return found


@asynccontextmanager
async def open_shop(store_url: str) -> AsyncIterator[Harness]:
    """An open engine over two Example sandboxes (in-process), stocked by
    :func:`stock_the_shop`; everything is closed on the way out."""
    accounts = [
        Account(HANOI_SHOP, sandbox=ExampleSandbox(seed=150)),
        Account(SAIGON_SHOP, sandbox=ExampleSandbox(seed=151)),
    ]
    sandboxes = {a.name: a.sandbox for a in accounts if a.sandbox is not None}
    engine = Engine(
        engine_config(store_url, accounts, allocation="quota"),
        plugins=plugins_with(ExampleChannel),
        transports={name: httpx.ASGITransport(app=s.app) for name, s in sandboxes.items()},
    )
    await engine.open()
    for channel in engine.channels.values():
        unthrottled(channel)
    harness = Harness(
        engine=engine,
        sandboxes=dict(sandboxes),
        controls={name: SandboxControl.for_sandbox(s) for name, s in sandboxes.items()},
        recorder=Recorder(),
        clock=None,
    )
    try:
        await stock_the_shop(harness)
        yield harness
    finally:
        await engine.aclose()
        for control in harness.controls.values():
            await control.aclose()
        for sandbox in sandboxes.values():
            sandbox.close()
