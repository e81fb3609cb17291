"""Vietnamese catalog data and channel doubles for the catalog/reconcile/status tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from _database_testkit import BACKENDS as BACKENDS  # re-exported for the test modules
from omnisdk_example.channel import ExampleChannel
from omnisdk_example.sandbox import ExampleSandbox
from omnisdk_example.sandbox.api.params import batch_items
from omnisdk_example.sandbox.state import ProductRecord, VariantRecord
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from omnisdk import Capability, Lane, WriteResult
from omnisdk.allocation import AllocationRule
from omnisdk.channel import Channel
from omnisdk.models import ChannelRef, Money, Product, Variant
from omnisdk.pricing import PricingRule
from omnisdk.sync.engine import Engine
from omnisdk.testing import SandboxControl, json_response

MARKUP = PricingRule(multiplier=Decimal("1.1"), round_to=Decimal(1000))
"""The marketplace rule of the issue: base price * 1.1, rounded to 1,000 VND."""

SKU_RED_M = "ÁO-THUN-ĐỎ-M"
SKU_RED_L = "ÁO-THUN-ĐỎ-L"
SKU_HAT = "NÓN-LÁ-HUẾ"
SKU_DRESS = "ÁO-DÀI-LỤA-XANH"


def vnd(amount: int | str) -> Money:
    """An amount in dong."""
    return Money.of(amount, "VND")


def tshirt(*, price: int = 129_000, title: str = "Áo thun cổ tròn", **fields: Any) -> Product:
    """The master red T-shirt in two sizes."""
    return Product(
        title=title,
        description="Vải cotton 100%, thoáng mát",
        option_names=["Màu", "Size"],
        variants=[
            Variant(sku=SKU_RED_M, options={"Màu": "Đỏ", "Size": "M"}, price=vnd(price)),
            Variant(sku=SKU_RED_L, options={"Màu": "Đỏ", "Size": "L"}, price=vnd(price)),
        ],
        **fields,
    )


def hat(*, price: int = 85_000) -> Product:
    """The master conical hat (one variant)."""
    return Product(title="Nón lá Huế", variants=[Variant(sku=SKU_HAT, price=vnd(price))])


def with_refs(
    product: Product,
    prices: dict[str, int] | None = None,
    *,
    account: str = "shopee",
    channel: str = "example",
    product_id: str = "prd_1",
) -> Product:
    """``product`` as a channel lists it (channel refs set), prices per SKU overridden."""
    return _with_refs(product, account, channel, product_id, prices or {})


def _with_refs(
    product: Product, account: str, channel: str, product_id: str, prices: dict[str, int]
) -> Product:
    variants = [
        v.model_copy(
            update={
                "price": vnd(prices[v.sku]) if v.sku in prices else v.price,
                "channel_ref": ChannelRef(
                    channel=channel, account=account, external_id=f"{product_id}:{v.sku}"
                ),
            }
        )
        for v in product.variants
    ]
    return product.model_copy(
        update={
            "variants": variants,
            "channel_ref": ChannelRef(channel=channel, account=account, external_id=product_id),
        }
    )


class ListingChannel(ExampleChannel):
    """The Example channel plus listing writes (``POST /products/batch`` in ListingSandbox)."""

    name = "example-listings"
    capabilities = ExampleChannel.capabilities | {Capability.WRITE_PRODUCTS}
    sandbox = "_sync_testkit:ListingSandbox"

    async def write_products_batch(self, batch: Sequence[Product]) -> list[WriteResult]:
        """``POST /products/batch``: create (no id) or update (id) listings."""
        items = [
            {
                **({"id": p.channel_ref.external_id} if p.channel_ref else {}),
                "title": p.title,
                "variants": [
                    {
                        "sku": v.sku,
                        "options": v.options,
                        "price": str(v.price.amount),
                        "currency": v.price.currency,
                    }
                    for v in p.variants
                ],
            }
            for p in batch
        ]
        body = await self.client.call(
            "POST", "/products/batch", lane=Lane.BACKFILL, json={"items": items}
        )
        return [
            WriteResult.success(p.skus[0], external_id=answer["id"])
            if answer["ok"]
            else WriteResult.failure(p.skus[0], answer["message"], code=answer["error"])
            for p, answer in zip(batch, body["results"], strict=True)
        ]


class ListingSandbox(ExampleSandbox):
    """The Example sandbox plus ``POST /products/batch`` (new listings start with 0 stock)."""

    channel_type = "example-listings"

    def platform_routes(self) -> list[BaseRoute]:
        """The Example API and the listing writes."""
        return [
            *super().platform_routes(),
            Route("/products/batch", self.write_products, methods=["POST"]),
        ]

    async def write_products(self, request: Request) -> Response:
        """Create or update listings; a SKU another listing holds is refused."""
        self.authorise(request)
        items = await batch_items(request)
        self.note_operation(request, "products.write", items=len(items))
        with self.lock:
            return json_response({"results": [self._write_product(item) for item in items]})

    def _write_product(self, item: dict[str, Any]) -> dict[str, Any]:
        skus = [v["sku"] for v in item["variants"]]
        now = self.clock.now()
        product = self.products.get(item.get("id", ""))
        for sku in skus:
            owner = self.variants.get(sku)
            if owner is not None and (product is None or owner.product_id != product.id):
                return {
                    "sku": skus[0],
                    "ok": False,
                    "error": "duplicate_sku",
                    "message": f"SKU {sku} belongs to another listing",
                }
        if product is None:
            product = ProductRecord(
                id=self.next_id("prd"), title=item["title"], created_at=now, updated_at=now
            )
            self.products[product.id] = product
        product.title = item["title"]
        product.updated_at = now
        for raw in item["variants"]:
            if raw["sku"] in self.variants:
                continue
            variant = VariantRecord(
                id=self.next_id("var"),
                sku=raw["sku"],
                product_id=product.id,
                options=dict(raw["options"]),
                price=Decimal(raw["price"]),
                currency=raw["currency"],
                stock=0,
                updated_at=now,
            )
            product.variants.append(variant)
            self.variants[variant.sku] = variant
        return {"sku": skus[0], "ok": True, "id": product.id}


def example_channel(
    cls: type[ExampleChannel] = ExampleChannel, account: str = "shopee"
) -> ExampleChannel:
    """A channel object for pure tests (it is never asked to make a request)."""
    return cls({"base_url": "http://example.invalid", "api_token": "exk_test"}, account=account)


class Clock:
    """A clock tests move by hand (starts at the real time, aware UTC)."""

    def __init__(self) -> None:
        self.current = datetime.now(UTC)

    def now(self) -> datetime:
        """The current time."""
        return self.current

    def advance(self, **delta: float) -> datetime:
        """Move on by ``timedelta(**delta)``."""
        self.current += timedelta(**delta)
        return self.current


@dataclass
class Shop:
    """One channel account of a world: its sandbox and the sandbox's control client."""

    account: str
    sandbox: ExampleSandbox
    control: SandboxControl
    pricing: PricingRule
    listings: bool = False


