"""The master catalogue and its flow to every channel: import, plan, apply.

The store holds the master catalogue (products and variants keyed by SKU). Three operations
move it between the store and the channel accounts:

:func:`import_catalog`
    Bootstraps the master catalogue from one account's listings, matching by SKU (never by
    title) and binding each listing to its master variant. A second account's listings bind
    to the variants already there; where its price disagrees with the master's (after the
    account's price rule) the master wins and the disagreement is reported.
:func:`plan`
    Compares the master catalogue with what each account lists now and says what would be
    sent: new listings, content updates, prices (through the account's
    :class:`~omnisdk.pricing.PricingRule`) and stock (what the allocation says the account may
    sell). Only fields the master owns on that account (``PricingRule.owns``) are compared.
:func:`apply`
    Sends a plan: listings through ``Channel.write_products``, prices through
    ``write_prices``, stock through ``write_stock`` (in the channel's strongest mode, from
    the figure just read, recorded as the pusher's baseline: see
    :func:`omnisdk.sync.reconcile.set_listed_stock`). Every change is checked against the
    account's current state first, so applying a plan twice sends nothing the second time;
    one failed item never stops the others.
"""

from __future__ import annotations

import asyncio
import enum
import io
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from omnisdk.channel import Capability, Channel, WriteResult
from omnisdk.errors import OmnisdkError, ReauthorisationRequired, StoreError
from omnisdk.models import (
    Money,
    PriceUpdate,
    Product,
    ProductStatus,
    StockLevel,
    StockPushMode,
    StockUpdate,
    Variant,
    minor_units,
)
from omnisdk.pricing import PricingRule
from omnisdk.store.records import BindingKind

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from omnisdk.store import Store
    from omnisdk.sync.engine import Engine

__all__ = [
    "CONTENT_FIELDS",
    "AccountApplyStats",
    "AccountPlan",
    "AccountView",
    "ApplyFailure",
    "ApplyStats",
    "ChangeKind",
    "ChannelListings",
    "ConflictKind",
    "FieldChange",
    "FieldValue",
    "ImportConflict",
    "ImportStats",
    "ItemFailure",
    "ListedStock",
    "ListedVariant",
    "Plan",
    "PlannedChange",
    "SkippedItem",
    "apply",
    "base_price",
    "channel_variant",
    "content_changes",
    "diff_account",
    "import_catalog",
    "listed_stock",
    "master_copy",
    "new_listing",
    "plan",
    "price_changes",
    "price_update",
    "read_listings",
    "read_stock",
    "stock_targets",
    "stock_update",
    "updated_listing",
]

logger = logging.getLogger("omnisdk.sync.catalog")

CONTENT_FIELDS = ("title", "description", "images", "status")
"""Product fields a catalogue update may send (when the master owns them on the account)."""

FieldValue = Money | int | str | list[str] | None
"""A field's value in a plan: a price, a stock figure, a text, a list (SKUs, image URLs)."""


# -- the plan ------------------------------------------------------------------------------


class ChangeKind(enum.StrEnum):
    """What a planned change does on the channel, in the order :func:`apply` sends them."""

    CREATE = "create"
    """A new listing (``write_products``)."""
    UPDATE = "update"
    """A listing's content or new variants (``write_products``)."""
    PRICE = "price"
    """A variant's price or compare-at price (``write_prices``)."""
    STOCK = "stock"
    """A variant's listed stock (``write_stock``)."""


class FieldChange(BaseModel):
    """One field of a listing: what the channel shows now and what it would show."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str
    before: FieldValue = None
    after: FieldValue = None


class PlannedChange(BaseModel):
    """One thing :func:`apply` would send to one account.

    ``sku`` names the variant (for a listing: its first SKU), ``product_id`` the master
    product. Exactly one payload is set, matching ``kind``: ``product`` for create/update,
    ``price`` for a price, ``stock`` for stock.
    """

    model_config = ConfigDict(extra="forbid")

    account: str
    kind: ChangeKind
    sku: str
    product_id: str | None = None
    fields: list[FieldChange] = Field(default_factory=list)
    product: Product | None = None
    price: PriceUpdate | None = None
    stock: StockUpdate | None = None

    def field_change(self, name: str) -> FieldChange | None:
        """The change of field ``name``, or None when the field does not change."""
        return next((change for change in self.fields if change.field == name), None)


class SkippedItem(BaseModel):
    """Something that differs but will not be sent, and why (``sku`` ``*``: the account)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: str
    reason: str


class AccountPlan(BaseModel):
    """What would change on one channel account.

    ``error`` is set when the account could not be compared at all (unreachable, archived,
    not configured); its other accounts are planned regardless.
    """

    model_config = ConfigDict(extra="forbid")

    account: str
    channel: str
    changes: list[PlannedChange] = Field(default_factory=list)
    skipped: list[SkippedItem] = Field(default_factory=list)
    error: str | None = None

    def count(self, kind: ChangeKind) -> int:
        """How many changes of ``kind`` the account has."""
        return sum(1 for change in self.changes if change.kind is kind)


