"""Which Shopify variant (and inventory item) is behind a SKU.

Shopify does not require SKUs to be unique, and writes address variants and inventory items
by id, so the channel keeps an index from what it reads and asks Shopify for SKUs it has not
seen (``productVariants(query: "sku:A OR sku:B")``, 250 a call). A SKU on several variants
is reported, never guessed.

Beyond the plugin shape: the SKU index is state the channel keeps between reads and writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from omnisdk.channel import PlatformSkus, batched
from omnisdk.http import Lane
from omnisdk.models import canonical_sku
from omnisdk_shopify import queries
from omnisdk_shopify.client import ShopifyClient

__all__ = ["SkuIndex", "VariantRef", "search_value"]


def search_value(value: str) -> str:
    """``value`` quoted for Shopify's search syntax."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class VariantRef:
    """The ids behind one SKU."""

    variant_id: str
    product_id: str
    item_id: str
    tracked: bool


class SkuIndex:
    """SKU -> variants, and inventory item -> SKU, learnt from reads and lookups."""

    def __init__(self, spellings: PlatformSkus | None = None) -> None:
        self._by_sku: dict[str, list[VariantRef]] = {}
        self._by_item: dict[str, str] = {}
        self._spellings = spellings if spellings is not None else PlatformSkus()

    def remember(self, node: Mapping[str, Any], product_id: str) -> None:
        """Take in a variant node (``id``, ``sku``, ``inventoryItem { id tracked }``), under
        its canonical SKU."""
        sku = self._spellings.learn(node.get("sku")) or ""
        item = node.get("inventoryItem") or {}
        if not sku or not item.get("id"):
            return
        ref = VariantRef(
            str(node["id"]), product_id, str(item["id"]), bool(item.get("tracked", True))
        )
        known = [r for r in self._by_sku.get(sku, []) if r.variant_id != ref.variant_id]
        self._by_sku[sku] = [*known, ref]
        self._by_item[ref.item_id] = sku

    def forget(self, sku: str) -> None:
        """Drop what is known about ``sku`` (Shopify said its ids are gone)."""
        for ref in self._by_sku.pop(sku, []):
            self._by_item.pop(ref.item_id, None)

    def sku_of_item(self, item_id: str) -> str | None:
        """The SKU of an inventory item (global id), if known."""
        return self._by_item.get(item_id)

    def refs(self, sku: str) -> list[VariantRef]:
        """Every known variant carrying ``sku``."""
        return list(self._by_sku.get(sku, []))

    async def lookup(
        self, client: ShopifyClient, skus: Iterable[str], lane: Lane
    ) -> dict[str, list[VariantRef]]:
        """The variants behind each of ``skus``, asking Shopify for the ones not known yet."""
        wanted = list(dict.fromkeys(skus))
        missing = [sku for sku in wanted if sku not in self._by_sku]
        for chunk in batched(missing, queries.VARIANT_LOOKUP_PAGE):
            search = " OR ".join(
                f"sku:{search_value(self._spellings.platform(sku))}" for sku in chunk
            )
            data = await client.graphql(
                queries.VARIANTS_BY_SKU,
                {"first": queries.VARIANT_LOOKUP_PAGE, "query": search},
                lane=lane,
            )
            for node in data["productVariants"]["nodes"]:
                if canonical_sku(node.get("sku")) in chunk:
                    self.remember(node, str(node["product"]["id"]))
        return {sku: self.refs(sku) for sku in wanted}

    @staticmethod
    def one(sku: str, found: list[VariantRef]) -> VariantRef | str:
        """The single variant of ``sku``, or why there is none."""
        if not found:
            return f"SKU {sku!r} is not on any variant of this Shopify shop"
        if len(found) > 1:
            return (
                f"SKU {sku!r} is on {len(found)} variants of this Shopify shop; make it "
                "unique before syncing it"
            )
        return found[0]
