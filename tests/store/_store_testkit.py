"""Vietnamese test data for the store tests (imported as ``_store_testkit``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from omnisdk.models import (
    ChannelRef,
    Customer,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    Phone,
    Product,
    Variant,
)

SKU_RED_M = "ÁO-THUN-ĐỎ-M"
SKU_RED_L = "ÁO-THUN-ĐỎ-L"
CUSTOMER_NAME = "Nguyễn Văn An"
CUSTOMER_PHONE = "+84912345678"
HCM = "hcm-q1"
HANOI = "hn-hoan-kiem"


def vnd(amount: int | str) -> Money:
    """An amount in dong."""
    return Money.of(amount, "VND")


def make_product(
    *skus: str, title: str = "Áo thun cổ tròn", price: int = 129000, **fields: Any
) -> Product:
    """A product with one variant per SKU (red T-shirt sizes by default)."""
    skus = skus or (SKU_RED_M, SKU_RED_L)
    variants = [
        Variant(
            sku=sku,
            title=f"Đỏ / {sku.rsplit('-', 1)[-1]}",
            options={"Màu": "Đỏ", "Size": sku.rsplit("-", 1)[-1]},
            price=vnd(price),
            weight_grams=Decimal("180.5"),
        )
        for sku in skus
    ]
    return Product(
        title=title,
        description="Vải cotton 100%, thoáng mát",
        option_names=["Màu", "Size"],
        variants=variants,
        **fields,
    )


def make_customer(**fields: Any) -> Customer:
    """Nguyễn Văn An with his phone, unless overridden."""
    values: dict[str, Any] = {
        "full_name": CUSTOMER_NAME,
        "phones": [Phone.parse(CUSTOMER_PHONE)],
    }
    values.update(fields)
    return Customer(**values)


def make_order(
    external_id: str = "2407VN0001",
    *,
    account: str = "shopee-hanoi",
    channel: str = "shopee",
    status: OrderStatus = OrderStatus.CONFIRMED,
    updated_at: datetime | None = None,
    quantity: int = 2,
    sku: str = SKU_RED_M,
) -> Order:
    """An order for ``quantity`` red T-shirts, in dong."""
    placed = datetime(2024, 7, 1, 9, 30, tzinfo=UTC)
    unit = vnd(129000)
    total = unit * quantity
    return Order(
        channel_ref=ChannelRef(channel=channel, account=account, external_id=external_id),
        number=f"#{external_id}",
        status=status,
        currency="VND",
        lines=[
            OrderLine(sku=sku, title="Áo thun cổ tròn - Đỏ / M", quantity=quantity, unit_price=unit)
        ],
        subtotal=total,
        shipping_total=vnd(30000),
        total=total + vnd(30000),
        customer=make_customer(),
        created_at=placed,
        updated_at=updated_at or placed + timedelta(minutes=5),
        raw={"order_sn": external_id, "buyer": "An Nguyễn"},
    )


class FakeClock:
    """A clock tests move by hand (``Store(url, clock=clock)``)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2024, 7, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward and return the new time."""
        self.now += timedelta(seconds=seconds)
        return self.now
