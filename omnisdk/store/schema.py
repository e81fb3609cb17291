"""The tables: one :class:`~sqlalchemy.MetaData` holding every table the store owns.

Every table name starts with ``omnisdk_`` and constraints follow one naming convention, so
the schema can live beside an application's own tables and migrations stay predictable.
Money is stored as integer minor units (``*_minor``, e.g. dong or cents) beside its ISO
currency: exact on both databases (SQLite's NUMERIC would silently become a float). The
canonical JSON ``document`` of each object is the truth; the other columns are for keys,
indexes and queries.
"""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

from omnisdk.models import OrderStatus, PaymentStatus
from omnisdk.store.records import AccountStatus, BindingKind, MovementKind
from omnisdk.store.types import BigId, JSONDocument, UTCDateTime

__all__ = [
    "TABLE_PREFIX",
    "VERSION_TABLE",
    "accounts",
    "bindings",
    "cursors",
    "customer_identities",
    "customer_merges",
    "customers",
    "include_store_name",
    "listings",
    "locations",
    "metadata",
    "notifications",
    "order_lines",
    "orders",
    "outbox",
    "products",
    "promotion_listings",
    "promotions",
    "quarantine",
    "stock_ledger",
    "stock_levels",
    "tokens",
    "variants",
    "webhook_deliveries",
]

TABLE_PREFIX = "omnisdk_"
"""Every table of the store starts with this prefix."""

VERSION_TABLE = "omnisdk_alembic_version"
"""Alembic's version table for the store (not ``alembic_version``: that is the app's)."""

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)
"""All tables of the store; the Alembic migrations must produce exactly this schema."""

SKU = 255
EXTERNAL_ID = 255
KEY = 255


def include_store_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic ``include_name`` filter: only the store's own tables are compared or migrated."""
    if type_ == "table":
        return name is not None and name.startswith(TABLE_PREFIX)
    return True


def _one_of(column: str, values: type[enum.StrEnum]) -> str:
    listed = ", ".join(f"'{member.value}'" for member in values)
    return f"{column} IN ({listed})"


accounts = Table(
    "omnisdk_accounts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("channel", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("auth_refusals", Integer, nullable=False, server_default="0"),
    Column("auth_refused_at", UTCDateTime, nullable=True),
    CheckConstraint(_one_of("status", AccountStatus), name="status"),
)
"""Channel accounts: one row per ``[[channels]]`` entry, ``name`` being the entry's name;
``auth_refusals`` counts the requests in a row its platform refused for authorisation, over
every process, the last counted one seen at ``auth_refused_at`` (migration 0008)."""