@dataclass
class World:
    """An open engine over Example sandboxes."""

    engine: Engine
    shops: dict[str, Shop] = field(default_factory=dict)

    def channel(self, account: str) -> Channel:
        """The engine's channel of ``account``."""
        return self.engine.channels[account]

    def sandbox(self, account: str) -> ExampleSandbox:
        """The sandbox behind ``account``."""
        return self.shops[account].sandbox


@dataclass(frozen=True)
class Account:
    """What ``make_world`` should create: an account, its price rule, listing writes or not."""

    name: str
    pricing: PricingRule = field(default_factory=PricingRule)
    listings: bool = False
    allocation: AllocationRule = field(default_factory=AllocationRule)
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StockWrite:
    """One stock write a sandbox received: what it asked, and the intent the engine had
    recorded on the listing when it arrived (None: none was recorded)."""

    sku: str
    quantity: int
    expected: int | None
    intent: int | None


def watch_stock_writes(world: World, account: str) -> list[StockWrite]:
    """Record every stock write ``account``'s sandbox receives from now on (see StockWrite)."""
    sandbox = world.sandbox(account)
    writes: list[StockWrite] = []
    set_stock = sandbox.set_stock

    def watched(item: dict[str, Any]) -> dict[str, Any]:
        state = world.engine.store.get_listing(account, item["sku"])
        intent = state.inflight_quantity if state is not None else None
        writes.append(StockWrite(item["sku"], item["quantity"], item.get("expected"), intent))
        return set_stock(item)

    sandbox.set_stock = watched  # type: ignore[method-assign]
    return writes