class Plan(BaseModel):
    """What :func:`apply` would send, per channel account.

    It is plain data: ``plan.model_dump_json()`` saves it, ``Plan.model_validate_json`` reads
    it back, and ``apply`` sends a loaded plan exactly like a fresh one. In a terminal it
    renders as a table (``rich.print(plan)``, or :meth:`render` for text).
    """

    model_config = ConfigDict(extra="forbid")

    created_at: datetime
    accounts: list[AccountPlan] = Field(default_factory=list)

    @property
    def changes(self) -> list[PlannedChange]:
        """Every planned change, account by account."""
        return [change for account in self.accounts for change in account.changes]

    @property
    def is_empty(self) -> bool:
        """True when there is nothing to send."""
        return not self.changes

    def account(self, name: str) -> AccountPlan:
        """The plan of account ``name``; ``KeyError`` when the plan does not cover it."""
        for account in self.accounts:
            if account.account == name:
                return account
        raise KeyError(name)

    def summary(self) -> dict[str, dict[str, int]]:
        """Per account: how many changes of each kind, and how many items were skipped."""
        return {
            account.account: {
                **{kind.value: account.count(kind) for kind in ChangeKind},
                "skipped": len(account.skipped),
            }
            for account in self.accounts
        }

    def table(self) -> Table:
        """The changes as a rich table: one row per changed field."""
        table = Table(title="Catalogue plan", show_lines=False, expand=False)
        for column in ("Account", "Change", "SKU", "Field", "Now", "After"):
            table.add_column(column, overflow="fold")
        for account in self.accounts:
            if account.error:
                table.add_row(
                    account.account, Text("error", style="red"), "", "", Text(account.error), ""
                )
            for change in account.changes:
                for index, item in enumerate(change.fields):
                    first = index == 0
                    table.add_row(
                        account.account if first else "",
                        Text(change.kind.value, style=_KIND_STYLE[change.kind]) if first else "",
                        Text(change.sku) if first else "",
                        item.field,
                        Text(_show(item.before), style="dim"),
                        Text(_show(item.after), style="bold"),
                    )
        return table

    def skipped_table(self) -> Table | None:
        """What differs but will not be sent, as a rich table (None when nothing is skipped)."""
        rows = [(a.account, s) for a in self.accounts for s in a.skipped]
        if not rows:
            return None
        table = Table(title="Not sent", expand=False)
        for column in ("Account", "SKU", "Why"):
            table.add_column(column, overflow="fold")
        for account, item in rows:
            table.add_row(account, Text(item.sku), Text(item.reason))
        return table

    def __rich__(self) -> RenderableType:
        """The changes table, the skipped table, or a line saying there is nothing to send."""
        parts: list[RenderableType] = [self.table()]
        skipped = self.skipped_table()
        if skipped is not None:
            parts.append(skipped)
        if self.is_empty:
            parts.append(Text("Nothing to send: every channel matches the master catalogue."))
        return Group(*parts)

    def render(self, width: int = 120) -> str:
        """The plan as plain text tables (no colours), ``width`` characters wide."""
        buffer = io.StringIO()
        Console(file=buffer, width=width, color_system=None, highlight=False).print(self)
        return buffer.getvalue()


_KIND_STYLE = {
    ChangeKind.CREATE: "green",
    ChangeKind.UPDATE: "yellow",
    ChangeKind.PRICE: "cyan",
    ChangeKind.STOCK: "magenta",
}


def _show(value: FieldValue) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(value) or "(none)"
    return str(value)


# -- what a channel shows now ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListedVariant:
    """A variant as listed on a channel, with the channel product that holds it."""

    product: Product
    variant: Variant


class ChannelListings:
    """A channel account's listings, indexed by SKU.

    A SKU listed more than once (two listings claiming it) is kept in ``duplicates`` with its
    count: which listing is "the" one cannot be decided by SKU, so nothing is sent to it.
    """

    def __init__(self, products: Iterable[Product]) -> None:
        """Index ``products`` (as ``Channel.stream_products`` gives them)."""
        self.products: list[Product] = list(products)
        self.by_sku: dict[str, ListedVariant] = {}
        counts: dict[str, int] = {}
        for product in self.products:
            for variant in product.variants:
                counts[variant.sku] = counts.get(variant.sku, 0) + 1
                self.by_sku.setdefault(variant.sku, ListedVariant(product, variant))
        self.duplicates: dict[str, int] = {sku: n for sku, n in counts.items() if n > 1}

    def get(self, sku: str) -> ListedVariant | None:
        """The listing of ``sku`` (None when unlisted or listed more than once)."""
        if sku in self.duplicates:
            return None
        return self.by_sku.get(sku)

    def __contains__(self, sku: object) -> bool:
        """True when the channel lists ``sku`` (once or more)."""
        return sku in self.by_sku


@dataclass(frozen=True, slots=True)
class ListedStock:
    """A SKU's listed stock on a channel; ``location`` is the channel's own location id."""

    quantity: int
    location: str | None = None


def listed_stock(levels: Iterable[StockLevel]) -> dict[str, ListedStock]:
    """Listed stock per SKU from ``Channel.stream_stock`` levels.

    Levels of one SKU at several channel locations are summed (the channel sells their
    total); the location is kept when there is exactly one.
    """
    totals: dict[str, int] = {}
    places: dict[str, set[str | None]] = {}
    for level in levels:
        totals[level.sku] = totals.get(level.sku, 0) + level.on_hand
        places.setdefault(level.sku, set()).add(level.location)
    result = {}
    for sku, quantity in totals.items():
        where = places[sku]
        result[sku] = ListedStock(quantity, next(iter(where)) if len(where) == 1 else None)
    return result


@dataclass(frozen=True, slots=True)
class AccountView:
    """What an account shows now; None where the channel cannot say (no read capability)."""

    listings: ChannelListings | None
    stock: Mapping[str, ListedStock] | None = None


# -- the diff -----------------------------------------------------------------------------


def channel_variant(variant: Variant, rule: PricingRule) -> Variant:
    """``variant`` as it should be listed: prices through ``rule``, no channel reference."""
    compare_at = variant.compare_at_price
    return variant.model_copy(
        update={
            "price": rule.apply(variant.price),
            "compare_at_price": rule.apply(compare_at) if compare_at is not None else None,
            "channel_ref": None,
        }
    )


