"""The store's vocabulary: the enums it validates and the frozen records it returns.

Records are plain frozen dataclasses (not ORM objects): they are safe to pass between
threads and to hand to ``asyncio`` code after the transaction that read them has ended.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from omnisdk.models import Customer, Location, Order, OrderStatus, Product, Variant

__all__ = [
    "AccountRow",
    "AccountStatus",
    "BindingKind",
    "LedgerEntry",
    "LockedOrder",
    "MovementKind",
    "OrderSaved",
    "OrderVersion",
    "OutboxItem",
    "ProductSaved",
    "QuarantineRow",
    "StockMovement",
    "StoredCustomer",
    "StoredLocation",
    "StoredOrder",
    "StoredProduct",
    "StoredVariant",
]


class AccountStatus(enum.StrEnum):
    """Where a channel account stands."""

    ACTIVE = "active"
    NEEDS_REAUTH = "needs_reauth"
    """The platform refused our authorisation: a person must authorise the app again."""
    ARCHIVED = "archived"
    """The channel was removed; its history is kept."""


class BindingKind(enum.StrEnum):
    """What a binding maps between the canonical world and a channel."""

    PRODUCT = "product"
    VARIANT = "variant"
    LOCATION = "location"
    ORDER = "order"
    CUSTOMER = "customer"


class MovementKind(enum.StrEnum):
    """Why stock moved; one ledger entry records one movement."""

    ADJUST = "adjust"
    """A manual correction or a delivery of goods."""
    COUNT = "count"
    """A stocktake: on hand set to what was counted."""
    RESERVE = "reserve"
    """An order holds units."""
    COMMIT = "commit"
    """Held units left the building (shipped or collected)."""
    RELEASE = "release"
    """An order gave its units back (cancelled, returned)."""


@dataclass(frozen=True, slots=True)
class AccountRow:
    """A configured channel account (one ``[[channels]]`` entry)."""

    id: int
    name: str
    channel: str
    status: AccountStatus
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One applied stock movement."""

    id: int
    key: str
    sku: str
    location: str
    kind: MovementKind
    on_hand_delta: int
    reserved_delta: int
    reference: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A (account, SKU) pair whose listing must be pushed, as claimed by a pusher.

    ``generation`` must be passed back to ``Store.complete`` so a change that arrived while
    the push was in flight is not lost.
    """

    account: str
    sku: str
    generation: int
    attempts: int
    last_error: str | None
    lease_owner: str | None
    lease_expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class QuarantineRow:
    """A payload the engine could not process, kept with the reason so it can be replayed."""

    id: int
    account: str
    kind: str
    external_id: str | None
    reason: str
    payload: Any = field(repr=False)
    attempts: int
    created_at: datetime
    last_attempt_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True, slots=True)
class ProductSaved:
    """What ``Store.upsert_product`` did.

    ``product_changed`` is True when the product-level content (title, description, ...)
    differs from what was stored; ``changed_skus`` lists the variants whose content changed
    (new variants included). Together they say what a catalog push must send.
    """

    product_id: str
    created: bool
    product_changed: bool
    changed_skus: tuple[str, ...]
    removed_skus: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StoredVariant:
    """A variant as stored: its product, position and content hash."""

    sku: str
    product_id: str
    position: int
    variant: Variant
    content_hash: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class StoredProduct:
    """A product as stored, variants in their stored order."""

    id: str
    product: Product
    content_hash: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class StoredLocation:
    """A location as stored."""

    location: Location
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class OrderSaved:
    """What ``Store.upsert_order`` did.

    ``applied`` is False when the stored copy is newer (an out-of-order or repeated
    delivery): nothing was written. ``previous_status`` is the status before this write
    (None for a new order), so the caller can derive the stock movement of the transition.
    """

    order_id: int
    created: bool
    applied: bool
    changed: bool
    previous_status: OrderStatus | None
    status: OrderStatus


@dataclass(frozen=True, slots=True)
class OrderVersion:
    """Which version of an order the store holds: the platform's ``updated_at``, the content
    hash, and the customer it is linked to (and the order's id and status, when read by
    ``Store.order_versions``)."""

    updated_at: datetime
    content_hash: str
    customer_id: str | None
    order_id: int | None = None
    status: OrderStatus | None = None


@dataclass(frozen=True, slots=True)
class LockedOrder:
    """A stored order's version, read under its row lock (``Store.lock_orders``).

    ``buyer`` is the customer part of the stored document (None when it had none): the
    engine compares it with an incoming version's buyer to skip matching an unchanged one.
    ``document`` is the whole stored version (what a rewrite takes out of the sales summary).
    """

    order_id: int
    status: OrderStatus
    updated_at: datetime
    content_hash: str
    customer_id: str | None
    buyer: dict[str, Any] | None
    document: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class StockMovement:
    """One movement for ``Store.apply_stock_movements`` (see ``apply_stock_movement``)."""

    key: str
    sku: str
    location: str
    kind: MovementKind
    on_hand_delta: int = 0
    reserved_delta: int = 0
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class StoredOrder:
    """An order as stored, with the store's own id and the customer it is linked to."""

    id: int
    account: str
    external_id: str
    customer_id: str | None
    order: Order
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class StoredCustomer:
    """A customer as stored.

    ``merged_into`` is set when this record was merged into another one; ``match_keys`` are
    the identities (``phone:+84…``, ``email:…``, ``ref:…``) that currently point at it.
    """

    id: str
    customer: Customer
    merged_into: str | None
    match_keys: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
