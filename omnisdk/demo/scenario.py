"""What the demo sells and who buys it: one Vietnamese catalog priced in VND, and buyers.

Every channel is seeded with the same catalog (the same SKUs everywhere); the last three
items of :data:`DEMO_CATALOG` run out during a demo. :data:`SANDBOX_CATALOG` is what
``omnisdk sandbox --seed-demo`` lists in a single sandbox.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ACCOUNT_CITIES",
    "BUYERS",
    "CURRENCY",
    "DEMO_CATALOG",
    "SANDBOX_CATALOG",
    "DemoItem",
]

CURRENCY = "VND"
"""The currency every demo price is in."""


class DemoItem(BaseModel):
    """One SKU of the demo catalog, as seeded on every channel."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sku: str
    title: str
    price: Decimal
    stock: int
    product: str | None = None
    options: dict[str, str] = Field(default_factory=dict)

    def seed(self) -> dict[str, Any]:
        """The ``POST /_sandbox/seed`` entry for this SKU."""
        entry: dict[str, Any] = {
            "sku": self.sku,
            "title": self.title,
            "price": str(self.price),
            "currency": CURRENCY,
            "stock": self.stock,
        }
        if self.product:
            entry["product"] = self.product
            entry["options"] = dict(self.options)
        return entry


def _shirt(size: str, stock: int) -> DemoItem:
    return DemoItem(
        sku=f"AO-THUN-TRANG-{size}",
        title=f"Áo thun cổ tròn - Trắng / {size}",
        product="Áo thun cổ tròn",
        options={"Màu": "Trắng", "Size": size},
        price=Decimal(129000),
        stock=stock,
    )


def _hat(stock: int) -> DemoItem:
    return DemoItem(sku="NON-LA-HUE", title="Nón lá Huế", price=Decimal(85000), stock=stock)


def _coffee(stock: int) -> DemoItem:
    return DemoItem(
        sku="CA-PHE-BMT-500G",
        title="Cà phê rang xay Buôn Ma Thuột 500g",
        price=Decimal(165000),
        stock=stock,
    )


def _fish_sauce(stock: int) -> DemoItem:
    return DemoItem(
        sku="NUOC-MAM-PQ-500ML",
        title="Nước mắm Phú Quốc 40 độ đạm 500ml",
        price=Decimal(72000),
        stock=stock,
    )


def _ao_dai(stock: int) -> DemoItem:
    return DemoItem(
        sku="AO-DAI-LUA-XANH",
        title="Áo dài lụa tơ tằm xanh ngọc",
        price=Decimal(1850000),
        stock=stock,
    )


DEMO_CATALOG: tuple[DemoItem, ...] = (
    _shirt("M", 30),
    _shirt("L", 24),
    _hat(40),
    _coffee(50),
    _fish_sauce(60),
    _ao_dai(4),
    DemoItem(sku="TRANH-SON-MAI", title="Tranh sơn mài Hội An", price=Decimal(2400000), stock=3),
    DemoItem(
        sku="GOM-BAT-TRANG", title="Bình gốm Bát Tràng men lam", price=Decimal(650000), stock=5
    ),
)
"""The demo's catalog: Vietnamese goods priced in VND; the last three run out."""

SANDBOX_CATALOG: tuple[DemoItem, ...] = (
    _shirt("M", 25),
    _shirt("L", 18),
    _hat(40),
    _coffee(60),
    _fish_sauce(120),
    _ao_dai(5),
)
"""What ``omnisdk sandbox --seed-demo`` lists: a few of the same goods, none scarce."""

BUYERS: tuple[tuple[str, str], ...] = (
    ("Nguyễn Văn An", "+84912345601"),
    ("Trần Thị Bích", "+84912345602"),
    ("Lê Hoàng Cường", "+84912345603"),
    ("Phạm Thu Dung", "+84912345604"),
    ("Hoàng Minh Đức", "+84912345605"),
    ("Võ Thị Hạnh", "+84912345606"),
    ("Đặng Quốc Khánh", "+84912345607"),
    ("Bùi Ngọc Lan", "+84912345608"),
)
"""The buyers' names and phone numbers (``name``, ``phone``)."""

ACCOUNT_CITIES: tuple[str, ...] = (
    "hanoi",
    "saigon",
    "danang",
    "hue",
    "cantho",
    "haiphong",
    "nhatrang",
)
"""The demo names its accounts ``<channel type>-<city>``, one city per channel in turn."""
