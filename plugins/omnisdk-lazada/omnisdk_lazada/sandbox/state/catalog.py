"""The sandbox seller's catalog: items (Lazada "products"), their SKUs and stock.

Each SKU keeps Lazada's stock figures: ``total`` (the ``quantity`` a seller sets with
``/product/price_quantity/update``), ``withhold`` (units of unpaid orders) and ``occupy``
(units of paid orders not yet ready to ship). Buyers buy from ``sellable = total - withhold -
occupy``; that is what the control API lists as a SKU's stock.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from omnisdk.testing.sandbox import SeedProduct, UnknownObject

__all__ = ["Catalog", "Item", "Sku", "SkuNotListed"]


class SkuNotListed(UnknownObject):
    """No SKU of the seller has this SellerSku (404)."""

    def __init__(self, sku: str) -> None:
        super().__init__("SKU", sku)


@dataclass
class Sku:
    """One SKU of an item."""

    sku_id: int
    seller_sku: str
    price: Decimal
    total: int
    sale_prop: dict[str, str] = field(default_factory=dict)
    special_price: Decimal | None = None
    special_from: datetime | None = None
    """When the special price starts (aware; None: no start date)."""
    special_to: datetime | None = None
    """When it ends (aware, excluded; None: no end date)."""
    withhold: int = 0
    occupy: int = 0
    status: str = "active"

    def selling_price(self, now: datetime) -> Decimal:
        """What a buyer pays at ``now``: the special price within its dates, else the price."""
        if self.special_price is None:
            return self.price
        if self.special_from is not None and now < self.special_from:
            return self.price
        if self.special_to is not None and now >= self.special_to:
            return self.price
        return self.special_price

    @property
    def sellable(self) -> int:
        """What buyers can still buy."""
        return self.total - self.withhold - self.occupy


@dataclass
class Item:
    """One Lazada product (an item with one or more SKUs)."""

    item_id: int
    name: str
    currency: str
    created: float
    updated: float
    skus: list[Sku]
    status: str = "Active"
    description: str = ""
    brand: str = "No Brand"


class Catalog:
    """Every item of the sandbox seller, with SellerSku lookups."""

    def __init__(
        self, *, first_item_id: int = 2_807_246_101, first_sku_id: int = 13_449_296_001
    ) -> None:
        self.items: dict[int, Item] = {}
        self._by_sku: dict[str, tuple[Item, Sku]] = {}
        self._item_ids = itertools.count(first_item_id, 13)
        self._sku_ids = itertools.count(first_sku_id, 7)

    def add(self, item: Item) -> Item:
        """Add ``item``; a SellerSku already listed is refused with ``ValueError``."""
        taken = [sku.seller_sku for sku in item.skus if sku.seller_sku in self._by_sku]
        if taken:
            raise ValueError(f"SellerSku already listed: {', '.join(taken)}")
        self.items[item.item_id] = item
        for sku in item.skus:
            self._by_sku[sku.seller_sku] = (item, sku)
        return item

    def seed(
        self, groups: list[tuple[str, list[SeedProduct]]], *, now: float
    ) -> list[dict[str, Any]]:
        """One item per group (title, seeds): a SKU per seed. Returns what was listed."""
        created: list[dict[str, Any]] = []
        for title, seeds in groups:
            item = self.add(
                Item(
                    item_id=next(self._item_ids),
                    name=title,
                    currency=seeds[0].currency,
                    created=now,
                    updated=now,
                    skus=[
                        Sku(
                            sku_id=next(self._sku_ids),
                            seller_sku=seed.sku,
                            price=seed.price,
                            total=seed.stock,
                            sale_prop=dict(seed.options),
                        )
                        for seed in seeds
                    ],
                    description=f"<p>{title}</p>",
                )
            )
            created += [
                {"sku": sku.seller_sku, "item_id": item.item_id, "sku_id": sku.sku_id}
                for sku in item.skus
            ]
        return created

    def find(self, seller_sku: str) -> tuple[Item, Sku] | None:
        """The item and SKU of ``seller_sku``."""
        return self._by_sku.get(seller_sku)

    def by_ids(self, item_id: int, sku_id: int) -> tuple[Item, Sku] | None:
        """The item and SKU with these ids."""
        item = self.items.get(item_id)
        if item is None:
            return None
        sku = next((s for s in item.skus if s.sku_id == sku_id), None)
        return (item, sku) if sku is not None else None

    def locate(self, seller_sku: str) -> tuple[Item, Sku]:
        """Like :meth:`find`, raising :class:`SkuNotListed`."""
        found = self.find(seller_sku)
        if found is None:
            raise SkuNotListed(seller_sku)
        return found

    def listings(self) -> list[dict[str, Any]]:
        """``[{"sku", "stock", "price", "currency", ...}]``: stock is the sellable figure."""
        return [
            {
                "sku": sku.seller_sku,
                "stock": sku.sellable,
                "price": str(sku.price),
                "currency": item.currency,
                "item_id": item.item_id,
                "sku_id": sku.sku_id,
                "quantity": sku.total,
                "withhold": sku.withhold,
                "occupy": sku.occupy,
            }
            for item in self.items.values()
            for sku in item.skus
        ]