def new_listing(product: Product, variants: Sequence[Variant], rule: PricingRule) -> Product:
    """The listing to create for master ``product`` with ``variants`` (priced by ``rule``)."""
    document = product.model_dump(
        exclude={"variants", "channel_ref", "raw", "created_at", "updated_at"}
    )
    return Product.model_validate(
        {**document, "variants": [channel_variant(v, rule) for v in variants]}
    )


def updated_listing(
    listed: Product,
    fields: Sequence[FieldChange],
    added: Sequence[Variant],
) -> Product:
    """``listed`` (the channel's product, as it is now) with the planned ``fields`` set and
    the ``added`` variants (already channel-priced) appended.

    Everything else stays as the channel has it, so a field the channel owns is sent back
    unchanged, never overwritten.
    """
    overrides: dict[str, Any] = {}
    for change in fields:
        if change.field in ("title", "description"):
            overrides[change.field] = change.after
        elif change.field == "status":
            overrides["status"] = ProductStatus(str(change.after))
        elif change.field == "images":
            urls = change.after if isinstance(change.after, list) else []
            overrides["images"] = [{"url": url, "position": i} for i, url in enumerate(urls)]
    present = set(listed.skus)
    variants = [*listed.variants, *(v for v in added if v.sku not in present)]
    document = listed.model_dump(exclude={"raw", "variants"})
    return Product.model_validate({**document, **overrides, "variants": variants})


def _image_urls(product: Product) -> list[str]:
    return [image.url for image in product.images]


def content_changes(master: Product, listed: Product, owns: frozenset[str]) -> list[FieldChange]:
    """Product fields the master owns whose value differs on the channel's ``listed`` product.

    A field the master leaves empty (no description, no images) is not a change: the master
    has no opinion there, and sending "nothing" would erase the channel's text.
    """
    changes = []
    if "title" in owns and master.title != listed.title:
        changes.append(FieldChange(field="title", before=listed.title, after=master.title))
    if (
        "description" in owns
        and master.description is not None
        and master.description != listed.description
    ):
        changes.append(
            FieldChange(field="description", before=listed.description, after=master.description)
        )
    if "images" in owns and master.images and _image_urls(master) != _image_urls(listed):
        changes.append(
            FieldChange(field="images", before=_image_urls(listed), after=_image_urls(master))
        )
    if "status" in owns and master.status is not listed.status:
        changes.append(
            FieldChange(field="status", before=listed.status.value, after=master.status.value)
        )
    return changes


def price_changes(master: Variant, listed: Variant, rule: PricingRule) -> list[FieldChange] | str:
    """The price fields the master owns that differ on the channel (empty: none).

    Returns a reason (a string) when the prices cannot be compared: different currencies.
    """
    owns = rule.owns
    if "price" not in owns and "compare_at_price" not in owns:
        return []
    target = rule.apply(master.price)
    if target.currency != listed.price.currency:
        return (
            f"the channel lists it in {listed.price.currency} but the master price is in "
            f"{target.currency}: prices are not converted"
        )
    changes = []
    if "price" in owns and target != listed.price:
        changes.append(FieldChange(field="price", before=listed.price, after=target))
    if "compare_at_price" in owns:
        wanted = master.compare_at_price
        target_cap = rule.apply(wanted) if wanted is not None else None
        if target_cap != listed.compare_at_price:
            changes.append(
                FieldChange(
                    field="compare_at_price", before=listed.compare_at_price, after=target_cap
                )
            )
    return changes


def price_update(sku: str, fields: Sequence[FieldChange], listed: Variant) -> PriceUpdate:
    """The price write for ``fields``; a price the plan does not change is the listed one."""
    price = listed.price
    compare_at = listed.compare_at_price
    for change in fields:
        if change.field == "price" and isinstance(change.after, Money):
            price = change.after
        elif change.field == "compare_at_price":
            compare_at = change.after if isinstance(change.after, Money) else None
    return PriceUpdate(sku=sku, price=price, compare_at_price=compare_at)


def stock_update(
    sku: str, target: int, current: ListedStock | None, mode: StockPushMode
) -> StockUpdate:
    """The stock write that takes the listing from ``current`` to ``target`` in ``mode``.

    Compare-and-swap carries the listed figure as ``expected`` (so a sale the core has not
    seen makes the write fail instead of being overwritten); delta carries the difference.
    """
    expected = current.quantity if current is not None else None
    return StockUpdate(
        sku=sku,
        quantity=target,
        location=current.location if current is not None else None,
        expected=expected if mode is StockPushMode.COMPARE_AND_SWAP else None,
        delta=target - (expected or 0) if mode is StockPushMode.DELTA else None,
    )


@dataclass
class _Differ:
    """Builds one account's plan (see :func:`diff_account`)."""

    account: str
    channel: Channel
    rule: PricingRule
    view: AccountView
    targets: Mapping[str, int]
    owners: Mapping[str, str]
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
                "cannot be compared with the master catalogue",
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
                    "no stock is recorded for this SKU; set it first (a listing is "
                    "never zeroed for want of a count)",
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
) -> AccountPlan:
    """What would change on ``account``: the pure heart of :func:`plan`.

    ``master`` maps master product ids to products; ``view`` is what the account lists now;
    ``targets`` is the stock each SKU should show there (a SKU absent from it has no stock
    recorded and is left alone). Only fields in ``rule.owns`` are compared; changes the
    channel cannot take (no capability) are listed as skipped with the reason.
    """
    owners = {variant.sku: pid for pid, product in master.items() for variant in product.variants}
    return _Differ(account, channel, rule, view, targets, owners).run(master)


# -- import helpers ----------------------------------------------------------------------


