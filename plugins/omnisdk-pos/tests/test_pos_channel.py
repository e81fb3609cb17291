"""The POS channel against the KiotViet sandbox: branches, stock per branch, sales counted
once, marketplace sales skipped, customers by phone, stock counts per branch."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from omnisdk_pos import PosChannel
from omnisdk_pos.sandbox import KiotVietSandbox

from omnisdk.models import FulfilmentMode, Money, OrderStatus, StockUpdate
from omnisdk.testing.clock import SandboxClock
from omnisdk.testing.control import IN_PROCESS_URL
from omnisdk.testing.registration import unthrottled
from omnisdk.testing.sandbox import SeedProduct

START = datetime(2024, 11, 11, 1, 0, tzinfo=UTC)
CATALOG = [
    SeedProduct(
        sku="AO-DAI-DO",
        title="Áo dài",
        price=650000,
        stock=5,
        product="Áo dài lụa tơ tằm",
        options={"Màu": "Đỏ"},
    ),
    SeedProduct(
        sku="AO-DAI-XANH",
        title="Áo dài",
        price=690000,
        stock=4,
        product="Áo dài lụa tơ tằm",
        options={"Màu": "Xanh ngọc"},
    ),
    SeedProduct(sku="LAVIE-CHAI", title="Nước suối Lavie 500ml", price=5000, stock=240),
]


@pytest.fixture
def sandbox() -> Iterator[KiotVietSandbox]:
    """A frozen-clock retailer with an áo dài in two colours and water by the bottle and
    by the carton of 24."""
    box = KiotVietSandbox(seed=21, clock=SandboxClock(START, frozen=True))
    with box.lock:
        box.seed_products(CATALOG)
    box.add_unit("LAVIE-CHAI", "LAVIE-THUNG", "Thùng", 24, 96000)
    yield box
    box.close()


@pytest_asyncio.fixture
async def channel(sandbox: KiotVietSandbox) -> AsyncIterator[PosChannel]:
    """The channel on the sandbox's clock."""
    made = make(sandbox)
    yield made
    await made.aclose()


def make(sandbox: KiotVietSandbox, **settings: Any) -> PosChannel:
    """A channel on ``sandbox`` (settings merged over the sandbox's)."""
    channel = PosChannel(
        {**sandbox.channel_settings(IN_PROCESS_URL), **settings},
        account="cua-hang",
        transport=httpx.ASGITransport(app=sandbox.app),
        clock=sandbox.clock.now,
    )
    unthrottled(channel)
    return channel


async def test_branches_are_pickup_locations_named_by_code(sandbox: KiotVietSandbox) -> None:
    """``CN01`` -> ``cn01`` by default; ``branch_codes`` renames one."""
    async with make(sandbox, branch_codes={20002: "ha-noi"}) as channel:
        locations = [loc async for loc in channel.stream_locations()]
    assert [(loc.code, loc.name, loc.pickup) for loc in locations] == [
        ("cn01", "Chi nhánh Quận 1", True),
        ("ha-noi", "Chi nhánh Hà Nội", True),
    ]
    assert locations[1].address is not None
    assert locations[1].address.province == "Hà Nội"


async def test_units_group_with_their_base_and_stock_is_per_branch(
    channel: PosChannel, sandbox: KiotVietSandbox
) -> None:
    """The carton is a variant of the water; stock is read per branch on base units."""
    products = [p async for p in channel.stream_products()]
    water = next(p for p in products if "LAVIE-CHAI" in p.skus)
    assert water.skus == ["LAVIE-CHAI", "LAVIE-THUNG"]
    assert water.variant("LAVIE-THUNG").price == Money.of(96000, "VND")
    sandbox.set_stock("LAVIE-CHAI", 48, branch_id=20002)
    levels = [lv async for lv in channel.stream_stock()]
    water_levels = {(lv.location, lv.on_hand) for lv in levels if lv.sku == "LAVIE-CHAI"}
    assert water_levels == {("cn01", 240), ("cn02", 48)}
    assert not [lv for lv in levels if lv.sku == "LAVIE-THUNG"]


