"""Chat orders under the engine: recorded for the Facebook account, they move stock like any
other order, so every other channel may sell less at once, and the catalog is pushed the
lower figure too."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from omnisdk_example.channel import ExampleChannel
from omnisdk_example.sandbox import ExampleSandbox
from omnisdk_facebook import ChatLine, FacebookChannel, chat_order
from omnisdk_facebook.sandbox import FacebookSandbox

from omnisdk import Money, OrderStatus
from omnisdk.config import ChannelConfig, Config, EngineConfig, StoreConfig
from omnisdk.plugins import Plugins
from omnisdk.store import Store
from omnisdk.sync import Engine
from omnisdk.testing.control import IN_PROCESS_URL, SandboxControl
from omnisdk.testing.registration import ContributeChannels, unthrottled

FACEBOOK = "fb-page"
WEB = "web-shop"
SKU = "ÁO-DÀI-ĐỎ-M"
PRICE = Money.of(450000, "VND")


@pytest_asyncio.fixture
async def engine(tmp_path: Path) -> AsyncIterator[tuple[Engine, FacebookSandbox, ExampleSandbox]]:
    """An engine (quota allocation) over a Facebook catalog and a web shop, in-process."""
    facebook, web = FacebookSandbox(seed=3), ExampleSandbox(seed=4)
    url = f"sqlite:///{tmp_path / 'omnisdk.db'}"
    config = Config(
        store=StoreConfig(url=url),
        engine=EngineConfig(allocation="quota"),
        channels=[
            ChannelConfig(name=FACEBOOK, type="facebook",
                          settings=facebook.channel_settings(IN_PROCESS_URL)),
            ChannelConfig(name=WEB, type=ExampleChannel.name,
                          settings=web.channel_settings(IN_PROCESS_URL)),
        ],
    )
    plugins = Plugins(entry_points=False)
    plugins.register(ContributeChannels(FacebookChannel, ExampleChannel), name="fb-and-web")
    store = Store(url)
    store.migrate()
    opened = Engine(
        config, plugins=plugins, store=store,
        transports={FACEBOOK: httpx.ASGITransport(app=facebook.app),
                    WEB: httpx.ASGITransport(app=web.app)},
    )
    await opened.open()
    for channel in opened.channels.values():
        unthrottled(channel)
    seed = {"sku": SKU, "title": "Áo dài lụa đỏ cỡ M", "price": "450000", "stock": 0}
    for sandbox in (facebook, web):
        async with SandboxControl.for_sandbox(sandbox) as control:
            await control.seed([seed])
    for account in (FACEBOOK, WEB):
        await opened.add_listing(account, SKU)
    try:
        yield opened, facebook, web
    finally:
        await opened.aclose()
        store.close()
        facebook.close()
        web.close()


def _order(conversation: str, quantity: int, status: OrderStatus = OrderStatus.PENDING):  # type: ignore[no-untyped-def]
    return chat_order(
        account=FACEBOOK, conversation=conversation, surface="messenger",
        lines=[ChatLine(SKU, quantity, PRICE)], buyer="Nguyễn Thị Hoa", phone="0912 345 678",
        placed_at=datetime(2026, 12, 4, 9, 30, tzinfo=UTC), status=status,
    )


async def test_a_chat_order_lowers_what_every_other_channel_may_sell(
    engine: tuple[Engine, FacebookSandbox, ExampleSandbox],
) -> None:
    opened, facebook, web = engine
    await opened.set_stock(SKU, 10)
    assert not (await opened.push()).failed
    before = {account: await opened.sellable(account, SKU) for account in (FACEBOOK, WEB)}
    listed = facebook.listing(SKU)["stock"] + web.listing(SKU)["stock"]
    assert listed <= 10 and before[WEB] > 0

    result = await opened.record_order(_order("m_chat-0001", 4))
    assert result is not None
    view = await opened.stock_view(SKU)
    assert sum(loc.reserved for loc in view.locations) == 4
    assert not (await opened.push()).failed
    after = {account: await opened.sellable(account, SKU) for account in (FACEBOOK, WEB)}
    assert after[WEB] < before[WEB], (before, after)
    listed = facebook.listing(SKU)["stock"] + web.listing(SKU)["stock"]
    assert listed <= 10 - 4, (facebook.listing(SKU), web.listing(SKU))
    assert facebook.listing(SKU)["stock"] == after[FACEBOOK]
    assert web.listing(SKU)["stock"] == after[WEB]

    again = await opened.record_order(_order("m_chat-0001", 4))  # the same chat, twice
    assert again is not None
    view = await opened.stock_view(SKU)
    assert sum(loc.reserved for loc in view.locations) == 4

    await opened.record_order(_order("m_chat-0001", 4, OrderStatus.CANCELLED))
    assert not (await opened.push()).failed
    view = await opened.stock_view(SKU)
    assert sum(loc.reserved for loc in view.locations) == 0
    released = await opened.sellable(WEB, SKU)
    assert released >= before[WEB]


def test_a_chat_order_refuses_what_it_cannot_record() -> None:
    with pytest.raises(ValueError, match="surface"):
        chat_order(account=FACEBOOK, conversation="c1", surface="fax",
                   lines=[ChatLine(SKU, 1, PRICE)], placed_at=datetime.now(UTC))
    with pytest.raises(ValueError, match="time zone"):
        chat_order(account=FACEBOOK, conversation="c1", lines=[ChatLine(SKU, 1, PRICE)],
                   placed_at=datetime(2026, 12, 4, 9, 30))
    with pytest.raises(ValueError, match="one currency"):
        chat_order(account=FACEBOOK, conversation="c1",
                   lines=[ChatLine(SKU, 1, PRICE), ChatLine("NON-LA", 1, Money.of("5.00", "USD"))],
                   placed_at=datetime.now(UTC))
    order = chat_order(account=FACEBOOK, conversation="c1", lines=[ChatLine(SKU, 2, PRICE)],
                       placed_at=datetime.now(UTC), shipping=Money.of(30000, "VND"))
    assert order.total == Money.of(930000, "VND")
    assert order.channel_ref.external_id == "messenger:c1"


async def test_a_part_refunded_in_chat_lowers_the_net_of_the_facebook_account(
    engine: tuple[Engine, FacebookSandbox, ExampleSandbox],
) -> None:
    opened, _, _ = engine
    await opened.set_stock(SKU, 10)
    sale = _order("m_chat-0016", 2, OrderStatus.DELIVERED)
    await opened.record_order(sale)
    given_back = chat_order(
        account=FACEBOOK, conversation="m_chat-0016", surface="messenger",
        lines=[ChatLine(SKU, 2, PRICE)], buyer="Nguyễn Thị Hoa", phone="0912 345 678",
        placed_at=sale.created_at, status=OrderStatus.DELIVERED,
        updated_at=datetime(2026, 12, 6, 8, 0, tzinfo=UTC), refunded=Money.of(150000, "VND"),
    )
    assert given_back.payment_status.value == "partially_refunded"
    await opened.record_order(given_back)
    [row] = (await opened.sales_report("account")).rows
    assert (row.key, row.gross, row.refunds, row.net) == (
        FACEBOOK, Money.of(900000, "VND"), Money.of(150000, "VND"), Money.of(750000, "VND")
    )
    with pytest.raises(ValueError, match="every price of a chat order must be in one currency"):
        chat_order(account=FACEBOOK, conversation="m_chat-0017", lines=[ChatLine(SKU, 1, PRICE)],
                   placed_at=sale.created_at, refunded=Money.of("1.00", "USD"))