def base_price(rule: PricingRule, listed: Money) -> tuple[Money, bool]:
    """The master price a listing at ``listed`` implies under ``rule``.

    Returns the price and whether ``rule`` turns it back into exactly ``listed`` (a rounded
    rule maps many bases onto one price; the nearest base is chosen).
    """
    if rule.is_identity:
        return listed, True
    quantum = Decimal(1).scaleb(-minor_units(listed.currency))
    amount = ((listed.amount - rule.add) / rule.multiplier).quantize(quantum, ROUND_HALF_UP)
    candidate = Money.of(max(amount, Decimal(0)), listed.currency)
    return candidate, rule.apply(candidate) == listed


def master_copy(product: Product) -> Product:
    """A channel's product as a master catalogue product: no channel references, no raw
    payload, no platform timestamps."""
    variants = [v.model_copy(update={"channel_ref": None}) for v in product.variants]
    return product.model_copy(
        update={
            "channel_ref": None,
            "raw": None,
            "created_at": None,
            "updated_at": None,
            "variants": variants,
        }
    )


# -- results ---------------------------------------------------------------------------------


class ConflictKind(enum.StrEnum):
    """Why an imported listing does not simply match the master catalogue."""

    PRICE = "price"
    """Same SKU, different price: the master's price wins (after the account's rule)."""
    CURRENCY = "currency"
    """Same SKU, priced in another currency: nothing is converted."""
    DUPLICATE_SKU = "duplicate_sku"
    """The account lists the SKU more than once; only the first listing is bound."""
    BINDING = "binding"
    """The listing cannot be bound: the master object is bound to another listing."""
    UNREPRODUCIBLE_PRICE = "unreproducible_price"
    """The listed price cannot come out of the account's price rule exactly."""


class ImportConflict(BaseModel):
    """One disagreement found while importing, and what was done about it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: ConflictKind
    sku: str
    external_id: str | None = None
    master_price: Money | None = None
    expected_price: Money | None = None
    """The master price after the account's price rule: what the listing should show."""
    listed_price: Money | None = None
    detail: str


class ItemFailure(BaseModel):
    """An item that could not be processed (the others went on)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    error: str


class ImportStats(BaseModel):
    """What :func:`import_catalog` did with one account's listings."""

    model_config = ConfigDict(extra="forbid")

    account: str
    products_seen: int = 0
    variants_seen: int = 0
    products_created: int = 0
    """New master products."""
    variants_created: int = 0
    """New master variants (in new or existing master products)."""
    variants_matched: int = 0
    """Listings whose SKU was already in the master catalogue (the master was kept)."""
    bindings_created: int = 0
    """New variant and product bindings for the account."""
    conflicts: list[ImportConflict] = Field(default_factory=list)
    failures: list[ItemFailure] = Field(default_factory=list)


class ApplyFailure(BaseModel):
    """A change the channel refused (or that could not be sent)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    account: str
    kind: ChangeKind
    sku: str
    error: str
    code: str | None = None
    retryable: bool = False
    actual: int | None = None


class AccountApplyStats(BaseModel):
    """What :func:`apply` did on one account.

    ``sent`` items were written (``succeeded`` + ``failed``); ``unchanged`` ones already
    showed the planned value (nothing sent); ``stale`` ones changed on the channel since the
    plan in a way that makes sending unsafe (listed stock moved: re-plan).
    """

    model_config = ConfigDict(extra="forbid")

    account: str
    sent: int = 0
    succeeded: int = 0
    failed: int = 0
    unchanged: int = 0
    stale: int = 0
    sent_by_kind: dict[ChangeKind, int] = Field(default_factory=dict)
    failures: list[ApplyFailure] = Field(default_factory=list)
    notes: list[SkippedItem] = Field(default_factory=list)
    error: str | None = None


class ApplyStats(BaseModel):
    """What :func:`apply` did, per account, with totals."""

    model_config = ConfigDict(extra="forbid")

    accounts: list[AccountApplyStats] = Field(default_factory=list)

    @property
    def sent(self) -> int:
        """Items written, over all accounts."""
        return sum(a.sent for a in self.accounts)

    @property
    def succeeded(self) -> int:
        """Items the channels accepted."""
        return sum(a.succeeded for a in self.accounts)

    @property
    def failed(self) -> int:
        """Items the channels refused."""
        return sum(a.failed for a in self.accounts)

    @property
    def unchanged(self) -> int:
        """Planned items already in place (not sent)."""
        return sum(a.unchanged for a in self.accounts)

    @property
    def failures(self) -> list[ApplyFailure]:
        """Every refused item."""
        return [f for a in self.accounts for f in a.failures]

    def account(self, name: str) -> AccountApplyStats:
        """The stats of account ``name``; ``KeyError`` when it was not in the plan."""
        for account in self.accounts:
            if account.account == name:
                return account
        raise KeyError(name)


def _failure(account: str, kind: ChangeKind, result: WriteResult) -> ApplyFailure:
    return ApplyFailure(
        account=account,
        kind=kind,
        sku=result.key,
        error=result.error or "refused",
        code=result.code,
        retryable=result.retryable,
        actual=result.actual,
    )


def _error_text(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, OmnisdkError) and str(exc) else type(exc).__name__


# -- reading an account --------------------------------------------------------------------


async def read_listings(channel: Channel) -> ChannelListings | None:
    """Every listing of ``channel``'s account (None when the channel cannot read products)."""
    if Capability.READ_PRODUCTS not in channel.capabilities:
        return None
    return ChannelListings([product async for product in channel.stream_products()])


async def read_stock(channel: Channel, skus: Sequence[str] | None) -> dict[str, ListedStock] | None:
    """Listed stock of ``skus`` (every listing when None) on ``channel``'s account.

    None when the channel cannot read stock; an empty ``skus`` reads nothing.
    """
    if Capability.READ_STOCK not in channel.capabilities:
        return None
    if skus is not None and not skus:
        return {}
    wanted = None if skus is None else list(dict.fromkeys(skus))
    return listed_stock([level async for level in channel.stream_stock(wanted)])