async def test_each_sale_is_one_order_whatever_its_documents(
    channel: PosChannel, sandbox: KiotVietSandbox
) -> None:
    """A counter sale (HD), an order later invoiced (DH + HD: one sale), a draft order, a
    cancelled invoice, a mirrored Shopee sale (skipped), a carton sold (24 bottles)."""
    cursor = sandbox.clock.now()
    sandbox.clock.advance(1)
    counter = sandbox.counter_sale({"AO-DAI-DO": 1}, branch_id=20001)
    invoiced = sandbox.online_order({"AO-DAI-XANH": 2}, branch_id=20001)
    sandbox.clock.advance(60)
    sandbox.invoice_order(invoiced)
    draft = sandbox.online_order({"AO-DAI-DO": 1}, branch_id=20001)
    refund = sandbox.counter_sale({"AO-DAI-DO": 1})
    sandbox.cancel_order(refund)
    shopee = sandbox.marketplace_sale({"AO-DAI-XANH": 1})
    carton = sandbox.counter_sale({"LAVIE-THUNG": 2})
    orders = [o async for o in channel.stream_orders(updated_since=cursor)]
    by_id = {o.channel_ref.external_id: o for o in orders}
    assert len(by_id) == len(orders), "a sale came back twice"
    assert set(by_id) == {counter, invoiced, draft, refund, carton}
    assert shopee not in by_id and channel.skipped_marketplace == 1
    assert by_id[counter].status is OrderStatus.COMPLETED
    assert by_id[invoiced].status is OrderStatus.COMPLETED
    assert by_id[invoiced].number is not None and by_id[invoiced].number.startswith(invoiced)
    assert by_id[draft].status is OrderStatus.PENDING
    assert by_id[refund].status is OrderStatus.CANCELLED
    assert by_id[carton].quantities() == {"LAVIE-CHAI": 48}
    assert all(
        o.fulfilment is FulfilmentMode.PICKUP and o.pickup_location == "cn01" for o in orders
    )
    assert (await channel.get_order(invoiced)).status is OrderStatus.COMPLETED
    assert (await channel.get_order(draft)).status is OrderStatus.PENDING
    later = [o async for o in channel.stream_orders(updated_since=sandbox.clock.now())]
    assert later == []


async def test_marketplace_sales_can_be_kept(sandbox: KiotVietSandbox) -> None:
    """``skip_marketplace_sales=False`` for a marketplace omnisdk does not connect."""
    code = sandbox.marketplace_sale({"AO-DAI-DO": 1}, marketplace="Lazada")
    assert code.startswith("HDLZD_")
    async with make(sandbox, skip_marketplace_sales=False) as channel:
        orders = [o async for o in channel.stream_orders()]
    assert [o.channel_ref.external_id for o in orders] == [code]


async def test_stock_counts_land_per_branch_and_fail_alone(
    channel: PosChannel, sandbox: KiotVietSandbox
) -> None:
    """A count at each branch lands; an unknown SKU, an unknown branch and a unit SKU fail
    alone; 150 counts take two calls of at most 100."""
    results = await channel.write_branch_stock(
        [
            StockUpdate(sku="AO-DAI-DO", quantity=9, location="cn02"),
            StockUpdate(sku="KHONG-CO", quantity=1),
            StockUpdate(sku="AO-DAI-XANH", quantity=7),
            StockUpdate(sku="AO-DAI-DO", quantity=1, location="da-nang"),
            StockUpdate(sku="LAVIE-THUNG", quantity=3),
        ]
    )
    assert [r.ok for r in results] == [True, False, True, False, False]
    assert [r.code for r in results if not r.ok] == ["unknown_sku", "unknown_branch", "unit_sku"]
    shop = sandbox.shop
    red = shop.by_code("AO-DAI-DO")
    green = shop.by_code("AO-DAI-XANH")
    assert red is not None and green is not None
    assert (int(shop.inventory(red, 20001).on_hand), int(shop.inventory(red, 20002).on_hand)) == (
        5,
        9,
    )
    assert int(shop.inventory(green, 20001).on_hand) == 7
    with sandbox.lock:
        sandbox.seed_products(
            [SeedProduct(sku=f"DEP-{i:03d}", title="Dép tổ ong", price=35000) for i in range(150)]
        )
    sandbox.requests.clear()
    many = await channel.write_branch_stock(
        [StockUpdate(sku=f"DEP-{i:03d}", quantity=i) for i in range(150)]
    )
    assert all(r.ok for r in many)
    assert [w.items for w in sandbox.operations("stock.write")] == [100, 50]


