"""``omnisdk_notify_customer``: once per (customer, order, event), at least once across crashes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from _engine_testkit import PHONE_AN, SKU_RED_M, Account, Clock, MakeHarness, buyer, make_order
from sqlalchemy import func, select
from test_order_intake import signed_events, two_shops

from omnisdk import hookimpl
from omnisdk.models import Customer, Order, OrderStatus
from omnisdk.store import Store
from omnisdk.store.schema import notifications
from omnisdk.sync.intake import orders as intake_orders


@dataclass
class Texter:
    """An app that texts the buyer; ``failing`` times it raises first (a provider outage)."""

    sent: list[tuple[str, str, str, str]] = field(default_factory=list)
    failing: int = 0

    @hookimpl
    def omnisdk_notify_customer(
        self, customer: Customer, customer_id: str, order: Order, event: str, key: str
    ) -> None:
        if self.failing:
            self.failing -= 1
            raise ConnectionError("SMS gateway down")
        phone = next(p.e164 for p in customer.phones if p.e164)
        self.sent.append((phone, order.channel_ref.external_id, event, key))


async def test_webhook_and_poll_of_one_order_text_the_buyer_once(make_harness: MakeHarness) -> None:
    texter = Texter()
    harness = await two_shops(make_harness)
    engine = harness.engine
    engine.plugins.register(texter, name="texter")
    sandbox: Any = harness.sandboxes["shop-a"]
    customer = {"name": "Nguyễn Văn An", "phone": "0912 345 678"}
    order_id = await harness.controls["shop-a"].place_order([(SKU_RED_M, 1)], customer=customer)
    events = signed_events(harness, "shop-a", "order.created", sandbox.orders[order_id])
    await engine.handle_events("shop-a", events)  # the webhook
    await engine.handle_events("shop-a", events)  # redelivered
    await engine.poll_orders("shop-a")  # the poll finds it too
    confirmed = make_order(order_id, customer=buyer(), minutes=10**5)
    await engine.ingest_order(confirmed)
    await engine.ingest_orders([confirmed])
    shipped = make_order(order_id, status=OrderStatus.SHIPPED, customer=buyer(), minutes=10**6)
    await engine.ingest_orders([shipped])
    await engine.ingest_orders([shipped])

    assert [(p, o, e) for p, o, e, _ in texter.sent] == [
        (PHONE_AN, order_id, "order_pending"),
        (PHONE_AN, order_id, "order_confirmed"),
        (PHONE_AN, order_id, "order_shipped"),
    ]
    assert texter.sent[1][3].endswith(f":shop-a/{order_id}:order_confirmed")


async def test_a_failing_hook_is_called_again_later_with_the_same_key(
    make_harness: MakeHarness,
) -> None:
    clock = Clock()
    texter = Texter(failing=1)
    harness = await make_harness(Account("shop-a"), clock=clock)
    engine = harness.engine
    engine.plugins.register(texter, name="texter")
    await engine.ingest_order(make_order("A1", customer=buyer()))
    assert texter.sent == []
    assert await engine.deliver_notifications() == 0  # too early to retry
    clock.advance(61)
    assert await engine.deliver_notifications() == 1
    clock.advance(61)
    assert await engine.deliver_notifications() == 0  # delivered: never again
    assert [(o, e) for _, o, e, _ in texter.sent] == [("A1", "order_confirmed")]


async def test_a_crash_after_commit_is_delivered_by_a_later_cycle(
    make_harness: MakeHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    texter = Texter()
    harness = await make_harness(Account("shop-a"), clock=clock)
    engine = harness.engine
    engine.plugins.register(texter, name="texter")

    async def died(*args: object) -> int:  # the process died after the commit
        return 0

    monkeypatch.setattr(intake_orders, "deliver", died)
    await engine.ingest_orders([make_order("A1", customer=buyer())])
    monkeypatch.undo()
    await engine.ingest_orders([make_order("A1", customer=buyer())])  # poll again: claimed
    assert texter.sent == []
    clock.advance(61)
    await engine.sync_once(reconcile=False)
    await engine.sync_once(reconcile=False)
    assert [(o, e) for _, o, e, _ in texter.sent] == [("A1", "order_confirmed")]


async def test_orders_without_a_known_buyer_notify_no_one(make_harness: MakeHarness) -> None:
    texter = Texter()
    harness = await make_harness(Account("shop-a"))
    harness.engine.plugins.register(texter, name="texter")
    await harness.engine.ingest_order(make_order("A1"))
    assert texter.sent == []


async def test_no_listener_no_claim_and_a_later_listener_hears_only_what_follows(
    make_harness: MakeHarness,
) -> None:
    clock = Clock()
    harness = await make_harness(Account("shop-a"), clock=clock)
    engine = harness.engine
    await engine.ingest_order(make_order("A1", customer=buyer()))
    assert _claims(harness.store) == 0
    texter = Texter()
    engine.plugins.register(texter, name="texter")
    assert await engine.deliver_notifications() == 0  # no old order is owed a message
    await engine.ingest_order(make_order("A2", customer=buyer(), minutes=1))
    shipped = make_order("A1", status=OrderStatus.SHIPPED, customer=buyer(), minutes=2)
    await engine.ingest_order(shipped)
    clock.advance(3600)
    await engine.sync_once(reconcile=False)
    assert [(o, e) for _, o, e, _ in texter.sent] == [
        ("A2", "order_confirmed"),
        ("A1", "order_shipped"),
    ]
    assert _claims(harness.store) == 2


def _claims(store: Store) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(notifications)).scalar_one())


async def test_claims_pending_when_the_listener_leaves_wait_for_the_next_one(
    make_harness: MakeHarness,
) -> None:
    clock = Clock()
    texter = Texter(failing=1)
    harness = await make_harness(Account("shop-a"), clock=clock)
    engine = harness.engine
    engine.plugins.register(texter, name="texter")
    await engine.ingest_order(make_order("A1", customer=buyer()))  # the hook raised
    engine.plugins.unregister(texter)
    for _ in range(6):  # more cycles than MAX_ATTEMPTS: none is spent without a listener
        clock.advance(61)
        assert await engine.deliver_notifications() == 0
    later = clock.now + timedelta(seconds=1)
    [pending] = harness.store.pending_notifications(tried_before=later, max_attempts=99)
    assert pending.attempts == 1
    engine.plugins.register(texter, name="texter")
    clock.advance(61)
    assert await engine.deliver_notifications() == 1
    assert [(o, e) for _, o, e, _ in texter.sent] == [("A1", "order_confirmed")]


@dataclass
class Heard:
    """Every notification, as (account, order id, event)."""

    calls: list[tuple[str, str, str]] = field(default_factory=list)

    @hookimpl
    def omnisdk_notify_customer(
        self, customer: Customer, customer_id: str, order: Order, event: str, key: str
    ) -> None:
        ref = order.channel_ref
        self.calls.append((ref.account, ref.external_id, event))


@pytest.mark.parametrize("skip", [True, False], ids=["mirror-skipped", "mirror-kept"])
async def test_a_marketplace_order_mirrored_at_the_store_is_one_message(
    make_harness: MakeHarness, skip: bool
) -> None:
    """The same Shopee sale reaches the engine from Shopee and from KiotViet (which mirrors
    marketplace orders as ``HDSPE_...`` invoices): the buyer hears once. Kept on purpose
    (``skip_marketplace_sales=False``, for a marketplace omnisdk does not read), the mirror is
    a sale of its own and is told of on its own: the test fails if skipping does nothing."""
    from _engine_testkit import installed_platforms

    accounts = installed_platforms(("shopee-vn", "pos-q1"))
    if len(accounts) < 2:
        pytest.skip("needs omnisdk-shopee and omnisdk-pos")
    for account in accounts:
        if account.name == "pos-q1":
            account.settings = {"skip_marketplace_sales": skip}
    harness = await make_harness(*accounts)
    engine = harness.engine
    heard = Heard()
    engine.plugins.register(heard, name="heard")
    await harness.controls["shopee-vn"].seed(
        [{"sku": SKU_RED_M, "title": "Áo thun", "price": "129000", "stock": 5}]
    )
    await harness.controls["pos-q1"].seed(
        [{"sku": SKU_RED_M, "title": "Áo thun", "price": "129000", "stock": 5}]
    )
    order_id = await harness.controls["shopee-vn"].place_order(
        [(SKU_RED_M, 1)], customer={"name": "Nguyễn Văn An", "phone": "0912 345 678"}
    )
    pos: Any = harness.sandboxes["pos-q1"]
    mirror = pos.marketplace_sale({SKU_RED_M: 1})
    for _ in range(2):  # polled twice: nothing new the second time
        await engine.poll_orders("shopee-vn")
        await engine.poll_orders("pos-q1")
    orders = {(account, external) for account, external, _ in heard.calls}
    assert ("shopee-vn", order_id) in orders
    assert len(heard.calls) == len(set(heard.calls)), heard.calls
    if skip:
        assert orders == {("shopee-vn", order_id)}, heard.calls
    else:
        assert ("pos-q1", mirror) in orders, heard.calls
