"""The sandbox shop's catalogue: items, their models (variations) and seller stock.

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

from omnisdk_shopee.sandbox.api.gateway import json_number

__all__ = ["Catalogue", "Item", "Model", "SkuNotListed"]


class SkuNotListed(KeyError):
    """No item or model of the shop carries this SKU."""


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

    @property
    def has_model(self) -> bool:
        """True when the item sells variations."""
        return bool(self.models)

    def model(self, model_id: int) -> Model | None:
        """The model with ``model_id`` (None for an unknown one, or for 0)."""
        return next((m for m in self.models if m.model_id == model_id), None)


def price_info(currency: str, price: Decimal) -> list[dict[str, Any]]:
    """Shopee's ``price_info`` list for one price (no running promotion)."""
    return [
        {
            "currency": currency,
            "original_price": json_number(price),
            "current_price": json_number(price),
            "inflated_price_of_original_price": json_number(price),
            "inflated_price_of_current_price": json_number(price),
        }
    ]


def stock_info(stock: dict[str, int], reserved: int) -> dict[str, Any]:
    """Shopee's ``stock_info_v2`` for seller stock per location."""
    total = sum(stock.values())
    return {
        "summary_info": {
            "total_reserved_stock": reserved,
            "total_available_stock": max(total - reserved, 0),
        },
        "seller_stock": [
            {"location_id": location, "stock": quantity, "if_saleable": True}
            for location, quantity in stock.items()
        ],
        "shopee_stock": [],
    }


class Catalogue:
    """Every item of the sandbox shop, with SKU lookups."""

    def __init__(
        self, *, first_item_id: int = 800_000_001, first_model_id: int = 2_000_000_001
    ) -> None:
        self.items: dict[int, Item] = {}
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
        return item

    def find(self, sku: str) -> tuple[Item, Model | None] | None:
        """The item (and model) listing ``sku``."""
        for item in self.items.values():
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

    # -- Shopee's response shapes ---------------------------------------------------------

    @staticmethod
    def base_info(item: Item) -> dict[str, Any]:
        """The item as ``get_item_base_info`` describes it."""
        info: dict[str, Any] = {
            "item_id": item.item_id,
            "category_id": 100_017,
            "item_name": item.name,
            "description": item.description,
            "item_sku": item.sku,
            "create_time": item.created,
            "update_time": item.updated,
            "attribute_list": [],
            "image": {
                "image_url_list": [f"https://cf.shopee.vn/file/sandbox-{item.item_id}"],
                "image_id_list": [f"sandbox-{item.item_id}"],
            },
            "weight": item.weight,
            "dimension": {"package_length": 20, "package_width": 15, "package_height": 5},
            "logistic_info": [],
            "pre_order": {"is_pre_order": False, "days_to_ship": 2},
            "condition": "NEW",
            "item_status": item.status,
            "has_model": item.has_model,
            "brand": {"brand_id": 0, "original_brand_name": "NoBrand"},
        }
        if not item.has_model:
            info["price_info"] = price_info(item.currency, item.price)
            info["stock_info_v2"] = stock_info(item.stock, 0)
        return info

    @staticmethod
    def model_list(item: Item) -> dict[str, Any]:
        """The ``get_model_list`` response of an item."""
        return {
            "tier_variation": [
                {"name": name, "option_list": [{"option": option} for option in options]}
                for name, options in item.tiers
            ],
            "model": [
                {
                    "model_id": model.model_id,
                    "model_sku": model.sku,
                    "model_status": model.status,
                    "tier_index": list(model.tier_index),
                    "price_info": price_info(item.currency, model.price),
                    "stock_info_v2": stock_info(model.stock, model.reserved),
                    "promotion_id": 0,
                    "has_promotion": False,
                    "weight": item.weight,
                }
                for model in item.models
            ],
            "standardise_tier_variation": [],
        }