async def test_customers_are_found_and_created_by_phone(
    channel: PosChannel, sandbox: KiotVietSandbox
) -> None:
    """``+84 90 123 4567`` finds the customer saved as ``0901234567``; a new number creates
    one (KiotViet stores it as 09xx); a masked number is refused."""
    sandbox.counter_sale(
        {"AO-DAI-DO": 1}, customer={"name": "Nguyễn Thị Hoa", "phone": "0901234567"}
    )
    found = await channel.customer_for_phone("+84 90 123 4567", name="Ai đó")
    assert found.full_name == "Nguyễn Thị Hoa"
    assert [p.e164 for p in found.phones] == ["+84901234567"]
    created = await channel.customer_for_phone("0987654321", name="Trần Văn Bình")
    assert created.full_name == "Trần Văn Bình"
    assert [c.phone for c in sandbox.shop.customers.values()] == ["0901234567", "0987654321"]
    again = await channel.customer_for_phone("+84987654321", name="Trần Văn Bình")
    assert again.channel_ref == created.channel_ref
    assert await channel.find_customer("0912000111") is None
    with pytest.raises(ValueError, match="not a usable phone"):
        await channel.customer_for_phone("84*****678", name="Đ******h")


async def test_a_first_read_goes_back_history_days(
    channel: PosChannel, sandbox: KiotVietSandbox
) -> None:
    """Without a cursor, sales of the last ``history_days`` (30) come, older ones do not."""
    old = sandbox.counter_sale({"AO-DAI-DO": 1})
    sandbox.clock.advance(timedelta(days=31).total_seconds())
    recent = sandbox.counter_sale({"AO-DAI-DO": 1})
    orders = [o.channel_ref.external_id async for o in channel.stream_orders()]
    assert orders == [recent] and old not in orders


async def test_a_unit_added_after_the_first_read_is_still_booked_on_its_base(
    channel: PosChannel, sandbox: KiotVietSandbox
) -> None:
    """The channel read the catalog before a 6-pack existed; selling one re-reads it once."""
    first = sandbox.counter_sale({"LAVIE-CHAI": 1})
    assert [o.quantities() async for o in channel.stream_orders()] == [{"LAVIE-CHAI": 1}]
    sandbox.add_unit("LAVIE-CHAI", "LAVIE-LOC6", "Lốc", 6, 29000)
    cursor = sandbox.clock.now()
    sandbox.clock.advance(1)
    pack = sandbox.counter_sale({"LAVIE-LOC6": 2})
    orders = [o async for o in channel.stream_orders(updated_since=cursor)]
    assert [(o.channel_ref.external_id, o.quantities()) for o in orders] == [
        (pack, {"LAVIE-CHAI": 12})
    ]
    assert first != pack


# -- promotions: the merchant's price book ---------------------------------------------------


