"""The channel conformance suite: what every channel plugin must pass, against its sandbox.

A plugin's tests subclass :class:`ChannelConformance` and name two classes; that is all::

    from omnisdk.testing import ChannelConformance
    from omnisdk_example.channel import ExampleChannel
    from omnisdk_example.sandbox import ExampleSandbox

    class TestExampleConformance(ChannelConformance):
        channel_class = ExampleChannel
        sandbox_class = ExampleSandbox

Every test drives the sandbox only through its control API (``/_sandbox/*``) and the channel
only through the :class:`~omnisdk.channel.Channel` contract, so the suite knows nothing about
any platform. A test whose capability the channel does not declare is skipped with the reason.
Tests run in-process over :class:`httpx.ASGITransport` (fast); the loopback test and the
webhook test go over real sockets (:class:`~omnisdk.testing.server.LoopbackServer`).

By default the channel runs without its declared rate limit (the limit is the platform's, the
sandbox does not enforce it, and honouring it would only make the suite slow); set
``respect_rate_limit = True`` to keep it.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import unicodedata
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar, Literal

import httpx
import pytest
import pytest_asyncio
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from omnisdk.channel import Capability, Channel, ChannelSettings, WebhookRequest
from omnisdk.errors import ChannelError, UnsupportedOperation, WebhookVerificationError
from omnisdk.hookspecs import hookimpl
from omnisdk.http import single_attempt
from omnisdk.models import (
    ChannelEvent,
    Customer,
    EventKind,
    Location,
    Money,
    Order,
    PriceUpdate,
    Product,
    PromotionItem,
    PromotionMechanism,
    PromotionWrite,
    StockPushMode,
    StockUpdate,
)
from omnisdk.plugins import Plugins
from omnisdk.store.sales_figures import sales_figures
from omnisdk.testing.control import IN_PROCESS_URL, SandboxControl, SandboxRefused
from omnisdk.testing.faults import FaultKind
from omnisdk.testing.fuzz import FUZZ_SETTINGS, check_mapping, mutations
from omnisdk.testing.leaks import SecretLeakGuard
from omnisdk.testing.receiver import ReceivedWebhook, WebhookRecorder
from omnisdk.testing.registration import ContributeChannels, unthrottled
from omnisdk.testing.sandbox import Sandbox
from omnisdk.testing.server import LoopbackServer

__all__ = ["ChannelConformance", "vietnamese_catalog"]

_TITLES = [
    "Áo thun cổ tròn",
    "Quần jean ống đứng",
    "Nón lá Huế",
    "Cà phê sữa đá đóng lon",
    "Bánh pía sầu riêng",
    "Nước mắm Phú Quốc",
    "Dép tổ ong",
    "Khăn rằn Nam Bộ",
    "Ấm trà Bát Tràng",
    "Gối tựa lưng thêu tay",
    "Túi cói đi biển",
    "Đèn lồng Hội An",
]


def vietnamese_catalog(
    count: int,
    *,
    prefix: str = "CF",
    currency: str = "VND",
    stock: int = 10,
    variants_of_first: int = 3,
) -> list[dict[str, Any]]:
    """``count`` seed products with Vietnamese titles and VND prices, ready for ``/seed``.

    The first ``variants_of_first`` SKUs are colours of one product (``"product"`` key);
    prices differ per SKU so a mix-up shows.
    """
    colours = ["Đỏ", "Xanh lá", "Vàng", "Trắng", "Đen", "Tím"]
    seeds = []
    for index in range(count):
        seed: dict[str, Any] = {
            "sku": f"{prefix}-{index:04d}",
            "title": f"{_TITLES[index % len(_TITLES)]} {index}",
            "price": str(49_000 + 1_000 * index) if currency == "VND" else f"{5 + index}.99",
            "currency": currency,
            "stock": stock,
        }
        if index < variants_of_first and count > 1:
            seed["product"] = "Áo dài lụa tơ tằm"
            seed["options"] = {"Màu": colours[index % len(colours)]}
        seeds.append(seed)
    return seeds


def _sku_count(products: list[Product]) -> Counter[str]:
    return Counter(sku for product in products for sku in product.skus)


class FigureRewrite(httpx.AsyncBaseTransport):
    """A transport that makes the platform answer ``figure`` wherever it would say
    :attr:`SENTINEL` (a number no seed or id uses): a listed count of 10**30, text, ... in
    the platform's own response shape, without the suite knowing that shape."""

    SENTINEL: ClassVar[int] = 86_420_137
    _PATTERN: ClassVar[re.Pattern[bytes]] = re.compile(rb"(?<![\d.])86420137(?![\d.])")

    def __init__(self, inner: httpx.AsyncBaseTransport, figure: bytes) -> None:
        self._inner = inner
        self._figure = figure

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """The inner transport's answer, the sentinel replaced by the figure."""
        response = await self._inner.handle_async_request(request)
        body = self._PATTERN.sub(lambda _: self._figure, await response.aread())
        headers = [
            (key, value) for key, value in response.headers.raw
            if key.lower() not in (b"content-length", b"content-encoding")
        ]
        return httpx.Response(response.status_code, headers=headers, content=body)

    async def aclose(self) -> None:
        """Close the inner transport."""
        await self._inner.aclose()