def _load_master(engine: Engine) -> dict[str, Product]:
    return {stored.id: stored.product for stored in engine.store.iter_products()}


def _targets(engine: Engine, account: str, listed: Mapping[str, int | None]) -> dict[str, int]:
    from omnisdk.sync.reconcile import expected_stock

    targets = {}
    for sku, quantity in listed.items():
        found = expected_stock(engine, account, sku, quantity)
        if found is not None:
            targets[sku] = found.quantity
    return targets


async def stock_targets(
    engine: Engine, account: str, listed: Mapping[str, int | None]
) -> dict[str, int]:
    """What ``account`` should list of each SKU of ``listed`` (SKU -> what the channel shows,
    None when unknown): what the pusher would push now. A SKU with no stock recorded is left
    out, so it is never pushed as zero by mistake."""
    return await engine.db(_targets, engine, account, dict(listed))


def _accounts(engine: Engine, accounts: Sequence[str] | None) -> list[str]:
    if accounts is None:
        return [entry.name for entry in engine.config.channels]
    return list(dict.fromkeys(accounts))


async def _stopped_reason(engine: Engine, account: str) -> str | None:
    if not await engine.is_stopped(account):
        return None
    status = await engine.account_status(account)
    return f"account {account!r} is {status.value}: the engine does not talk to it"


# -- plan ----------------------------------------------------------------------------------


async def plan(engine: Engine, accounts: Sequence[str] | None = None) -> Plan:
    """What a catalogue sync would send to ``accounts`` (default: every configured account).

    Nothing is written anywhere. An account that cannot be read gets an ``error`` in its
    part of the plan; the others are planned regardless.
    """
    return await _plan(engine, accounts)


async def _plan(engine: Engine, accounts: Sequence[str] | None) -> Plan:
    master = await engine.db(_load_master, engine)
    result = Plan(created_at=engine.now())
    names = _accounts(engine, accounts)
    # Accounts are independent (each has its own rate budget): read them side by side.
    parts = await asyncio.gather(*(_plan_account(engine, name, master) for name in names))
    result.accounts.extend(parts)
    return result


async def _plan_account(engine: Engine, account: str, master: Mapping[str, Product]) -> AccountPlan:
    try:
        channel = engine.channel(account)
        rule = engine.account_config(account).pricing
    except OmnisdkError as exc:
        return AccountPlan(account=account, channel="?", error=_error_text(exc))
    stopped = await _stopped_reason(engine, account)
    if stopped is not None:
        return AccountPlan(account=account, channel=channel.name, error=stopped)
    master_skus = [variant.sku for product in master.values() for variant in product.variants]
    try:
        listings = await read_listings(channel)
        if listings is None:
            stock = await read_stock(channel, None)
            relevant = [sku for sku in master_skus if stock is not None and sku in stock]
        else:
            stock = await read_stock(channel, [sku for sku in master_skus if sku in listings])
            relevant = master_skus
        shown = {sku: (stock[sku].quantity if stock and sku in stock else None) for sku in relevant}
        targets = await stock_targets(engine, account, shown) if "stock" in rule.owns else {}
    except OmnisdkError as exc:
        await _maybe_lost(engine, account, exc)
        return AccountPlan(account=account, channel=channel.name, error=_error_text(exc))
    view = AccountView(listings, stock)
    return diff_account(account, channel, rule, master, view, targets)


async def _maybe_lost(engine: Engine, account: str, exc: BaseException) -> None:
    if isinstance(exc, ReauthorisationRequired):
        await engine.lost_authorisation(account, exc)


# -- apply -----------------------------------------------------------------------------------


def _current(product: Product, name: str) -> FieldValue:
    """The value of content field ``name`` on ``product``, as a plan shows it."""
    if name == "title":
        return product.title
    if name == "description":
        return product.description
    if name == "images":
        return _image_urls(product)
    if name == "status":
        return product.status.value
    raise ValueError(f"{name!r} is not a content field")


@dataclass
class _Batch:
    """Changes of one kind to send together, each with the payload decided at apply time."""

    kind: ChangeKind
    changes: list[PlannedChange] = field(default_factory=list)
    payloads: list[Any] = field(default_factory=list)

    def add(self, change: PlannedChange, payload: Any) -> None:
        self.changes.append(change)
        self.payloads.append(payload)