def _promotion(*skus: str) -> Any:
    from omnisdk.models import PromotionItem, PromotionWrite

    prices = {"AO-DAI-DO": (650000, 552500), "LAVIE-THUNG": (96000, 81600)}
    return PromotionWrite(
        id="tet-2027",
        name="Khuyến mãi Tết",
        starts_at=START - timedelta(minutes=1),
        ends_at=START + timedelta(days=1),
        items=tuple(
            PromotionItem(
                sku=sku,
                base=Money.of(prices.get(sku, (5000, 4000))[0], "VND"),
                promoted=Money.of(prices.get(sku, (5000, 4000))[1], "VND"),
            )
            for sku in skus
        ),
    )


async def test_a_promotion_is_the_price_books_price_while_the_book_runs(
    sandbox: KiotVietSandbox, channel: PosChannel
) -> None:
    from omnisdk_pos.sandbox.state.shop import DEFAULT_PRICE_BOOK

    promotion = _promotion("AO-DAI-DO", "LAVIE-THUNG", "KHONG-CO")
    results = await channel.write_promotion(promotion)
    assert [r.ok for r in results] == [True, True, False]
    assert results[0].external_id == str(DEFAULT_PRICE_BOOK)
    skus = ["AO-DAI-DO", "LAVIE-THUNG"]
    promoted = {"AO-DAI-DO": Money.of(552500, "VND"), "LAVIE-THUNG": Money.of(81600, "VND")}
    assert await channel.read_selling_prices(skus) == promoted
    book = sandbox.shop.price_books[DEFAULT_PRICE_BOOK]
    book.active = False  # the merchant switched the book off in KiotViet
    assert await channel.read_selling_prices(skus) == {
        "AO-DAI-DO": Money.of(650000, "VND"), "LAVIE-THUNG": Money.of(96000, "VND")
    }
    book.active = True
    for _ in range(2):
        ended = await channel.end_promotion(_promotion(*skus))
        assert all(r.ok for r in ended)
        assert await channel.read_selling_prices(skus) == {
            "AO-DAI-DO": Money.of(650000, "VND"), "LAVIE-THUNG": Money.of(96000, "VND")
        }


async def test_without_a_price_book_the_pos_says_what_to_do(sandbox: KiotVietSandbox) -> None:
    from omnisdk.errors import UnsupportedOperation

    channel = make(sandbox, promotion_price_book=None)
    try:
        assert "set promotion_price_book" in (channel.promotion_support() or "")
        with pytest.raises(UnsupportedOperation, match="price book"):
            await channel.write_promotion(_promotion("AO-DAI-DO"))
        wrong = make(sandbox, promotion_price_book=12345)
        [refused] = await wrong.write_promotion(_promotion("AO-DAI-DO"))
        assert not refused.ok and "bảng giá" in (refused.error or "")
        await wrong.aclose()
    finally:
        await channel.aclose()


async def test_price_book_lines_go_as_the_public_client_sends_them(
    sandbox: KiotVietSandbox, channel: PosChannel
) -> None:
    """The channel sends ``{"priceBookId", "details": [{"productId", "price"}]}`` (the one
    public client of ``POST /pricebooks/detail``); the sandbox also takes the earlier guess's
    ``pricebookDetails`` and keys in any case, since KiotViet's own page was not found."""
    sent: list[dict[str, Any]] = []
    real = channel.client.call

    async def spy(method: str, path: str, **options: Any) -> Any:
        if path == "/pricebooks/detail":
            sent.append(options["body"])
        return await real(method, path, **options)

    channel.client.call = spy  # type: ignore[method-assign]
    assert all(r.ok for r in await channel.write_promotion(_promotion("AO-DAI-DO")))
    [body] = sent
    assert set(body) == {"priceBookId", "details"}
    assert set(body["details"][0]) == {"productId", "price"}
    book = body["priceBookId"]
    product = body["details"][0]["productId"]
    await real("POST", "/pricebooks/detail",
               body={"PricebookId": book, "pricebookDetails": [{"ProductId": product,
                                                                "Price": 640000}]})
    with sandbox.lock:
        assert sandbox.shop.price_books[book].prices[product] == 640000
