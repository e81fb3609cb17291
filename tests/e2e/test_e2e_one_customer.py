"""End to end: one buyer on three channels and at a store is one customer with one history.

Lê Minh Châu buys on Shopify (phone written ``+84 903 123 456`` and an e-mail), on the
Example web shop (``0903123456``), in a Zalo chat the shop records through the API (her
e-mail only) and at the counter of the KiotViet store (the POS invoice names her; the POS
customer list has her phone as ``0903 123 456``). The sandboxes are real HTTP APIs (in
process); the engine polls orders and the store's customers. Proven: one customer, every
order on every channel and at the store (with the branch as location), merges explained,
lifetime value per currency, the last channel used, and the sales report by location.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from _engine_testkit import Account, MakeHarness, seed

from omnisdk.models import ChannelRef, Customer, Email, Money, Order, OrderLine, OrderStatus

SKU = "ÁO-DÀI-ĐỎ-M"
CHAU = {"name": "Lê Minh Châu", "phone": "+84 903 123 456", "email": "chau.le@example.vn"}
PHONE = "+84903123456"


def _chat_order() -> Order:
    unit = Money.of(650000, "VND")
    placed = datetime.now(UTC)
    return Order(
        channel_ref=ChannelRef(channel="chat", account="zalo-shop", external_id="Z-7"),
        number="Z-7",
        status=OrderStatus.CONFIRMED,
        currency="VND",
        lines=[OrderLine(sku=SKU, quantity=1, unit_price=unit)],
        subtotal=unit,
        total=unit,
        customer=Customer(full_name="Châu Lê", emails=[Email.parse("Chau.Le@Example.vn")]),
        created_at=placed,
        updated_at=placed,
    )


async def test_one_buyer_everywhere_is_one_customer(make_harness: MakeHarness) -> None:
    shopify_sandbox = pytest.importorskip("omnisdk_shopify.sandbox.app")
    shopify_channel = pytest.importorskip("omnisdk_shopify.channel")
    pos = pytest.importorskip("omnisdk_pos")
    pos_sandbox = pytest.importorskip("omnisdk_pos.sandbox")
    store = pos_sandbox.KiotVietSandbox(seed=3)
    harness = await make_harness(
        Account(
            "shopify-hcm",
            channel_class=shopify_channel.ShopifyChannel,
            sandbox=shopify_sandbox.ShopifySandbox(),
        ),
        Account("shop-web"),
        Account("cua-hang", channel_class=pos.PosChannel, sandbox=store, location="cn01"),
    )
    engine = harness.engine
    await seed(harness, SKU, stock=5, price="650000")
    await harness.controls["shopify-hcm"].place_order([(SKU, 1)], customer=CHAU)
    web = {"name": "Lê Minh Châu", "phone": "0903123456"}
    await harness.controls["shop-web"].place_order([(SKU, 2)], customer=web)
    await engine.record_order(_chat_order())
    invoice = store.counter_sale(
        {SKU: 1}, branch_id=20001, customer={"name": "Lê Minh Châu", "phone": "0903 123 456"}
    )
    for account in ("shopify-hcm", "shop-web", "cua-hang"):
        await engine.poll_orders(account)
    await engine.poll_customers("cua-hang")  # the store's customer list has her phone

    [view] = await engine.find_customers("0903 123 456")
    assert [v.id for v in await engine.find_customers("chau.le@example.vn")] == [view.id]
    accounts = sorted(order.channel_ref.account for order in view.orders)
    assert accounts == ["cua-hang", "shop-web", "shopify-hcm", "zalo-shop"]
    [at_store] = [o for o in view.orders if o.channel_ref.account == "cua-hang"]
    assert at_store.location == "cn01" and invoice in (at_store.number or "")
    assert ("phone", PHONE, False) in {(c.kind, c.value, c.masked) for c in view.contacts}
    assert {ref.account for ref in view.identities} >= {"shopify-hcm", "cua-hang"}
    assert view.merges and all(merge.reason for merge in view.merges)
    [value] = view.lifetime_value
    assert value == Money.of(650000 * 5, "VND")  # 1 + 2 + 1 + 1 áo dài, one currency
    assert view.last_channel is not None
    assert view.last_channel.account == view.orders[-1].channel_ref.account

    report = await engine.sales_report("location")
    by_store = {(line.key, line.currency): line.orders for line in report.rows}
    assert by_store == {("", "VND"): 3, ("cn01", "VND"): 1}
