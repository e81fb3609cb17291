"""The diff: what would change on one channel account to match the master catalog.

Pure: it compares the master products with what the account shows now and the stock each SKU
should show there, and lists the changes to send and the differences that will not be sent
(with the reason: a field the channel owns, a capability it lacks, a SKU listed twice).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from omnisdk.channel import Capability, Channel
from omnisdk.models import Product, ProductStatus, Variant
from omnisdk.pricing import PricingRule
from omnisdk.sync.catalog.changes import (
    channel_variant,
    content_changes,
    new_listing,
    price_changes,
    price_update,
    stock_update,
    updated_listing,
)
from omnisdk.sync.catalog.models import (
    AccountPlan,
    ChangeKind,
    FieldChange,
    PlannedChange,
    SkippedItem,
)
from omnisdk.sync.catalog.view import AccountView, ChannelListings

__all__ = ["diff_account"]


@dataclass
class _Differ:
    """Builds one account's plan (see :func:`diff_account`)."""

    account: str
    channel: Channel
    rule: PricingRule
    view: AccountView
    targets: Mapping[str, int]
    owners: Mapping[str, str]
    held: Mapping[str, str] = field(default_factory=dict)
    plan: AccountPlan = field(init=False)
    new_skus: list[str] = field(default_factory=list)
    listed_skus: list[str] = field(default_factory=list)
    touched: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.plan = AccountPlan(account=self.account, channel=self.channel.name)

    def can(self, capability: Capability) -> bool:
        return capability in self.channel.capabilities

    def skip(self, sku: str, reason: str) -> None:
        self.plan.skipped.append(SkippedItem(sku=sku, reason=reason))

    def add(self, kind: ChangeKind, sku: str, product_id: str | None, **payload: Any) -> None:
        self.plan.changes.append(
            PlannedChange(
                account=self.account, kind=kind, sku=sku, product_id=product_id, **payload
            )
        )

    def run(self, master: Mapping[str, Product]) -> AccountPlan:
        listings = self.view.listings
        if listings is None:
            self.skip(
                "*",
                "the channel cannot read its listings (no read_products), so they "
                "cannot be compared with the master catalog",
            )
            stock = self.view.stock or {}
            self.listed_skus = [sku for sku in self.owners if sku in stock]
        else:
            for sku, count in sorted(listings.duplicates.items()):
                if any(sku in p.skus for p in master.values()):
                    self.skip(
                        sku,
                        f"listed {count} times on the channel; remove the duplicate "
                        "listings so the SKU names one listing",
                    )
            for product_id, product in master.items():
                self.product(product_id, product, listings)
        self.stock()
        return self.plan

    def product(self, product_id: str, product: Product, listings: ChannelListings) -> None:
        listed = [v for v in product.variants if listings.get(v.sku) is not None]
        missing = [
            v
            for v in product.variants
            if v.sku not in listings and v.status is ProductStatus.ACTIVE
        ]
        if product.status is not ProductStatus.ACTIVE:
            missing = []  # an inactive master product is not listed anew
        self.listed_skus.extend(v.sku for v in listed)
        if not listed:
            if missing:
                self.create(product_id, product, missing)
            return
        holder = listings.by_sku[listed[0].sku].product
        self.update(product_id, product, holder, missing)
        for variant in listed:
            self.price(product_id, variant, listings.by_sku[variant.sku].variant)

    def create(self, product_id: str, product: Product, variants: list[Variant]) -> None:
        skus = [v.sku for v in variants]
        if not self.can(Capability.WRITE_PRODUCTS):
            for sku in skus:
                self.skip(
                    sku,
                    "not listed on the channel, and the channel cannot create "
                    "listings (no write_products)",
                )
            return
        self.add(
            ChangeKind.CREATE,
            skus[0],
            product_id,
            fields=[
                FieldChange(field="title", after=product.title),
                FieldChange(field="variants", after=skus),
            ],
            product=new_listing(product, variants, self.rule),
        )
        self.new_skus.extend(skus)

    def update(
        self, product_id: str, product: Product, holder: Product, missing: list[Variant]
    ) -> None:
        fields = content_changes(product, holder, self.rule.owns)
        added = [channel_variant(v, self.rule) for v in missing]
        if added:
            fields.append(
                FieldChange(
                    field="variants",
                    before=holder.skus,
                    after=[*holder.skus, *(v.sku for v in added)],
                )
            )
        if not fields:
            return
        first = holder.skus[0]
        if not self.can(Capability.WRITE_PRODUCTS):
            names = ", ".join(change.field for change in fields)
            self.skip(
                first, f"{names} differ, but the channel cannot update listings (no write_products)"
            )
            return
        if id(holder) in self.touched:
            self.skip(
                first,
                f"the channel lists SKUs of several master products in one listing "
                f"(master product {product_id} not applied to it)",
            )
            return
        self.touched.add(id(holder))
        self.add(
            ChangeKind.UPDATE,
            first,
            product_id,
            fields=fields,
            product=updated_listing(holder, fields, added),
        )
        self.new_skus.extend(v.sku for v in added)

    def price(self, product_id: str, master: Variant, listed: Variant) -> None:
        fields = price_changes(master, listed, self.rule)
        if isinstance(fields, str):
            self.skip(master.sku, fields)
            return
        if not fields:
            return
        if master.sku in self.held:
            self.skip(
                master.sku,
                f"the price is held by promotion {self.held[master.sku]} until it ends",
            )
            return
        if not self.can(Capability.WRITE_PRICES):
            self.skip(
                master.sku,
                "the price differs, but the channel cannot write prices (no write_prices)",
            )
            return
        self.add(
            ChangeKind.PRICE,
            master.sku,
            product_id,
            fields=fields,
            price=price_update(master.sku, fields, listed),
        )

    def stock(self) -> None:
        if "stock" not in self.rule.owns:
            return
        skus = [*self.listed_skus, *self.new_skus]
        if not skus:
            return
        if not self.can(Capability.WRITE_STOCK):
            self.skip("*", "the channel cannot write stock (no write_stock)")
            return
        if self.view.stock is None:
            self.skip(
                "*",
                "the channel cannot read its listed stock (no read_stock), so it "
                "cannot be compared",
            )
            return
        mode = self.channel.limits.stock_push_mode
        new = set(self.new_skus)
        for sku in skus:
            target = self.targets.get(sku)
            if target is None:
                self.skip(
                    sku,
                    "this SKU was never counted; count it first with `omnisdk stock set` "
                    "(a listing is never zeroed for want of a count)",
                )
                continue
            current = None if sku in new else self.view.stock.get(sku)
            if current is not None and current.quantity == target:
                continue
            self.add(
                ChangeKind.STOCK,
                sku,
                self.owners.get(sku),
                fields=[
                    FieldChange(
                        field="stock", before=current.quantity if current else None, after=target
                    )
                ],
                stock=stock_update(sku, target, current, mode),
            )


def diff_account(
    account: str,
    channel: Channel,
    rule: PricingRule,
    master: Mapping[str, Product],
    view: AccountView,
    targets: Mapping[str, int],
    held: Mapping[str, str] | None = None,
) -> AccountPlan:
    """What would change on ``account``: the pure heart of :func:`~omnisdk.sync.catalog.plan`.

    ``master`` maps master product ids to products; ``view`` is what the account lists now;
    ``targets`` is the stock each SKU should show there (a SKU absent from it has no stock
    recorded and is left alone); ``held`` maps SKUs whose listed price a running promotion
    sets (to the promotion's id): their price is left alone. Only fields in ``rule.owns``
    are compared; changes the channel cannot take (no capability) are listed as skipped
    with the reason.
    """
    owners = {variant.sku: pid for pid, product in master.items() for variant in product.variants}
    return _Differ(account, channel, rule, view, targets, owners, dict(held or {})).run(master)