@dataclass
class _AccountApply:
    """Sends one account's part of a plan (see :func:`apply`)."""

    engine: Engine
    channel: Channel
    part: AccountPlan
    stats: AccountApplyStats

    def unchanged(self) -> None:
        self.stats.unchanged += 1

    def stale(self, sku: str, reason: str) -> None:
        self.stats.stale += 1
        self.stats.notes.append(SkippedItem(sku=sku, reason=reason))

    async def run(self) -> None:
        changes = self.part.changes
        needs_listings = any(c.kind is not ChangeKind.STOCK for c in changes)
        listings = await read_listings(self.channel) if needs_listings else None
        stock_skus = [c.sku for c in changes if c.kind is ChangeKind.STOCK]
        stock = await read_stock(self.channel, stock_skus)

        products = _Batch(ChangeKind.CREATE)
        prices = _Batch(ChangeKind.PRICE)
        stocks = _Batch(ChangeKind.STOCK)
        for change in changes:
            if change.kind in (ChangeKind.CREATE, ChangeKind.UPDATE):
                self.decide_product(change, listings, products)
            elif change.kind is ChangeKind.PRICE:
                self.decide_price(change, listings, prices)
            else:
                self.decide_stock(change, stock, stocks)

        written = await self.send(products, self.channel.write_products)
        await self.bind_new_listings(products, written)
        await self.send(prices, self.channel.write_prices)
        await self.send_stock(stocks)

    def decide_product(
        self, change: PlannedChange, listings: ChannelListings | None, batch: _Batch
    ) -> None:
        planned = change.product
        if planned is None:
            self.stale(change.sku, "the planned change carries no listing")
            return
        if change.kind is ChangeKind.CREATE:
            if listings is not None and any(sku in listings for sku in planned.skus):
                self.unchanged()
            else:
                batch.add(change, planned)
            return
        found = listings.get(change.sku) if listings is not None else None
        if found is None:
            self.stale(
                change.sku,
                "the listing to update is no longer on the channel (or is listed twice): re-plan",
            )
            return
        holder = found.product
        fields = [
            f
            for f in change.fields
            if f.field in CONTENT_FIELDS and _current(holder, f.field) != f.after
        ]
        variants = change.field_change("variants")
        new_skus: set[str] = set()
        if variants is not None and isinstance(variants.after, list):
            before = variants.before if isinstance(variants.before, list) else []
            new_skus = set(variants.after) - set(before)
        added = [v for v in planned.variants if v.sku in new_skus and v.sku not in holder.skus]
        if not fields and not added:
            self.unchanged()
            return
        # Rebuilt on the listing as it is now: what the channel owns stays as it is now.
        batch.add(change, updated_listing(holder, fields, added))

    def decide_price(
        self, change: PlannedChange, listings: ChannelListings | None, batch: _Batch
    ) -> None:
        found = listings.get(change.sku) if listings is not None else None
        if found is None:
            self.stale(
                change.sku, "the listing is no longer on the channel (or is listed twice): re-plan"
            )
            return
        listed = found.variant
        now = {"price": listed.price, "compare_at_price": listed.compare_at_price}
        fields = [f for f in change.fields if f.field in now and now[f.field] != f.after]
        if not fields:
            self.unchanged()
            return
        batch.add(change, price_update(change.sku, fields, listed))

    def decide_stock(
        self, change: PlannedChange, stock: Mapping[str, ListedStock] | None, batch: _Batch
    ) -> None:
        planned = change.stock
        if planned is None:
            self.stale(change.sku, "the planned change carries no stock figure")
            return
        current = stock.get(change.sku) if stock is not None else None
        before = change.field_change("stock")
        was = before.before if before is not None else None
        if current is not None and current.quantity == planned.quantity:
            self.unchanged()
            return
        if isinstance(was, int) and (current is None or current.quantity != was):
            now = current.quantity if current is not None else "nothing"
            self.stale(
                change.sku,
                f"listed stock moved from {was} to {now} since the plan "
                "(a sale the core has not seen?): re-plan, never overwrite",
            )
            return
        batch.add(change, current.quantity if current is not None else None)

    async def send(self, batch: _Batch, write: Any) -> list[tuple[PlannedChange, WriteResult]]:
        if not batch.changes:
            return []
        try:
            results: list[WriteResult] = await write(batch.payloads)
        except OmnisdkError as exc:
            await _maybe_lost(self.engine, self.part.account, exc)
            results = [WriteResult.failure(c.sku, exc) for c in batch.changes]
        done = list(zip(batch.changes, results, strict=True))
        for change, result in done:
            failure = (
                None
                if result.ok
                else _failure(
                    self.part.account, change.kind, result.model_copy(update={"key": change.sku})
                )
            )
            self.count(change, failure)
            if failure is not None:
                self.engine.fire(
                    "omnisdk_push_failed",
                    account=self.part.account,
                    key=change.sku,
                    error=failure.error,
                    retryable=failure.retryable,
                )
        return done

    def count(self, change: PlannedChange, failure: ApplyFailure | None) -> None:
        self.stats.sent += 1
        self.stats.sent_by_kind[change.kind] = self.stats.sent_by_kind.get(change.kind, 0) + 1
        if failure is None:
            self.stats.succeeded += 1
        else:
            self.stats.failed += 1
            self.stats.failures.append(failure)

    async def send_stock(self, batch: _Batch) -> None:
        """Set the listings from the figures just read, as reconciliation does: in the
        channel's strongest mode, a sale made meanwhile ingested rather than overwritten, the
        result kept as the pusher's baseline. The figure is what the account may sell now
        (the plan's, unless stock moved since)."""
        if not batch.changes:
            return
        from omnisdk.sync.reconcile import SetResult, set_listed_stock

        account = self.part.account
        listed = {c.sku: p for c, p in zip(batch.changes, batch.payloads, strict=True)}
        settings = await set_listed_stock(self.engine, self.channel, listed)
        for change in batch.changes:
            item = settings[change.sku]
            if item.result is SetResult.SET:
                self.count(change, None)
            elif item.result is SetResult.IN_STEP:
                self.unchanged()
            elif item.result is SetResult.UNTRACKED:
                self.stale(change.sku, "no stock is recorded for the SKU any more")
            else:
                error = item.error or item.result.value
                if item.result is SetResult.LOST:
                    error = f"the channel kept selling meanwhile (shows {item.listed}): {error}"
                self.count(
                    change,
                    ApplyFailure(
                        account=account,
                        kind=ChangeKind.STOCK,
                        sku=change.sku,
                        error=error,
                        code=item.code,
                        retryable=item.result is not SetResult.REFUSED,
                        actual=item.listed if item.result is SetResult.LOST else None,
                    ),
                )

    async def bind_new_listings(
        self, batch: _Batch, written: list[tuple[PlannedChange, WriteResult]]
    ) -> None:
        """Bind the listings just created or extended to their master product and variants."""
        done = [(c, r) for c, r in written if r.ok]
        if not done:
            return
        try:
            listings = await read_listings(self.channel)
        except OmnisdkError as exc:
            self.stats.notes.append(
                SkippedItem(
                    sku="*",
                    reason=f"new listings were written but could not be read back to bind "
                    f"them ({_error_text(exc)}); import the account to bind them",
                )
            )
            return
        if listings is None:
            return
        account = self.part.account
        for change, result in done:
            skus = change.product.skus if change.product is not None else []
            await self.engine.db(
                _bind_listing,
                self.engine,
                account,
                change.product_id,
                result.external_id,
                skus,
                listings,
            )


