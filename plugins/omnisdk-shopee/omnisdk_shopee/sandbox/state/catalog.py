"""The sandbox shop's catalog: items, their models (variations) and seller stock.

An item without variations holds its SKU, price and stock itself (Shopee's ``model_id`` 0);
an item with variations has a tier variation (``Màu: Đỏ / Xanh``) and one model per SKU.
Prices are exact Decimals in the shop currency; stock is seller stock per ``location_id``
(``""`` for a single-warehouse shop).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from omnisdk.testing.sandbox import SeedProduct, UnknownObject

__all__ = ["Catalog", "Discount", "Item", "Model", "Offer", "SkuNotListed"]


class SkuNotListed(UnknownObject):
    """No item or model of the shop carries this SKU (404)."""

    def __init__(self, sku: str) -> None:
        super().__init__("SKU", sku)


@dataclass
class Model:
    """One variation of an item."""

    model_id: int
    sku: str
    price: Decimal
    stock: dict[str, int]
    tier_index: list[int]
    status: str = "MODEL_NORMAL"
    reserved: int = 0


@dataclass
class Item:
    """One Shopee item (a listing)."""

    item_id: int
    name: str
    currency: str
    created: int
    updated: int
    status: str = "NORMAL"
    sku: str = ""
    price: Decimal = Decimal(0)
    stock: dict[str, int] = field(default_factory=dict)
    tiers: list[tuple[str, list[str]]] = field(default_factory=list)
    models: list[Model] = field(default_factory=list)
    description: str = ""
    weight: str = "0.3"
    offers: list[Offer] = field(default_factory=list)

    @property
    def has_model(self) -> bool:
        """True when the item sells variations."""
        return bool(self.models)

    def model(self, model_id: int) -> Model | None:
        """The model with ``model_id`` (None for an unknown one, or for 0)."""
        return next((m for m in self.models if m.model_id == model_id), None)

    def offer(self, model_id: int, now: int) -> Offer | None:
        """The discount price of ``model_id`` (0: the item) running at ``now``, if any."""
        return next(
            (o for o in self.offers if o.model_id == model_id and o.running(now)), None
        )

    def current_price(self, model_id: int, now: int) -> Decimal:
        """What a buyer pays for ``model_id`` at ``now`` (a running discount included)."""
        model = self.model(model_id)
        offer = self.offer(model_id, now)
        if offer is not None:
            return offer.price
        return model.price if model is not None else self.price


@dataclass
class Offer:
    """One item or model in a shop discount (``add_discount_item``), with its promotion price;
    ``discount`` is shared with the discount, so ending it ends every offer at once."""

    model_id: int
    price: Decimal
    discount: Discount

    def running(self, now: int) -> bool:
        """True while the discount runs at ``now``."""
        return self.discount.status(now) == "ongoing"


@dataclass
class Discount:
    """A shop discount (``add_discount``): a name, a start and an end (unix seconds), its
    items; ``ended_at`` once ended early (``end_discount``), ``deleted`` once deleted."""

    discount_id: int
    name: str
    start: int
    end: int
    ended_at: int | None = None
    deleted: bool = False
    items: dict[tuple[int, int], Decimal] = field(default_factory=dict)
    """(item id, model id) -> promotion price."""

    def status(self, now: int) -> str:
        """``upcoming``, ``ongoing`` or ``expired`` at ``now``."""
        end = self.end if self.ended_at is None else min(self.end, self.ended_at)
        if self.deleted or now >= end:
            return "expired"
        return "ongoing" if now >= self.start else "upcoming"


class Catalog:
    """Every item of the sandbox shop, with SKU lookups."""

    def __init__(
        self, *, first_item_id: int = 800_000_001, first_model_id: int = 2_000_000_001
    ) -> None:
        self.items: dict[int, Item] = {}
        self.discounts: dict[int, Discount] = {}
        self._by_sku: dict[str, tuple[int, int | None]] = {}
        """SKU -> (item id, model id or None): keeps checkout and seeding linear."""
        self._item_ids = itertools.count(first_item_id, 7)
        self._model_ids = itertools.count(first_model_id, 3)

    def new_item_id(self) -> int:
        """A fresh item id."""
        return next(self._item_ids)

    def new_model_id(self) -> int:
        """A fresh model id."""
        return next(self._model_ids)

    def add(self, item: Item) -> Item:
        """Add ``item``; a SKU already listed is refused with ``ValueError``."""
        skus = [m.sku for m in item.models] if item.models else [item.sku]
        taken = [sku for sku in skus if self.find(sku) is not None]
        if taken:
            raise ValueError(f"SKU already listed: {', '.join(taken)}")
        self.items[item.item_id] = item
        for model in item.models:
            self._by_sku[model.sku] = (item.item_id, model.model_id)
        if not item.models:
            self._by_sku[item.sku] = (item.item_id, None)
        return item

    def seed(
        self,
        singles: list[SeedProduct],
        groups: dict[str, list[SeedProduct]],
        *,
        now: int,
        location: str,
    ) -> list[dict[str, Any]]:
        """List seeds the Shopee way: each single as an item of its own, each group (seeds
        sharing a ``product`` title) as one item with a model per seed; stock at ``location``.

        Returns ``[{"sku", "item_id", "model_id"}]`` for every SKU listed.
        """
        created = [self._list_single(seed, now=now, location=location) for seed in singles]
        for title, seeds in groups.items():
            created += self._list_group(title, seeds, now=now, location=location)
        return created

    def _list_single(self, seed: SeedProduct, *, now: int, location: str) -> dict[str, Any]:
        item = self.add(
            Item(
                item_id=self.new_item_id(),
                name=seed.title,
                currency=seed.currency,
                created=now,
                updated=now,
                sku=seed.sku,
                price=seed.price,
                stock={location: seed.stock},
            )
        )
        return {"sku": seed.sku, "item_id": item.item_id, "model_id": 0}

    def _list_group(
        self, title: str, seeds: list[SeedProduct], *, now: int, location: str
    ) -> list[dict[str, Any]]:
        names = list(dict.fromkeys(name for seed in seeds for name in seed.options))
        if not names:
            names = ["Phân loại"]
            values = [[seed.sku for seed in seeds]]
        else:
            values = [
                list(dict.fromkeys(seed.options.get(name, "-") for seed in seeds)) for name in names
            ]
        item = Item(
            item_id=self.new_item_id(),
            name=title,
            currency=seeds[0].currency,
            created=now,
            updated=now,
            tiers=list(zip(names, values, strict=True)),
        )
        for seed in seeds:
            chosen = (
                [seed.sku]
                if names == ["Phân loại"] and not seed.options
                else [seed.options.get(name, "-") for name in names]
            )
            item.models.append(
                Model(
                    model_id=self.new_model_id(),
                    sku=seed.sku,
                    price=seed.price,
                    stock={location: seed.stock},
                    tier_index=[
                        options.index(value) for options, value in zip(values, chosen, strict=True)
                    ],
                )
            )
        self.add(item)
        return [
            {"sku": m.sku, "item_id": item.item_id, "model_id": m.model_id} for m in item.models
        ]

    def find(self, sku: str) -> tuple[Item, Model | None] | None:
        """The item (and model) listing ``sku``."""
        known = self._by_sku.get(sku)
        if known is not None:
            item = self.items.get(known[0])
            model = item.model(known[1]) if item is not None and known[1] is not None else None
            if item is not None and known[1] is None and not item.models and item.sku == sku:
                return item, None
            if item is not None and model is not None and model.sku == sku:
                return item, model
        for item in self.items.values():  # not indexed (or changed since): look everywhere
            if item.models:
                for model in item.models:
                    if model.sku == sku:
                        return item, model
            elif item.sku == sku:
                return item, None
        return None

    def locate(self, sku: str) -> tuple[Item, Model | None]:
        """Like :meth:`find`, raising :class:`SkuNotListed`."""
        found = self.find(sku)
        if found is None:
            raise SkuNotListed(sku)
        return found

    @staticmethod
    def stock_of(item: Item, model: Model | None) -> dict[str, int]:
        """The mutable stock mapping of the item's or model's listing."""
        return model.stock if model is not None else item.stock

    def listings(self) -> list[dict[str, Any]]:
        """``[{"sku", "stock", "price", "currency"}]`` for every SKU (price as a string)."""
        rows: list[dict[str, Any]] = []
        for item in self.items.values():
            if item.models:
                rows += [
                    {
                        "sku": m.sku,
                        "stock": sum(m.stock.values()),
                        "price": str(m.price),
                        "currency": item.currency,
                        "item_id": item.item_id,
                        "model_id": m.model_id,
                    }
                    for m in item.models
                ]
            else:
                rows.append(
                    {
                        "sku": item.sku,
                        "stock": sum(item.stock.values()),
                        "price": str(item.price),
                        "currency": item.currency,
                        "item_id": item.item_id,
                        "model_id": 0,
                    }
                )
        return rows