class RejectionRecorder:
    """An ``omnisdk_record_rejected`` implementation that keeps every call."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    @hookimpl
    def omnisdk_record_rejected(
        self, channel: Channel, kind: str, external_id: str | None, raw: dict[str, Any],
        reason: str,
    ) -> None:
        """Keep the rejection."""
        self.calls.append({"kind": kind, "external_id": external_id, "reason": reason})


class ChannelConformance:
    """Base class of a plugin's conformance tests (see the module docstring).

    Class attributes a subclass may set:

    ``channel_class``, ``sandbox_class`` (required)
        The channel under test and its sandbox.
    ``sandbox_kwargs``
        Keyword arguments for the sandbox's constructor.
    ``extra_settings``
        Settings merged over ``sandbox.channel_settings(base_url)``.
    ``currency``
        Currency of the seeded catalog (default VND).
    ``products_to_seed``
        Products for the pagination tests (default: 2.5 pages of ``limits.page_size``,
        between 10 and 1000).
    ``orders_to_place``
        Orders placed after the cursor in the order stream test.
    ``respect_rate_limit``
        Keep the channel's declared rate budget (default False: unthrottled).
    ``groups_variants``
        Seeds sharing a ``"product"`` key come back as variants of one product (default
        True; False for platforms where every SKU is a listing of its own).
    """

    channel_class: ClassVar[type[Channel]]
    sandbox_class: ClassVar[type[Sandbox]]
    sandbox_kwargs: ClassVar[dict[str, Any]] = {}
    extra_settings: ClassVar[dict[str, Any]] = {}
    account: ClassVar[str] = "conformance"
    currency: ClassVar[str] = "VND"
    products_to_seed: ClassVar[int | None] = None
    orders_to_place: ClassVar[int] = 12
    respect_rate_limit: ClassVar[bool] = False
    groups_variants: ClassVar[bool] = True
    stock_batches_per_product: ClassVar[bool] = False
    """True when one stock call takes many variants *of one product* only (Shopee's
    ``update_stock``): the batching test then seeds each batch's SKUs as one product."""

    # -- fixtures --------------------------------------------------------------------------

    @pytest.fixture
    def sandbox(self) -> Iterator[Sandbox]:
        """A fresh sandbox of ``sandbox_class`` (closed afterwards)."""
        sandbox = self.sandbox_class(**self.sandbox_kwargs)
        yield sandbox
        sandbox.close()

    @pytest_asyncio.fixture
    async def control(self, sandbox: Sandbox) -> AsyncIterator[SandboxControl]:
        """A control API client for the sandbox, in-process."""
        async with SandboxControl.for_sandbox(sandbox) as control:
            yield control

    @pytest_asyncio.fixture
    async def make_channel(self, sandbox: Sandbox) -> AsyncIterator[Callable[..., Channel]]:
        """A factory of connected channels: ``make_channel(base_url=None, **settings)``.

        Without ``base_url`` the channel calls the sandbox in-process; with one (a
        :class:`LoopbackServer`'s) it goes over the network. ``wrap_transport`` wraps the
        in-process transport (e.g. :class:`FigureRewrite`, a platform answering nonsense).
        Channels are closed afterwards.
        """
        plugins = Plugins(entry_points=False)
        plugins.register(
            ContributeChannels(self.channel_class), name=f"conformance:{self.channel_class.name}"
        )
        made: list[Channel] = []

        def make(
            base_url: str | None = None,
            *,
            wrap_transport: Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport]
            | None = None,
            **settings: Any,
        ) -> Channel:
            url = base_url or IN_PROCESS_URL
            transport: httpx.AsyncBaseTransport | None = (
                None if base_url else httpx.ASGITransport(app=sandbox.app)
            )
            if transport is not None and wrap_transport is not None:
                transport = wrap_transport(transport)
            merged = {**sandbox.channel_settings(url), **self.extra_settings, **settings}
            channel = self.channel_class(
                merged, account=self.account, plugins=plugins, transport=transport
            )
            if not self.respect_rate_limit:
                unthrottled(channel)
            made.append(channel)
            return channel

        yield make
        for channel in made:
            await channel.aclose()

    @pytest.fixture
    def channel(self, make_channel: Callable[..., Channel]) -> Channel:
        """A channel connected to the sandbox in-process."""
        return make_channel()

    # -- helpers ---------------------------------------------------------------------------

    def require(self, *capabilities: Capability) -> None:
        """Skip the test unless the channel declares every one of ``capabilities``."""
        missing = [c.value for c in capabilities if c not in self.channel_class.capabilities]
        if missing:
            pytest.skip(f"{self.channel_class.name} does not declare {', '.join(missing)}")

    def catalog(self, count: int, **options: Any) -> list[dict[str, Any]]:
        """Seed data for ``count`` products (override to shape it for a platform)."""
        return vietnamese_catalog(count, currency=self.currency, **options)

    def pages_worth(self) -> int:
        """How many products the pagination tests seed: 2.5 pages, within 10..1000."""
        if self.products_to_seed is not None:
            return self.products_to_seed
        return max(10, min(1000, math.ceil(2.5 * self.channel_class.limits.page_size)))

    @staticmethod
    async def collect(stream: AsyncIterator[Any]) -> list[Any]:
        """Every item of an async stream."""
        return [item async for item in stream]

    # -- the contract itself ---------------------------------------------------------------

    def test_declares_a_coherent_contract(self) -> None:
        """Name, settings model, limits, sandbox link; every declared capability implemented."""
        cls = self.channel_class
        assert cls.name and cls.name == cls.name.strip().lower(), "name must be lower-case"
        assert issubclass(cls.settings_model, ChannelSettings)
        assert self.sandbox_class.channel_type == cls.name, (
            f"{self.sandbox_class.__name__}.channel_type is "
            f"{self.sandbox_class.channel_type!r}, the channel's name is {cls.name!r}"
        )
        if cls.sandbox is not None:
            module, _, name = cls.sandbox.partition(":")
            assert (self.sandbox_class.__module__, self.sandbox_class.__qualname__) == (
                module,
                name,
            ), f"{cls.__name__}.sandbox points at {cls.sandbox!r}"
        needs = {
            Capability.READ_PRODUCTS: ("fetch_products", "parse_product"),
            Capability.READ_ORDERS: ("fetch_orders", "parse_order", "fetch_order"),
            Capability.READ_CUSTOMERS: ("fetch_customers", "parse_customer"),
            Capability.READ_LOCATIONS: ("stream_locations",),
            Capability.READ_STOCK: ("stream_stock",),
            Capability.WRITE_STOCK: ("write_stock_batch",),
            Capability.WRITE_PRICES: ("write_prices_batch",),
            Capability.WRITE_PRODUCTS: ("write_products_batch",),
            Capability.WRITE_ORDERS: ("update_order",),
            Capability.WEBHOOKS: ("verify_webhook", "parse_webhook"),
            Capability.READ_REFUNDS: ("fetch_orders", "parse_order", "fetch_order"),
        }
        for capability, methods in needs.items():
            if capability in cls.capabilities:
                for method in methods:
                    assert getattr(cls, method) is not getattr(Channel, method), (
                        f"{cls.__name__} declares {capability.value} but does not "
                        f"implement {method}()"
                    )
        for mapped in (
            "stream_products",
            "stream_orders",
            "stream_customers",
            "get_order",
            "receive_webhook",
        ):
            assert getattr(cls, mapped) is getattr(Channel, mapped), (
                f"{cls.__name__} overrides {mapped}(): a plugin fetches raw records "
                "(fetch_*, parse_webhook) and the Channel base maps them"
            )
        if Capability.WEBHOOKS in cls.capabilities:
            assert cls.limits.webhook_topics, "a webhook channel declares its webhook_topics"
        if cls.limits.promotion_mechanism is not None:
            for method in ("write_promotion", "end_promotion", "read_selling_prices"):
                assert getattr(cls, method) is not getattr(Channel, method), (
                    f"{cls.__name__} declares promotion_mechanism "
                    f"{cls.limits.promotion_mechanism.value} but does not implement {method}()"
                )

    def test_every_setting_is_documented(self) -> None:
        """Every field of the settings model has a description (an attribute docstring under
        the field, or ``Field(description=...)``): the manual's channel page prints it, and a blank
        cell leaves the operator guessing."""
        blank = [
            name
            for name, field in self.channel_class.settings_model.model_fields.items()
            if not (field.description or "").strip()
        ]
        assert not blank, (
            f"{self.channel_class.settings_model.__name__} fields without a description: "
            f"{', '.join(blank)} (write a docstring under each field)"
        )

    @pytest.mark.asyncio
    async def test_check_reaches_the_account(self, channel: Channel) -> None:
        """``check()`` answers with the account's name using the sandbox's credentials."""
        if type(channel).check is Channel.check:
            pytest.skip(f"{channel.name} does not implement check()")
        info = await channel.check()
        assert info.name

    # -- products --------------------------------------------------------------------------

    @pytest.mark.asyncio
    async def test_products_round_trip_to_canonical_types(
        self, channel: Channel, control: SandboxControl
    ) -> None:
        """Seeded products come back once each, right price and currency, lossless JSON."""
        self.require(Capability.READ_PRODUCTS)
        seeds = self.catalog(12)
        await control.seed(seeds)
        products = await self.collect(channel.stream_products())
        counts = _sku_count(products)
        assert counts == Counter(seed["sku"] for seed in seeds)
        by_sku = {
            sku: (product, product.variant(sku)) for product in products for sku in product.skus
        }
        for seed in seeds:
            product, variant = by_sku[seed["sku"]]
            assert variant.price == Money.of(seed["price"], seed["currency"]), seed["sku"]
            expected_title = seed.get("product") or seed["title"]
            assert expected_title in product.title, (product.title, expected_title)
        for product in products:
            assert product.channel_ref is not None
            assert (product.channel_ref.channel, product.channel_ref.account) == (
                channel.name,
                channel.account,
            )
            again = Product.model_validate_json(product.model_dump_json())
            assert again == product
        if self.groups_variants:
            grouped = [seed["sku"] for seed in seeds if seed.get("product")]
            holders = {id(by_sku[sku][0]) for sku in grouped}
            assert len(holders) == 1, "SKUs seeded as variants of one product came back apart"

    @pytest.mark.asyncio
    async def test_pagination_covers_everything_exactly_once(
        self, channel: Channel, control: SandboxControl, sandbox: Sandbox
    ) -> None:
        """More than two pages' worth of products: every SKU exactly once, in several calls."""
        self.require(Capability.READ_PRODUCTS)
        count = self.pages_worth()
        seeds = self.catalog(count, variants_of_first=0)
        await control.seed(seeds)
        await control.requests(clear=True)
        products = await self.collect(channel.stream_products())
        counts = _sku_count(products)
        twice = sorted(sku for sku, n in counts.items() if n > 1)
        assert not twice, f"SKUs streamed more than once: {twice[:10]}"
        missing = sorted({seed["sku"] for seed in seeds} - set(counts))
        assert not missing, f"{len(missing)} SKUs never streamed, e.g. {missing[:10]}"
        calls = len(await control.requests())
        page_size = self.channel_class.limits.page_size
        assert calls >= math.ceil(count / page_size), (
            f"{count} products in {calls} call(s): the channel does not page by its declared "
            f"page_size {page_size}"
        )

    # -- stock -----------------------------------------------------------------------------

    @pytest.mark.asyncio
    async def test_stock_levels_read_back(self, channel: Channel, control: SandboxControl) -> None:
        """``stream_stock`` reports the listed stock of the SKUs asked for."""
        self.require(Capability.READ_STOCK)
        seeds = self.catalog(4, variants_of_first=0)
        for index, seed in enumerate(seeds):
            seed["stock"] = 3 + index
        await control.seed(seeds)
        levels = await self.collect(channel.stream_stock([s["sku"] for s in seeds[:3]]))
        listed: Counter[str] = Counter()
        for level in levels:
            listed[level.sku] += level.on_hand
        assert dict(listed) == {s["sku"]: s["stock"] for s in seeds[:3]}

    @pytest.mark.asyncio
    @pytest.mark.parametrize(
        "figure",
        [b"1000000000000000000000000000000", b"2.5", b'"nhi\\u1ec1u l\\u1eafm"', b"true"],
        ids=["10**30", "fraction", "text", "boolean"],
    )
    async def test_a_stock_figure_out_of_range_skips_that_record_only(
        self, make_channel: Callable[..., Channel], control: SandboxControl, figure: bytes
    ) -> None:
        """A listed figure the platform reports as 10**30, a fraction, text or a boolean
        sets that one SKU's level aside (rejected as ``"stock"``, naming the account and the
        SKU, so the engine quarantines it) and the read goes on with the others: one bad
        listing never stops an account's reconciliation or pushes."""
        self.require(Capability.READ_STOCK)
        seeds = self.catalog(3, variants_of_first=0)
        for seed, figure_seeded in zip(seeds, (4, FigureRewrite.SENTINEL, 6), strict=True):
            seed["stock"] = figure_seeded
        await control.seed(seeds)
        good = {seeds[0]["sku"]: 4, seeds[2]["sku"]: 6}
        bad = seeds[1]["sku"]
        channel = make_channel(wrap_transport=lambda inner: FigureRewrite(inner, figure))
        rejected = RejectionRecorder()
        plugins = channel.plugins
        assert isinstance(plugins, Plugins)
        plugins.register(rejected, name="conformance:rejections")
        try:
            for asked in ([s["sku"] for s in seeds], None):
                levels = await self.collect(channel.stream_stock(asked))
                listed: Counter[str] = Counter()
                for level in levels:
                    listed[level.sku] += level.on_hand
                assert bad not in listed, f"{bad} read as {listed[bad]} from {figure!r}"
                assert {sku: listed[sku] for sku in good} == good, listed
        finally:
            plugins.unregister(rejected)
        set_aside = [r for r in rejected.calls if r["kind"] == "stock"]
        assert set_aside, f"the unreadable level of {bad} was dropped without a rejection"
        assert all(
            bad in r["reason"] and channel.account in r["reason"] for r in set_aside
        ), set_aside
        assert channel.mapping_stats.of("stock").rejected >= 1

    @pytest.mark.asyncio
    async def test_a_negative_stock_figure_never_fails_the_read(
        self, make_channel: Callable[..., Channel], control: SandboxControl
    ) -> None:
        """A negative listed figure (a platform that let buyers oversell) is read as the
        figure, as zero, or set aside with a rejection; never does it fail the others."""
        self.require(Capability.READ_STOCK)
        seeds = self.catalog(3, variants_of_first=0)
        for seed, figure_seeded in zip(seeds, (4, FigureRewrite.SENTINEL, 6), strict=True):
            seed["stock"] = figure_seeded
        await control.seed(seeds)
        bad = seeds[1]["sku"]
        channel = make_channel(wrap_transport=lambda inner: FigureRewrite(inner, b"-7"))
        rejected = RejectionRecorder()
        plugins = channel.plugins
        assert isinstance(plugins, Plugins)
        plugins.register(rejected, name="conformance:rejections")
        try:
            levels = await self.collect(channel.stream_stock([s["sku"] for s in seeds]))
        finally:
            plugins.unregister(rejected)
        listed: Counter[str] = Counter()
        for level in levels:
            listed[level.sku] += level.on_hand
        assert (listed[seeds[0]["sku"]], listed[seeds[2]["sku"]]) == (4, 6), listed
        if bad in listed:
            assert listed[bad] in (-7, 0), listed
        else:
            assert any(r["kind"] == "stock" and bad in r["reason"] for r in rejected.calls)

    @pytest.mark.asyncio
    async def test_a_sku_typed_with_invisible_characters_is_its_canonical_sku(
        self, channel: Channel, control: SandboxControl
    ) -> None:
        """A SKU the merchant typed with a zero-width space, decomposed (as on a Mac), is the
        canonical SKU everywhere (:func:`omnisdk.models.validate_sku`): its listing, its
        stock read and write, its buyers' orders; never a second SKU that looks the same."""
        seeds = self.catalog(2, variants_of_first=0)
        typed = unicodedata.normalize("NFD", "ÁO-DÀI") + "\u200b-ĐỎ-M"
        canonical = "ÁO-DÀI-ĐỎ-M"
        seeds[0]["sku"] = typed
        await control.seed(seeds)
        caps = self.channel_class.capabilities
        if Capability.READ_PRODUCTS in caps:
            skus = _sku_count(await self.collect(channel.stream_products()))
            assert skus[canonical] == 1 and typed not in skus, skus
        if Capability.READ_STOCK in caps:
            levels = await self.collect(channel.stream_stock([canonical, seeds[1]["sku"]]))
            listed: Counter[str] = Counter()
            for level in levels:
                listed[level.sku] += level.on_hand
            assert listed[canonical] == seeds[0]["stock"] and typed not in listed, listed
        if Capability.WRITE_STOCK in caps:
            before = seeds[0]["stock"]
            update = StockUpdate(sku=canonical, quantity=before + 3, expected=before, delta=3)
            results = await channel.write_stock([update])
            assert [r.ok for r in results] == [True], results
            assert (await control.listed_stock())[typed] == before + 3
        if Capability.READ_ORDERS in caps:
            await control.place_order([(typed, 1)])
            orders = await self.collect(channel.stream_orders())
            lines = [line.sku for order in orders for line in order.lines]
            assert lines == [canonical], lines

    @pytest.mark.asyncio
    async def test_broken_records_of_the_platform_map_or_are_quarantined(
        self, channel: Channel, control: SandboxControl
    ) -> None:
        """The sandbox's own product and order records, mutated by hypothesis (fields gone,
        wrong types, 10**30, negatives, broken text, deep nesting: :mod:`omnisdk.testing.fuzz`),
        each map or raise a :class:`~omnisdk.errors.MappingError` naming the channel, which the
        engine quarantines: never another exception, which would stop the stream."""
        caps = self.channel_class.capabilities
        seeds = self.catalog(3)
        await control.seed(seeds)
        records: list[tuple[Literal["product", "order"], dict[str, Any]]] = []
        if Capability.READ_PRODUCTS in caps:
            records += [("product", raw) async for raw in channel.fetch_products()]
        if Capability.READ_ORDERS in caps:
            await control.place_order([(seeds[0]["sku"], 1)], {"name": "Nguyễn Thị Hoa"})
            records += [("order", raw) async for raw in channel.fetch_orders()]
        if not records:
            pytest.skip(f"{self.channel_class.name} reads no products nor orders")
        for kind, raw in records[:2] + records[-1:]:

            @hypothesis_settings(FUZZ_SETTINGS, max_examples=25)
            @given(broken=mutations(raw), what=st.just(kind))
            def maps_or_is_quarantined(broken: Any, what: Literal["product", "order"]) -> None:
                check_mapping(channel, what, broken)

            maps_or_is_quarantined()

    def stock_updates(self, listed: dict[str, int], skus: list[str]) -> list[StockUpdate]:
        """New quantities for ``skus``, with ``expected`` and ``delta`` filled in."""
        updates = []
        for index, sku in enumerate(skus):
            new = listed[sku] + 1 + index % 7
            updates.append(
                StockUpdate(sku=sku, quantity=new, expected=listed[sku], delta=new - listed[sku])
            )
        return updates

    @pytest.mark.asyncio
    async def test_stock_writes_land_in_batches_of_the_declared_maximum(
        self,
        channel: Channel,
        control: SandboxControl,
        sandbox: Sandbox,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Writes land on the platform, in as few calls as the limit allows, none too big."""
        self.require(Capability.WRITE_STOCK)
        largest = self.channel_class.limits.max_stock_batch
        count = min(2 * largest + 1, 501)
        seeds = self.catalog(count, variants_of_first=0)
        if self.stock_batches_per_product:
            for index, entry in enumerate(seeds):
                entry["product"] = f"Lô hàng {index // largest}"
                entry["options"] = {"Mã": entry["sku"]}
        await control.seed(seeds)
        listed = await control.listed_stock()
        updates = self.stock_updates(listed, [s["sku"] for s in seeds])

        sizes: list[int] = []
        write_batch = channel.write_stock_batch

        async def counting(batch: Any) -> Any:
            sizes.append(len(batch))
            return await write_batch(batch)

        monkeypatch.setattr(channel, "write_stock_batch", counting)
        await control.requests(clear=True)
        results = await channel.write_stock(updates)

        failed = [r for r in results if not r.ok]
        assert not failed, f"writes failed: {failed[:3]}"
        assert [r.key for r in results] == [u.sku for u in updates]
        now = await control.listed_stock()
        assert {u.sku: now[u.sku] for u in updates} == {u.sku: u.quantity for u in updates}
        assert max(sizes) <= largest and len(sizes) == math.ceil(count / largest), sizes
        writes = sandbox.operations("stock.write")
        assert writes, (
            f"{type(sandbox).__name__} noted no 'stock.write' operation: its stock "
            "handler must call self.note_operation(request, 'stock.write', items=n)"
        )
        carried = [w.items or 0 for w in writes]
        assert max(carried) <= largest, f"a platform call carried {max(carried)} > {largest}"
        assert sum(carried) == count and len(writes) == math.ceil(count / largest), carried

    @pytest.mark.asyncio
    async def test_stock_write_failures_are_per_item(
        self, channel: Channel, control: SandboxControl
    ) -> None:
        """An unknown SKU fails alone; the other items of the same batch succeed."""
        self.require(Capability.WRITE_STOCK)
        seeds = self.catalog(2, variants_of_first=0)
        await control.seed(seeds)
        listed = await control.listed_stock()
        first, second = (s["sku"] for s in seeds)
        updates = [
            *self.stock_updates(listed, [first]),
            StockUpdate(sku="KHONG-CO-SKU-NAY", quantity=4, expected=0, delta=4),
            *self.stock_updates(listed, [second]),
        ]
        results = await channel.write_stock(updates)
        assert [r.key for r in results] == [first, "KHONG-CO-SKU-NAY", second]
        assert [r.ok for r in results] == [True, False, True], results
        assert results[1].error
        now = await control.listed_stock()
        assert (now[first], now[second]) == (updates[0].quantity, updates[2].quantity)

    @pytest.mark.asyncio
    async def test_stock_writes_retry_except_in_a_single_attempt(
        self, make_channel: Callable[..., Channel], control: SandboxControl
    ) -> None:
        """A stock write retries a transient failure, except inside
        :func:`omnisdk.http.single_attempt`: there the failed call is made once and the write
        reported retryable. The engine's pusher writes that way and tries again itself, from a
        figure decided anew: an absolute figure resent later would undo the sales made since."""
        self.require(Capability.WRITE_STOCK)
        seeds = self.catalog(1, variants_of_first=0)
        await control.seed(seeds)
        listed = await control.listed_stock()
        channel = make_channel(max_attempts=5)
        updates = self.stock_updates(listed, [seeds[0]["sku"]])
        await control.requests(clear=True)
        await control.set_faults(fail_first=1, error_statuses=[503], retry_after=0)
        with single_attempt():
            results = await channel.write_stock(updates)
        assert [(r.ok, r.retryable) for r in results] == [(False, True)], results
        calls = await control.requests(clear=True)
        assert len(calls) == 1, f"a failed call was made again in a single attempt: {calls}"
        assert calls[0]["fault"] == FaultKind.ERROR.value, calls
        assert (await control.listed_stock()) == listed
        await control.set_faults(fail_first=1, error_statuses=[503], retry_after=0)
        results = await channel.write_stock(updates)
        assert all(r.ok for r in results), results
        assert (await control.listed_stock())[updates[0].sku] == updates[0].quantity
        faulted = [r for r in await control.requests() if r["fault"] == FaultKind.ERROR.value]
        assert len(faulted) == 1, "the scheduled fault was not injected"

    @pytest.mark.asyncio
    async def test_compare_and_swap_refuses_a_stale_expectation(
        self, channel: Channel, control: SandboxControl
    ) -> None:
        """A CAS write whose ``expected`` is stale fails and changes nothing; a fresh one lands."""
        self.require(Capability.WRITE_STOCK)
        if self.channel_class.limits.stock_push_mode is not StockPushMode.COMPARE_AND_SWAP:
            pytest.skip(f"{self.channel_class.name} does not push stock by compare-and-swap")
        seed = self.catalog(1, variants_of_first=0)[0]
        seed["stock"] = 5
        await control.seed([seed])
        await control.place_order([(seed["sku"], 2)])  # the platform sold 2 we have not seen
        [stale] = await channel.write_stock([StockUpdate(sku=seed["sku"], quantity=9, expected=5)])
        assert not stale.ok
        assert stale.actual in (None, 3), stale
        assert (await control.listed_stock())[seed["sku"]] == 3
        [fresh] = await channel.write_stock([StockUpdate(sku=seed["sku"], quantity=9, expected=3)])
        assert fresh.ok, fresh
        assert (await control.listed_stock())[seed["sku"]] == 9

    @pytest.mark.asyncio
    async def test_price_writes_land_per_item(
        self, channel: Channel, control: SandboxControl
    ) -> None:
        """New prices land as exact decimals; an unknown SKU fails alone."""
        self.require(Capability.WRITE_PRICES)
        seeds = self.catalog(2, variants_of_first=0)
        await control.seed(seeds)
        new = [Money.of(Decimal(seed["price"]) + 10_000, seed["currency"]) for seed in seeds]
        updates = [
            PriceUpdate(sku=seeds[0]["sku"], price=new[0]),
            PriceUpdate(sku="KHONG-CO-SKU-NAY", price=new[0]),
            PriceUpdate(sku=seeds[1]["sku"], price=new[1]),
        ]
        results = await channel.write_prices(updates)
        assert [r.ok for r in results] == [True, False, True], results
        listings = {entry["sku"]: entry for entry in (await control.state())["listings"]}
        for seed, price in zip(seeds, new, strict=True):
            entry = listings[seed["sku"]]
            assert Money.of(entry["price"], entry["currency"]) == price

    # -- promotions ------------------------------------------------------------------------

    def require_promotions(self) -> PromotionMechanism:
        """Skip the test unless the channel declares a promotion mechanism."""
        mechanism = self.channel_class.limits.promotion_mechanism
        if mechanism is None:
            pytest.skip(f"{self.channel_class.name} declares no promotion_mechanism")
        return mechanism

    def promotion_settings(self) -> dict[str, Any]:
        """Settings the promotion tests' channel needs beyond the sandbox's (a price book
        the merchant would have created, for instance); override per plugin."""
        return {}

    async def seed_promotion(
        self, control: SandboxControl, seeds: list[dict[str, Any]]
    ) -> None:
        """Seed ``seeds`` for the promotion tests (override when the platform needs more,
        such as a price book to put the items on)."""
        await control.seed(seeds)

    @pytest.mark.asyncio
    async def test_a_promotion_shows_then_ends_and_both_are_idempotent(
        self,
        make_channel: Callable[..., Channel],
        control: SandboxControl,
        sandbox: Sandbox,
    ) -> None:
        """A promotion written through the channel's mechanism is the price a buyer pays
        (read back), from its start when the platform keeps the dates; writing it twice
        changes nothing; ending it (twice too) shows the base price again; an unlisted SKU
        fails alone. Prices are whole đồng: 15 % off 649.999 ₫ is 552.499 ₫ (half up)."""
        mechanism = self.require_promotions()
        channel = make_channel(**self.promotion_settings())
        if hasattr(channel, "clock"):
            # A channel that keeps a clock (signed timestamps, dates compared when reading)
            # runs on the sandbox's, which the test moves forward.
            setattr(channel, "clock", sandbox.clock.now)  # noqa: B010
        seeds = self.catalog(2, variants_of_first=0)
        seeds[0]["price"] = "649999" if self.currency == "VND" else seeds[0]["price"]
        await self.seed_promotion(control, seeds)
        now = datetime.fromisoformat(await control.now())
        starts = now + timedelta(hours=2) if mechanism.platform_dated else now - timedelta(
            minutes=1
        )
        cut = Decimal("0.85")
        items = [
            PromotionItem(
                sku=seed["sku"],
                base=Money.of(seed["price"], seed["currency"]),
                promoted=Money.of(
                    Decimal(seed["price"]) * cut, seed["currency"], rounding="ROUND_HALF_UP"
                ),
            )
            for seed in seeds
        ]
        ghost = PromotionItem(sku="KHONG-CO-SKU-NAY", base=items[0].base, promoted=items[0].base)
        promotion = PromotionWrite(
            id="conformance-sale",
            name="Khuyến mãi cuối năm",
            starts_at=starts,
            ends_at=starts + timedelta(days=1),
            items=(items[0], ghost, items[1]),
        )
        skus = [item.sku for item in items]
        base = {item.sku: item.base for item in items}
        promoted = {item.sku: item.promoted for item in items}

        results = await channel.write_promotion(promotion)
        assert [r.ok for r in results] == [True, False, True], results
        if self.currency == "VND":
            assert promoted[skus[0]] == Money.of(552499, "VND")
        if mechanism.platform_dated:
            assert await channel.read_selling_prices(skus) == base, "shown before its start"
            await control.advance_clock(2 * 3600 + 60)
        assert await channel.read_selling_prices(skus) == promoted

        again = await channel.write_promotion(promotion)
        assert [r.ok for r in again] == [True, False, True], again
        assert await channel.read_selling_prices(skus) == promoted

        applied = PromotionWrite(
            **{
                **promotion.model_dump(),
                "items": tuple(
                    item.model_copy(update={"external_id": result.external_id})
                    for item, result in zip(promotion.items, results, strict=True)
                    if result.ok
                ),
            }
        )
        for _ in range(2):
            ended = await channel.end_promotion(applied)
            assert all(r.ok for r in ended), ended
            assert await channel.read_selling_prices(skus) == base

    # -- orders ----------------------------------------------------------------------------

    @pytest.mark.asyncio
    async def test_orders_stream_since_a_cursor(
        self, channel: Channel, control: SandboxControl
    ) -> None:
        """Orders placed after the cursor come back exactly once each; older ones do not."""
        self.require(Capability.READ_ORDERS)
        seeds = self.catalog(3, variants_of_first=0)
        for seed in seeds:
            seed["stock"] = 100
        await control.seed(seeds)
        skus = [seed["sku"] for seed in seeds]
        old = [await control.place_order([(skus[0], 1)]) for _ in range(2)]
        await control.advance_clock(60)
        cursor = datetime.fromisoformat(await control.now())
        await control.advance_clock(1)
        placed: dict[str, dict[str, int]] = {}
        for index in range(self.orders_to_place):
            lines = {skus[index % 3]: 1 + index % 2, skus[(index + 1) % 3]: 1}
            placed[await control.place_order(lines.items())] = lines
        orders = await self.collect(channel.stream_orders(updated_since=cursor))
        ids = Counter(order.channel_ref.external_id for order in orders)
        assert not [i for i, n in ids.items() if n > 1], f"orders seen twice: {ids}"
        assert not set(old) & set(ids), "orders older than the cursor were returned"
        assert set(ids) == set(placed), (sorted(ids), sorted(placed))
        for order in orders:
            assert isinstance(order, Order)
            assert order.quantities() == placed[order.channel_ref.external_id]
            assert order.currency == self.currency and order.total.currency == self.currency
            assert Order.model_validate_json(order.model_dump_json()) == order
        fetched = await channel.get_order(orders[0].channel_ref.external_id)
        assert fetched.channel_ref == orders[0].channel_ref

    refund_attempts: ClassVar[int] = 8
    """How many times the refund test moves an order on (``advance``) waiting for the
    platform to take a return (most take one only once the parcel was delivered)."""

    @pytest.mark.asyncio
    async def test_a_partial_then_full_refund_reads_back_to_the_dong(
        self, channel: Channel, control: SandboxControl
    ) -> None:
        """A return of one unit, paid back the platform's way, is the order's
        ``refund_total`` to the đồng, by ``get_order`` and by the order stream alike, read
        twice the same; the order still names every unit it sold. Returning the rest makes
        the refund the whole of the goods, and the sales figures count it in full.
        """
        self.require(Capability.READ_REFUNDS)
        seeds = self.catalog(2, variants_of_first=0)
        for seed in seeds:
            seed["stock"] = 20
        await control.seed(seeds)
        first, second = seeds[0]["sku"], seeds[1]["sku"]
        cursor = datetime.fromisoformat(await control.now())
        order_id = await control.place_order([(first, 2), (second, 1)])
        before = await channel.get_order(order_id)
        units = sum(line.quantity for line in before.lines)
        assert not before.refund_total, f"an order nobody refunded has {before.refund_total}"
        unit = {line.sku: line.total.amount / line.quantity for line in before.lines}
        paid = await control.refund_when_refundable(
            order_id, [(first, 1)], attempts=self.refund_attempts
        )
        assert paid == unit[first], f"the sandbox paid back {paid}, one unit costs {unit[first]}"
        await control.advance_clock(1)
        once = await channel.get_order(order_id)
        twice = await channel.get_order(order_id)
        assert once.refund_total == Money.of(paid, self.currency), once.refund_total
        assert twice == once, "reading the same refunded order twice gave two answers"
        assert sum(line.quantity for line in once.lines) == units, "the order lost a line"
        assert once.updated_at >= before.updated_at
        streamed = [
            order
            for order in await self.collect(channel.stream_orders(updated_since=cursor))
            if order.channel_ref.external_id == order_id
        ]
        assert [order.refund_total for order in streamed] == [once.refund_total]
        assert sales_figures(once).refund_minor == Money.of(paid, self.currency).to_minor()
        await control.advance_clock(60)
        rest = await control.refund_when_refundable(
            order_id, [(first, 1), (second, 1)], attempts=self.refund_attempts
        )
        await control.advance_clock(1)
        whole = await channel.get_order(order_id)
        goods = sum((line.total for line in whole.lines), Money.zero(self.currency))
        assert whole.refund_total == Money.of(paid + rest, self.currency) == goods, (
            whole.refund_total,
            goods,
        )
        assert whole.updated_at > once.updated_at, "the full refund is not a newer version"
        figures = sales_figures(whole)
        assert figures.refund_minor == goods.to_minor()

    @pytest.mark.asyncio
    async def test_buyer_cannot_order_beyond_listed_stock(self, control: SandboxControl) -> None:
        """The platform refuses an order beyond its listed stock with 409 out_of_stock.

        A sandbox declaring ``refuses_unlisted_sales = False`` (a platform without a checkout
        to refuse anything) is held to that instead: the order is taken, not refused.
        """
        seed = self.catalog(1, variants_of_first=0)[0]
        seed["stock"] = 2
        await control.seed([seed])
        if not self.sandbox_class.refuses_unlisted_sales:
            assert await control.place_order([(seed["sku"], 3)]), "the order got no id"
            return
        with pytest.raises(SandboxRefused) as refused:
            await control.place_order([(seed["sku"], 3)])
        assert refused.value.status == 409
        assert refused.value.body["error"] == "out_of_stock"
        assert (await control.listed_stock())[seed["sku"]] == 2
        await control.place_order([(seed["sku"], 2)])
        assert (await control.listed_stock())[seed["sku"]] == 0

    @pytest.mark.asyncio
    async def test_customers_map_to_canonical_types(
        self, channel: Channel, control: SandboxControl
    ) -> None:
        """A buyer's details come back as a canonical Customer of this account."""
        self.require(Capability.READ_CUSTOMERS)
        seed = self.catalog(1, variants_of_first=0)[0]
        await control.seed([seed])
        await control.place_order(
            [(seed["sku"], 1)],
            customer={
                "name": "Nguyễn Thị Hoa",
                "phone": "0912 345 678",
                "email": "hoa.nguyen@example.vn",
                "address": {
                    "line1": "12 Lê Lợi",
                    "ward": "Phường Bến Nghé",
                    "district": "Quận 1",
                    "province": "TP. Hồ Chí Minh",
                },
            },
        )
        customers = await self.collect(channel.stream_customers())
        assert customers, "the buyer of an order is not among the customers"
        for customer in customers:
            assert isinstance(customer, Customer) and customer.channel_ref is not None
            assert customer.channel_ref.channel == channel.name
            assert Customer.model_validate_json(customer.model_dump_json()) == customer
            for phone in customer.phones:
                assert phone.masked or phone.e164 == "+84912345678", phone

    @pytest.mark.asyncio
    async def test_locations_map_to_canonical_types(self, channel: Channel) -> None:
        """The account's locations stream as canonical Locations."""
        self.require(Capability.READ_LOCATIONS)
        locations = await self.collect(channel.stream_locations())
        assert locations and all(isinstance(loc, Location) for loc in locations)
        assert len({loc.code for loc in locations}) == len(locations), "location codes repeat"

    # -- webhooks --------------------------------------------------------------------------

    async def deliveries_of_an_order(
        self, channel: Channel, control: SandboxControl, sign_for: str | None = None
    ) -> tuple[str, str, list[ReceivedWebhook]]:
        """Register a loopback recorder's URL (or tell the sandbox it), place an order;
        return the order's id, that URL and the deliveries it received (at least one).
        With ``sign_for``, the sandbox is told to deliver there afterwards, so what
        :meth:`Sandbox.sign_webhook` signs next is signed for it (platforms that sign the
        URL)."""
        recorder = WebhookRecorder()
        with LoopbackServer(recorder.app) as receiver:
            hooks = receiver.url(f"/hooks/{channel.name}")
            try:
                await channel.register_webhooks(hooks)
            except UnsupportedOperation:
                await control.set_webhook_url(hooks)
            seed = self.catalog(1, variants_of_first=0)[0]
            await control.seed([seed])
            order_id = await control.place_order([(seed["sku"], 1)])
            await control.drain_webhooks(10)
            deliveries = recorder.wait_for(1, timeout=10)
            if sign_for is not None:
                await control.set_webhook_url(sign_for)
        return order_id, hooks, deliveries

    @pytest.mark.asyncio
    async def test_webhooks_verify_and_forgeries_are_rejected(
        self, channel: Channel, control: SandboxControl, sandbox: Sandbox
    ) -> None:
        """A real signed delivery verifies and parses; a forged or re-serialised one does not."""
        self.require(Capability.WEBHOOKS)
        order_id, url, deliveries = await self.deliveries_of_an_order(channel, control)

        events: list[ChannelEvent] = []
        for delivery in deliveries:
            events += channel.receive_webhook(delivery.as_request(callback_url=url))
        assert events, "deliveries parsed into no events"
        for event in events:
            assert (event.channel, event.account) == (channel.name, channel.account)
        about_order = [
            e
            for e in events
            if e.kind in (EventKind.ORDER_CREATED, EventKind.ORDER_UPDATED)
            and (
                e.external_id == order_id
                or (e.order is not None and e.order.channel_ref.external_id == order_id)
            )
        ]
        assert about_order, f"no order event names order {order_id}: {events}"
        logged = sandbox.webhook_log
        assert logged and all(entry["status"] == 200 for entry in logged), logged

        original = deliveries[0]
        topic = next((e.topic for e in events), "unknown")
        forged_headers = dict(original.headers)
        for name, value in sandbox.sign_webhook(topic, b'{"forged": true}').items():
            forged_headers[name.lower()] = value
        with pytest.raises(WebhookVerificationError):
            channel.receive_webhook(
                WebhookRequest(body=original.body, headers=forged_headers, callback_url=url)
            )
        reserialised = json.dumps(json.loads(original.body), indent=2, ensure_ascii=True).encode()
        assert reserialised != original.body
        with pytest.raises(WebhookVerificationError):
            channel.receive_webhook(
                WebhookRequest(body=reserialised, headers=original.headers, callback_url=url)
            )

    @pytest.mark.asyncio
    async def test_signed_broken_webhooks_are_refused_or_ignored_never_500(
        self, channel: Channel, control: SandboxControl, sandbox: Sandbox
    ) -> None:
        """A delivery the platform really sent, broken by hypothesis (fields gone, wrong
        types, 10**30, negatives, unknown currencies, broken UTF-8, 100,000-deep nesting,
        truncated: :func:`~omnisdk.testing.fuzz.malformed_bodies`) and signed as the platform
        signs: the channel parses it into events or refuses it with a
        :class:`~omnisdk.errors.WebhookVerificationError` (a
        :class:`~omnisdk.errors.WebhookBodyError` for a signed body it cannot read), never
        another exception; the engine's receiver answers 200 or a 4xx, never a 5xx. Events
        it accepts go through intake, which quarantines each bad record on its own
        (``tests/sync/test_intake_fuzz.py``)."""
        self.require(Capability.WEBHOOKS)
        from omnisdk.store import Store
        from omnisdk.testing.fuzz import malformed_bodies, post_to_receiver
        from omnisdk.webhooks import WebhookReceiver

        account = channel.account
        public = "http://omnisdk.test"
        callback = f"{public}/webhooks/{account}"
        _, _, deliveries = await self.deliveries_of_an_order(channel, control, sign_for=callback)
        original = deliveries[0]
        topic = next(
            (e.topic for e in channel.receive_webhook(original.as_request(original.url))), ""
        ) or "unknown"
        try:
            valid = json.loads(original.body)
        except ValueError:
            valid = None  # a form-encoded platform: the broken shapes still apply
        store = Store("sqlite://")
        store.migrate()
        receiver = WebhookReceiver({account: channel}, store, public_url=public)

        def signed(body: bytes) -> dict[str, str]:
            headers = dict(original.headers)
            for name, value in sandbox.sign_webhook(topic, body).items():
                headers[name.lower()] = value
            headers.pop("content-length", None)
            return headers

        @hypothesis_settings(FUZZ_SETTINGS, max_examples=40)
        @given(body=malformed_bodies(valid))
        def refused_or_ignored(body: bytes) -> None:
            headers = signed(body)
            request = WebhookRequest(body=body, headers=headers, callback_url=callback)
            try:
                channel.receive_webhook(request)
            except WebhookVerificationError:
                pass
            except Exception as exc:
                raise AssertionError(
                    f"{type(exc).__name__} escaped receive_webhook: {exc!s:.300} — body "
                    f"{body[:200]!r}"
                ) from exc
            answer = post_to_receiver(receiver, account, body, headers)
            assert answer.status_code in (200, 400, 401, 413), (
                answer.status_code,
                answer.text[:300],
                body[:200],
            )

        try:
            await asyncio.to_thread(refused_or_ignored)  # the receiver runs its own loop
        finally:
            store.close()

    # -- resilience ------------------------------------------------------------------------

    @pytest.mark.asyncio
    async def test_retries_survive_injected_429_and_5xx(
        self, make_channel: Callable[..., Channel], control: SandboxControl, sandbox: Sandbox
    ) -> None:
        """With 30 % of platform calls failing (429/5xx) every product still arrives once."""
        self.require(Capability.READ_PRODUCTS)
        count = self.pages_worth()
        seeds = self.catalog(count, variants_of_first=0)
        await control.seed(seeds)
        await control.set_faults(
            error_rate=0.3, error_statuses=[429, 500, 502, 503], retry_after=0, fail_first=2, seed=7
        )
        channel = make_channel(max_attempts=10)
        products = await self.collect(channel.stream_products())
        assert _sku_count(products) == Counter(seed["sku"] for seed in seeds)
        faulted = [r for r in sandbox.requests if r.fault is FaultKind.ERROR]
        assert len(faulted) >= 2, "the scheduled faults were not injected"

    @pytest.mark.asyncio
    async def test_over_a_loopback_socket_with_dropped_connections(
        self, make_channel: Callable[..., Channel], sandbox: Sandbox
    ) -> None:
        """Over a real socket: dropped connections become PlatformUnavailable, then are survived.

        Stock writes are exercised too when the channel declares them, with a third of the
        calls dropped or failed.
        """
        self.require(Capability.READ_PRODUCTS)
        with LoopbackServer(sandbox.app) as server:
            async with SandboxControl(server.base_url) as control:
                count = self.pages_worth()
                seeds = self.catalog(count, variants_of_first=0)
                await control.seed(seeds)
                await control.set_faults(drop_rate=1.0)
                doomed = make_channel(base_url=server.base_url, max_attempts=2)
                with pytest.raises(ChannelError) as dropped:
                    await self.collect(doomed.stream_products())
                assert dropped.value.retryable, dropped.value
                await control.requests(clear=True)
                await control.set_faults(
                    drop_rate=0.2,
                    error_rate=0.15,
                    retry_after=0,
                    error_statuses=[429, 503],
                    drop_first=1,
                    fail_first=1,
                    seed=3,
                )
                channel = make_channel(base_url=server.base_url, max_attempts=10)
                products = await self.collect(channel.stream_products())
                assert _sku_count(products) == Counter(seed["sku"] for seed in seeds)
                if Capability.WRITE_STOCK in self.channel_class.capabilities:
                    listed = await control.listed_stock()
                    updates = self.stock_updates(listed, [s["sku"] for s in seeds[:5]])
                    results = await channel.write_stock(updates)
                    assert all(r.ok for r in results), results
                    now = await control.listed_stock()
                    assert all(now[u.sku] == u.quantity for u in updates)
                faults = Counter(r["fault"] for r in await control.requests())
        assert faults[FaultKind.DROP.value] >= 1 and faults[FaultKind.ERROR.value] >= 1, faults

    @pytest.mark.asyncio
    async def test_secrets_never_reach_logs_or_errors(
        self, make_channel: Callable[..., Channel], control: SandboxControl, sandbox: Sandbox
    ) -> None:
        """A full pass at DEBUG, failures included: no secret in any log record or error."""
        guard = SecretLeakGuard(sandbox.secret_values())
        capabilities = self.channel_class.capabilities
        with guard:
            channel = make_channel(max_attempts=10)
            guard.add(*channel.settings.secret_values())
            assert guard.secrets, "the sandbox reports no secret values to watch"
            seeds = self.catalog(5, variants_of_first=0)
            await control.seed(seeds)
            await control.set_faults(
                error_rate=0.3, error_statuses=[429, 503], retry_after=0, fail_first=1, seed=11
            )
            if type(channel).check is not Channel.check:
                await channel.check()
            if Capability.READ_PRODUCTS in capabilities:
                await self.collect(channel.stream_products())
            if Capability.WRITE_STOCK in capabilities:
                listed = await control.listed_stock()
                await channel.write_stock(
                    [
                        *self.stock_updates(listed, [seeds[0]["sku"]]),
                        StockUpdate(sku="KHONG-CO", quantity=1),
                    ]
                )
            if Capability.READ_ORDERS in capabilities:
                await control.place_order([(seeds[1]["sku"], 1)])
                await self.collect(channel.stream_orders())
            if Capability.WEBHOOKS in capabilities:
                forged = WebhookRequest(body=b'{"topic": "x"}', headers={"x-forged": "1"})
                with pytest.raises(WebhookVerificationError) as rejected:
                    channel.receive_webhook(forged)
                guard.check_exception(rejected.value)
            for text in (repr(channel), repr(channel.settings), str(channel.settings)):
                guard.check_text(text, "channel repr")

            await control.set_faults()
            wrong = {
                name: f"x{value[1:]}"
                for name, value in sandbox.channel_settings(IN_PROCESS_URL).items()
                if isinstance(value, str) and value in guard.secrets
            }
            guard.add(*wrong.values())
            refused = make_channel(**wrong)
            first_call = (
                refused.check()
                if type(refused).check is not Channel.check
                else self.collect(refused.stream_products())
            )
            with pytest.raises(ChannelError) as failed:
                await first_call
            guard.check_exception(failed.value)
        assert guard.records, "nothing was logged at DEBUG: the check proved nothing"
        guard.assert_clean()