def _bind_variant(
    store: Store, account: str, sku: str, listed: Variant, session: Connection
) -> bool:
    """Bind master variant ``sku`` to its listing; True when the binding is new.

    The listing's id wins over an older binding (a listing re-created on the channel).
    """
    external_id = listed.channel_ref.external_id if listed.channel_ref is not None else sku
    return store.bind(account, BindingKind.VARIANT, sku, external_id, replace=True, session=session)


def _bind_product(
    store: Store, account: str, product_id: str, external_id: str, session: Connection
) -> bool | str:
    """Bind master product ``product_id`` to channel product ``external_id``.

    Returns whether the binding is new, or a reason when either side is bound elsewhere
    (a channel splitting one master product over two listings, say): nothing is replaced.
    """
    bound = store.external_id_for(account, BindingKind.PRODUCT, product_id, session=session)
    owner = store.canonical_id_for(account, BindingKind.PRODUCT, external_id, session=session)
    if bound not in (None, external_id):
        return f"master product {product_id} is already bound to listing {bound}"
    if owner not in (None, product_id):
        return f"listing {external_id} is already bound to master product {owner}"
    return store.bind(account, BindingKind.PRODUCT, product_id, external_id, session=session)


def _bind_listing(
    engine: Engine,
    account: str,
    product_id: str | None,
    external_id: str | None,
    skus: Sequence[str],
    listings: ChannelListings,
) -> None:
    store = engine.store
    with store.session() as session:
        for sku in skus:
            found = listings.get(sku)
            if found is None:
                continue
            _bind_variant(store, account, sku, found.variant, session)
            if found.product.channel_ref is not None:
                external_id = found.product.channel_ref.external_id
        if product_id and external_id:
            outcome = _bind_product(store, account, product_id, external_id, session)
            if isinstance(outcome, str):
                logger.warning("%s: %s", account, outcome)


async def apply(engine: Engine, plan: Plan | None = None) -> ApplyStats:
    """Send ``plan`` (a fresh :func:`plan` of every account when None).

    Each account's current state is read first and a change already in place is not sent
    (so a second apply of the same plan sends nothing); a listing is rebuilt on what the
    channel shows now, so a field the channel owns is never overwritten; a stock figure that
    moved since the plan is not overwritten (re-plan). Listings go first, then prices, then
    stock; one refused item never stops the others, and new listings are bound to their
    master product and variants.
    """
    if plan is None:
        plan = await _plan(engine, None)
    stats = ApplyStats(accounts=[AccountApplyStats(account=part.account) for part in plan.accounts])
    pairs = zip(plan.accounts, stats.accounts, strict=True)
    await asyncio.gather(*(_apply_account(engine, part, done) for part, done in pairs))
    return stats


async def _apply_account(engine: Engine, part: AccountPlan, stats: AccountApplyStats) -> None:
    if not part.changes:
        return
    try:
        channel = engine.channel(part.account)
        stopped = await _stopped_reason(engine, part.account)
        if stopped is not None:
            stats.error = stopped
            return
        await _AccountApply(engine, channel, part, stats).run()
    except OmnisdkError as exc:
        await _maybe_lost(engine, part.account, exc)
        stats.error = _error_text(exc)
    engine.fire(
        "omnisdk_sync_finished",
        account=part.account,
        stream="catalog",
        stats={
            "sent": stats.sent,
            "succeeded": stats.succeeded,
            "failed": stats.failed,
            "unchanged": stats.unchanged,
            "stale": stats.stale,
        },
    )


# -- import ----------------------------------------------------------------------------------


@dataclass
class _Imported:
    """What importing one listing did (filled in the store thread)."""

    product_created: bool = False
    variants_created: int = 0
    variants_matched: int = 0
    bindings_created: int = 0
    conflicts: list[ImportConflict] = field(default_factory=list)


def _import_listing(
    engine: Engine, account: str, listing: Product, variants: Sequence[Variant], rule: PricingRule
) -> _Imported:
    """Match ``variants`` of one listing to the master catalogue by SKU, add the new ones,
    bind them all; one transaction, so a failure leaves nothing half done."""
    store = engine.store
    done = _Imported()
    external_id = listing.channel_ref.external_id if listing.channel_ref else None
    with store.session() as session:
        known = {v.sku: store.get_variant(v.sku, session=session) for v in variants}
        new: list[Variant] = []
        owners: list[str] = []
        for variant in variants:
            stored = known[variant.sku]
            if stored is None:
                new.append(_master_variant(variant, rule, done, external_id))
                continue
            done.variants_matched += 1
            owners.append(stored.product_id)
            conflict = _price_conflict(stored.variant, variant, rule, external_id)
            if conflict is not None:
                done.conflicts.append(conflict)
        product_id = owners[0] if owners else None
        if new:
            if product_id is None:
                master = master_copy(listing).model_copy(update={"variants": new})
                product_id = store.upsert_product(master, session=session).product_id
                done.product_created = True
            else:
                # New SKUs of a listing whose other SKUs are known join that master product;
                # its own fields (title, ...) stay as the master has them.
                current = store.get_product(product_id, session=session)
                if current is None:  # pragma: no cover - the variant row pins its product
                    raise StoreError(f"master product {product_id} vanished during import")
                extended = current.product.model_copy(
                    update={"variants": [*current.product.variants, *new]}
                )
                store.upsert_product(extended, product_id=product_id, session=session)
            done.variants_created = len(new)
        for variant in variants:
            if _bind_variant(store, account, variant.sku, variant, session):
                done.bindings_created += 1
        if product_id is not None and external_id is not None:
            outcome = _bind_product(store, account, product_id, external_id, session)
            if isinstance(outcome, str):
                done.conflicts.append(
                    ImportConflict(
                        kind=ConflictKind.BINDING,
                        sku=variants[0].sku,
                        external_id=external_id,
                        detail=f"{outcome}; the listing's variants are bound, the product is not",
                    )
                )
            elif outcome:
                done.bindings_created += 1
    return done