tokens = Table(
    "omnisdk_tokens",
    metadata,
    Column("account_id", Integer, ForeignKey(accounts.c.id, ondelete="CASCADE"), primary_key=True),
    Column("secrets", JSONDocument, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
)
"""The current token of each account (``Token.dump_secrets()``)."""

bindings = Table(
    "omnisdk_bindings",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("account_id", Integer, ForeignKey(accounts.c.id), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("canonical_id", String(KEY), nullable=False),
    Column("external_id", String(EXTERNAL_ID), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("account_id", "kind", "canonical_id"),
    UniqueConstraint("account_id", "kind", "external_id"),
    CheckConstraint(_one_of("kind", BindingKind), name="kind"),
)
"""Canonical id <-> the channel's id, per account and kind; unique in both directions."""

products = Table(
    "omnisdk_products",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("title", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("document", JSONDocument, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
"""Master catalog products (their variants live in ``omnisdk_variants``)."""

variants = Table(
    "omnisdk_variants",
    metadata,
    Column("sku", String(SKU), primary_key=True),
    Column(
        "product_id",
        String(64),
        ForeignKey(products.c.id, ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("position", Integer, nullable=False),
    Column("price_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(16), nullable=False),
    Column("document", JSONDocument, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
"""Variants keyed by SKU, with a content hash so only what changed needs sending."""

locations = Table(
    "omnisdk_locations",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("pickup", Boolean, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("document", JSONDocument, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
"""Places that hold stock."""

stock_ledger = Table(
    "omnisdk_stock_ledger",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(KEY), nullable=False, unique=True),
    Column("sku", String(SKU), nullable=False),
    Column("location", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("on_hand_delta", Integer, nullable=False),
    Column("reserved_delta", Integer, nullable=False),
    Column("reference", String(255), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    CheckConstraint(_one_of("kind", MovementKind), name="kind"),
    Index(None, "sku", "location", "id"),
    # The engine reads an order's ledger entries by reference ("order:<account>:<id>").
    Index(None, "reference"),
)
"""Every stock movement, applied exactly once thanks to the unique idempotency key."""

stock_levels = Table(
    "omnisdk_stock_levels",
    metadata,
    Column("sku", String(SKU), nullable=False),
    Column("location", String(64), nullable=False),
    Column("on_hand", Integer, nullable=False),
    Column("reserved", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("sku", "location"),
    # on_hand may go below zero (an oversell is a fact to record); reserved may not.
    CheckConstraint("reserved >= 0", name="reserved_not_negative"),
)
"""Current on hand / reserved per (SKU, location): the ledger summed, kept in step with it."""

customers = Table(
    "omnisdk_customers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("display_name", Text, nullable=False),
    Column("document", JSONDocument, nullable=False),
    Column(
        "merged_into", String(64), ForeignKey("omnisdk_customers.id"), nullable=True, index=True
    ),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
"""Canonical customers; a merged-away record points at the survivor with ``merged_into``."""

customer_identities = Table(
    "omnisdk_customer_identities",
    metadata,
    Column("match_key", String(320), primary_key=True),
    Column("customer_id", String(64), ForeignKey(customers.c.id), nullable=False, index=True),
    Column("source_account_id", Integer, ForeignKey(accounts.c.id), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)
"""Match keys (``phone:+84912345678``, ``email:…``, ``ref:…``), each owned by one customer."""

customer_merges = Table(
    "omnisdk_customer_merges",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("from_customer_id", String(64), ForeignKey(customers.c.id), nullable=False, index=True),
    Column("into_customer_id", String(64), ForeignKey(customers.c.id), nullable=False, index=True),
    Column("reason", Text, nullable=False),
    Column("moved_keys", JSONDocument, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("undone_at", UTCDateTime, nullable=True),
)
"""Merges of two customers, with the identities moved, so a merge can be undone."""

orders = Table(
    "omnisdk_orders",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("account_id", Integer, ForeignKey(accounts.c.id), nullable=False),
    Column("external_id", String(EXTERNAL_ID), nullable=False),
    Column("number", String(64), nullable=True),
    Column("status", String(20), nullable=False, index=True),
    Column("payment_status", String(24), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    # The sales report's figures (omnisdk.store.sales_figures), kept so it is one GROUP BY.
    Column("units", Integer, nullable=False, server_default=text("0")),
    Column("gross_minor", BigInteger, nullable=False, server_default=text("0")),
    Column("discount_minor", BigInteger, nullable=False, server_default=text("0")),
    Column("refund_minor", BigInteger, nullable=False, server_default=text("0")),
    Column("location", String(64), nullable=True),
    Column(
        "customer_id",
        String(64),
        ForeignKey(customers.c.id, ondelete="SET NULL"),
        nullable=True,
        index=True,
    ),
    Column("placed_at", UTCDateTime, nullable=False),
    Column("platform_updated_at", UTCDateTime, nullable=False),
    Column("document", JSONDocument, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("account_id", "external_id"),
    CheckConstraint(_one_of("status", OrderStatus), name="status"),
    CheckConstraint(_one_of("payment_status", PaymentStatus), name="payment_status"),
    Index(None, "account_id", "platform_updated_at"),
    Index(None, "placed_at"),
)
"""Orders, unique per (account, the platform's order id)."""

order_lines = Table(
    "omnisdk_order_lines",
    metadata,
    Column(
        "order_id",
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey(orders.c.id, ondelete="CASCADE"),
        nullable=False,
    ),
    Column("line_no", Integer, nullable=False),
    Column("sku", String(SKU), nullable=False, index=True),
    Column("quantity", Integer, nullable=False),
    Column("unit_price_minor", BigInteger, nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    # The line's share of the order's refund (omnisdk.store.sales_figures.line_refunds).
    Column("refund_minor", BigInteger, nullable=False, server_default=text("0")),
    PrimaryKeyConstraint("order_id", "line_no"),
)
"""Order lines, for queries by SKU (the order's document holds them too)."""

cursors = Table(
    "omnisdk_cursors",
    metadata,
    Column("account_id", Integer, ForeignKey(accounts.c.id), nullable=False),
    Column("stream", String(64), nullable=False),
    Column("value", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("account_id", "stream"),
)
"""Polling checkpoints per (account, stream)."""

outbox = Table(
    "omnisdk_outbox",
    metadata,
    Column("account_id", Integer, ForeignKey(accounts.c.id), nullable=False),
    Column("sku", String(SKU), nullable=False),
    Column("generation", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("lease_owner", String(128), nullable=True),
    Column("lease_expires_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("account_id", "sku"),
    Index(None, "account_id", "next_attempt_at"),
)
"""Pending stock pushes: a row exists while (account, SKU) is dirty."""

quarantine = Table(
    "omnisdk_quarantine",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("account_id", Integer, ForeignKey(accounts.c.id), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("external_id", String(EXTERNAL_ID), nullable=True),
    Column("reason", Text, nullable=False),
    Column("payload", JSONDocument, nullable=True),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_attempt_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime, nullable=True),
    # One open entry per object: a payload that fails on every poll updates its entry.
    Index(
        "uq_omnisdk_quarantine_open",
        "account_id",
        "kind",
        "external_id",
        unique=True,
        sqlite_where=text("resolved_at IS NULL"),
        postgresql_where=text("resolved_at IS NULL"),
    ),
    Index(None, "resolved_at", "id"),
)
"""Payloads the engine could not process, with the reason, until resolved."""

webhook_deliveries = Table(
    "omnisdk_webhook_deliveries",
    metadata,
    Column("account_id", Integer, ForeignKey(accounts.c.id), nullable=False),
    Column("delivery_id", String(255), nullable=False),
    Column("received_at", UTCDateTime, nullable=False, index=True),
    PrimaryKeyConstraint("account_id", "delivery_id"),
)
"""Webhook delivery ids already processed, so a redelivery is a no-op."""

listings = Table(
    "omnisdk_listings",
    metadata,
    Column("account_id", Integer, ForeignKey(accounts.c.id), nullable=False),
    Column("sku", String(SKU), nullable=False),
    Column("external_id", String(EXTERNAL_ID), nullable=True),
    Column("last_pushed", Integer, nullable=True),
    Column("pushed_at", UTCDateTime, nullable=True),
    Column("pending_unseen", Integer, nullable=False),
    Column("seen_since_push", Integer, nullable=False),
    Column("last_listed", Integer, nullable=True),
    Column("listed_at", UTCDateTime, nullable=True),
    Column("inflight_quantity", Integer, nullable=True),
    Column("inflight_pending", Integer, nullable=True),
    Column("inflight_seen", Integer, nullable=True),
    Column("inflight_at", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("error_code", String(64), nullable=True),
    Column("failed_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("sold", Integer, nullable=False, server_default=text("0")),
    Column("sold_recent", Integer, nullable=False, server_default=text("0")),
    Column("window_hold", Integer, nullable=False, server_default=text("0")),
    Column("overwritten", Integer, nullable=False, server_default=text("0")),
    Column("rebalances", Integer, nullable=False, server_default=text("0")),
    Column("starved", Integer, nullable=False, server_default=text("0")),
    Column("sold_recent_since", UTCDateTime, nullable=True),
    Column("read_at", UTCDateTime, nullable=True),
    Column("written_at", UTCDateTime, nullable=True),
    Column("unseen_settled", Boolean, nullable=False, server_default=false()),
    PrimaryKeyConstraint("account_id", "sku"),
    Index(None, "sku"),
)
"""One row per SKU an account lists (or sold): the engine's knowledge of that listing."""

notifications = Table(
    "omnisdk_notifications",
    metadata,
    Column("customer_id", String(64), nullable=False),
    Column("order_key", String(KEY), nullable=False),
    Column("event", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("tried_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime, nullable=True),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("last_error", Text, nullable=True),
    PrimaryKeyConstraint("customer_id", "order_key", "event"),
    Index(None, "delivered_at"),
)
"""Customer notifications (``omnisdk_notify_customer``), one row per (customer, order, event):
the key that keeps a webhook and a poll of the same order from messaging the buyer twice."""

sales_days = Table(
    "omnisdk_sales_days",
    metadata,
    Column("zone", String(64), nullable=False),
    Column("sku", String(SKU), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("day", String(10), nullable=False),
    Column("orders", BigInteger, nullable=False),
    Column("units", BigInteger, nullable=False),
    Column("gross_minor", BigInteger, nullable=False),
    Column("discount_minor", BigInteger, nullable=False),
    Column("refund_minor", BigInteger, nullable=False),
    PrimaryKeyConstraint("zone", "sku", "currency", "day"),
)
"""The sales report by SKU, summed per (day in ``zone``, SKU, currency) by the intake in the
orders' transaction (:mod:`omnisdk.store.sales_days`); cancelled orders add nothing."""

sales_day_zones = Table(
    "omnisdk_sales_day_zones",
    metadata,
    Column("zone", String(64), primary_key=True),
    Column("built_at", UTCDateTime, nullable=False),
)
"""The time zones :data:`sales_days` is kept for (built from every stored order)."""

promotions = Table(
    "omnisdk_promotions",
    metadata,
    Column("id", String(64), nullable=False),
    Column("document", JSONDocument, nullable=False),
    Column("origin", String(16), nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=True),
    PrimaryKeyConstraint("id"),
    CheckConstraint("origin IN ('config', 'api')", name="origin"),
)
"""Promotions of the master catalog (``[[promotions]]`` or added through the API): the
promotion as a JSON document, and ``ended_at`` once it was ended and its prices restored."""

promotion_listings = Table(
    "omnisdk_promotion_listings",
    metadata,
    Column("promotion_id", String(64), nullable=False),
    Column("account", String(KEY), nullable=False),
    Column("sku", String(KEY), nullable=False),
    Column("state", String(16), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("base_minor", BigInteger, nullable=False),
    Column("promoted_minor", BigInteger, nullable=False),
    Column("external_id", String(KEY), nullable=True),
    Column("error", Text, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("promotion_id", "account", "sku"),
    CheckConstraint("state IN ('applied', 'ended', 'failed')", name="state"),
)
"""What each account shows of each promotion: ``applied`` (the promoted price is on the
channel), ``ended`` (the base price is back) or ``failed`` (the last write failed: ``error``)."""
