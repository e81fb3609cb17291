"""The catalog's data: plans, and what importing and applying did.

A :class:`Plan` is plain data (saved as JSON, loaded back, applied like a fresh one) that
the CLI draws as tables; :class:`ImportStats` and :class:`ApplyStats` report what
:func:`~omnisdk.sync.catalog.import_catalog` and :func:`~omnisdk.sync.catalog.apply` did.
"""

from __future__ import annotations

import enum
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from omnisdk.models import Money, PriceUpdate, Product, StockUpdate
from omnisdk.sync.reports import by_account

__all__ = [
    "AccountApplyStats",
    "AccountPlan",
    "ApplyFailure",
    "ApplyStats",
    "ChangeKind",
    "ConflictKind",
    "FieldChange",
    "FieldValue",
    "ImportConflict",
    "ImportStats",
    "ItemFailure",
    "Plan",
    "PlannedChange",
    "SkippedItem",
]

FieldValue = Money | int | str | list[str] | None
"""A field's value in a plan: a price, a stock figure, a text, a list (SKUs, image URLs)."""


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
    it back, and ``apply`` sends a loaded plan exactly like a fresh one. The CLI draws it as
    tables (``omnisdk/cli/report_render.py``).
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
        return by_account(self.accounts, name)

    def summary(self) -> dict[str, dict[str, int]]:
        """Per account: how many changes of each kind, and how many items were skipped."""
        return {
            account.account: {
                **{kind.value: account.count(kind) for kind in ChangeKind},
                "skipped": len(account.skipped),
            }
            for account in self.accounts
        }


# -- what importing and applying did ----------------------------------------------------------


class ConflictKind(enum.StrEnum):
    """Why an imported listing does not simply match the master catalog."""

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
    """Listings whose SKU was already in the master catalog (the master was kept)."""
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
        return by_account(self.accounts, name)