def _master_variant(
    listed: Variant, rule: PricingRule, done: _Imported, external_id: str | None
) -> Variant:
    """A listed variant new to the master: its price taken back through the account's rule."""
    price, exact = base_price(rule, listed.price)
    if not exact:
        done.conflicts.append(
            ImportConflict(
                kind=ConflictKind.UNREPRODUCIBLE_PRICE,
                sku=listed.sku,
                external_id=external_id,
                master_price=price,
                expected_price=rule.apply(price),
                listed_price=listed.price,
                detail=f"no master price gives {listed.price} under the account's price rule; "
                f"the master price is set to {price}",
            )
        )
    compare_at = listed.compare_at_price
    return listed.model_copy(
        update={
            "price": price,
            "compare_at_price": base_price(rule, compare_at)[0] if compare_at is not None else None,
            "channel_ref": None,
        }
    )


def _price_conflict(
    master: Variant, listed: Variant, rule: PricingRule, external_id: str | None
) -> ImportConflict | None:
    expected = rule.apply(master.price)
    if expected.currency != listed.price.currency:
        return ImportConflict(
            kind=ConflictKind.CURRENCY,
            sku=listed.sku,
            external_id=external_id,
            master_price=master.price,
            expected_price=expected,
            listed_price=listed.price,
            detail=f"listed in {listed.price.currency}, the master price is in "
            f"{master.price.currency}; prices are not converted",
        )
    if expected == listed.price:
        return None
    return ImportConflict(
        kind=ConflictKind.PRICE,
        sku=listed.sku,
        external_id=external_id,
        master_price=master.price,
        expected_price=expected,
        listed_price=listed.price,
        detail=f"listed at {listed.price} but the master price {master.price} gives {expected} "
        "on this account; the master wins (plan/apply will send it)",
    )


async def import_catalog(engine: Engine, account: str) -> ImportStats:
    """Build or extend the master catalogue from ``account``'s listings, binding by SKU.

    A listing whose SKUs are new becomes a master product (its price taken back through the
    account's price rule); SKUs already in the master are bound to the account without
    changing the master, and a price that disagrees is reported (the master wins). Titles are
    never used to match. A listing that cannot be imported is quarantined and reported; the
    others go on. Stock is not imported: record it with ``Engine.set_stock``.
    """
    channel = engine.channel(account)
    rule = engine.account_config(account).pricing
    channel.require(Capability.READ_PRODUCTS)
    stopped = await _stopped_reason(engine, account)
    if stopped is not None:
        raise OmnisdkError(stopped)
    await engine.db(engine.store.ensure_account, account, channel.name)
    stats = ImportStats(account=account)
    claimed: dict[str, str | None] = {}
    try:
        async for listing in channel.stream_products():
            await _import_one(engine, account, listing, rule, claimed, stats)
    except OmnisdkError as exc:
        await _maybe_lost(engine, account, exc)
        raise
    engine.fire(
        "omnisdk_sync_finished",
        account=account,
        stream="catalog_import",
        stats={
            "seen": stats.products_seen,
            "new": stats.products_created,
            "variants_new": stats.variants_created,
            "matched": stats.variants_matched,
            "conflicts": len(stats.conflicts),
            "failed": len(stats.failures),
        },
    )
    return stats


async def _import_one(
    engine: Engine,
    account: str,
    listing: Product,
    rule: PricingRule,
    claimed: dict[str, str | None],
    stats: ImportStats,
) -> None:
    external_id = listing.channel_ref.external_id if listing.channel_ref else None
    stats.products_seen += 1
    stats.variants_seen += len(listing.variants)
    fresh: list[Variant] = []
    for variant in listing.variants:
        if variant.sku in claimed:
            stats.conflicts.append(
                ImportConflict(
                    kind=ConflictKind.DUPLICATE_SKU,
                    sku=variant.sku,
                    external_id=external_id,
                    detail=f"also listed by {claimed[variant.sku] or 'another listing'}; only the "
                    "first listing is bound",
                )
            )
        else:
            claimed[variant.sku] = external_id
            fresh.append(variant)
    if not fresh:
        return
    try:
        done = await engine.db(_import_listing, engine, account, listing, fresh, rule)
    except OmnisdkError as exc:
        reason = f"catalogue import failed: {_error_text(exc)}"
        stats.failures.append(ItemFailure(key=external_id or fresh[0].sku, error=reason))
        payload = listing.raw if listing.raw is not None else listing.model_dump(mode="json")
        await engine.db(engine.store.quarantine, account, "product", external_id, reason, payload)
        return
    stats.products_created += int(done.product_created)
    stats.variants_created += done.variants_created
    stats.variants_matched += done.variants_matched
    stats.bindings_created += done.bindings_created
    stats.conflicts.extend(done.conflicts)
