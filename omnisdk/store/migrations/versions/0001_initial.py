"""Initial schema: accounts, tokens, bindings, catalog, stock, orders, customers, sync state.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

A migration is a frozen snapshot: it spells its column types out instead of importing the
live schema, so later changes to ``omnisdk.store.schema`` never rewrite history.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )


def _big_id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _account_fk(table: str, column: str = "account_id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["omnisdk_accounts.id"], name=op.f(f"fk_{table}_{column}_omnisdk_accounts")
    )


def upgrade() -> None:
    """Create every table of the store."""
    op.create_table(
        "omnisdk_accounts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        _time("created_at"),
        _time("updated_at"),
        sa.CheckConstraint(
            "status IN ('active', 'needs_reauth', 'archived')",
            name=op.f("ck_omnisdk_accounts_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_omnisdk_accounts")),
        sa.UniqueConstraint("name", name=op.f("uq_omnisdk_accounts_name")),
    )
    op.create_table(
        "omnisdk_tokens",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("secrets", _json(), nullable=False),
        _time("expires_at", nullable=True),
        _time("updated_at"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["omnisdk_accounts.id"],
            name=op.f("fk_omnisdk_tokens_account_id_omnisdk_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_omnisdk_tokens")),
    )
    op.create_table(
        "omnisdk_bindings",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("canonical_id", sa.String(length=255), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        _time("created_at"),
        sa.CheckConstraint(
            "kind IN ('product', 'variant', 'location', 'order', 'customer')",
            name=op.f("ck_omnisdk_bindings_kind"),
        ),
        _account_fk("omnisdk_bindings"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_omnisdk_bindings")),
        sa.UniqueConstraint(
            "account_id",
            "kind",
            "canonical_id",
            name=op.f("uq_omnisdk_bindings_account_id_kind_canonical_id"),
        ),
        sa.UniqueConstraint(
            "account_id",
            "kind",
            "external_id",
            name=op.f("uq_omnisdk_bindings_account_id_kind_external_id"),
        ),
    )
    op.create_table(
        "omnisdk_products",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("document", _json(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        _time("created_at"),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_omnisdk_products")),
    )
    op.create_table(
        "omnisdk_variants",
        sa.Column("sku", sa.String(length=255), nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("document", _json(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        _time("updated_at"),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["omnisdk_products.id"],
            name=op.f("fk_omnisdk_variants_product_id_omnisdk_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("sku", name=op.f("pk_omnisdk_variants")),
    )
    op.create_index(op.f("ix_omnisdk_variants_product_id"), "omnisdk_variants", ["product_id"])
    op.create_table(
        "omnisdk_locations",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("pickup", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("document", _json(), nullable=False),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_omnisdk_locations")),
    )
    op.create_table(
        "omnisdk_stock_ledger",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("sku", sa.String(length=255), nullable=False),
        sa.Column("location", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("on_hand_delta", sa.Integer(), nullable=False),
        sa.Column("reserved_delta", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=255), nullable=True),
        _time("created_at"),
        sa.CheckConstraint(
            "kind IN ('adjust', 'count', 'reserve', 'commit', 'release')",
            name=op.f("ck_omnisdk_stock_ledger_kind"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_omnisdk_stock_ledger")),
        sa.UniqueConstraint(
            "idempotency_key", name=op.f("uq_omnisdk_stock_ledger_idempotency_key")
        ),
    )
    op.create_index(
        op.f("ix_omnisdk_stock_ledger_sku_location_id"),
        "omnisdk_stock_ledger",
        ["sku", "location", "id"],
    )
    op.create_table(
        "omnisdk_stock_levels",
        sa.Column("sku", sa.String(length=255), nullable=False),
        sa.Column("location", sa.String(length=64), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        _time("updated_at"),
        sa.CheckConstraint(
            "reserved >= 0", name=op.f("ck_omnisdk_stock_levels_reserved_not_negative")
        ),
        sa.PrimaryKeyConstraint("sku", "location", name=op.f("pk_omnisdk_stock_levels")),
    )
    op.create_table(
        "omnisdk_customers",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("document", _json(), nullable=False),
        sa.Column("merged_into", sa.String(length=64), nullable=True),
        _time("created_at"),
        _time("updated_at"),
        sa.ForeignKeyConstraint(
            ["merged_into"],
            ["omnisdk_customers.id"],
            name=op.f("fk_omnisdk_customers_merged_into_omnisdk_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_omnisdk_customers")),
    )
    op.create_index(op.f("ix_omnisdk_customers_merged_into"), "omnisdk_customers", ["merged_into"])
    op.create_table(
        "omnisdk_customer_identities",
        sa.Column("match_key", sa.String(length=320), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("source_account_id", sa.Integer(), nullable=True),
        _time("created_at"),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["omnisdk_customers.id"],
            name=op.f("fk_omnisdk_customer_identities_customer_id_omnisdk_customers"),
        ),
        _account_fk("omnisdk_customer_identities", "source_account_id"),
        sa.PrimaryKeyConstraint("match_key", name=op.f("pk_omnisdk_customer_identities")),
    )
    op.create_index(
        op.f("ix_omnisdk_customer_identities_customer_id"),
        "omnisdk_customer_identities",
        ["customer_id"],
    )
    op.create_table(
        "omnisdk_customer_merges",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("from_customer_id", sa.String(length=64), nullable=False),
        sa.Column("into_customer_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("moved_keys", _json(), nullable=False),
        _time("created_at"),
        _time("undone_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["from_customer_id"],
            ["omnisdk_customers.id"],
            name=op.f("fk_omnisdk_customer_merges_from_customer_id_omnisdk_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["into_customer_id"],
            ["omnisdk_customers.id"],
            name=op.f("fk_omnisdk_customer_merges_into_customer_id_omnisdk_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_omnisdk_customer_merges")),
    )
    op.create_index(
        op.f("ix_omnisdk_customer_merges_from_customer_id"),
        "omnisdk_customer_merges",
        ["from_customer_id"],
    )
    op.create_index(
        op.f("ix_omnisdk_customer_merges_into_customer_id"),
        "omnisdk_customer_merges",
        ["into_customer_id"],
    )
    op.create_table(
        "omnisdk_orders",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("payment_status", sa.String(length=24), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=True),
        _time("placed_at"),
        _time("platform_updated_at"),
        sa.Column("document", _json(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        _time("created_at"),
        _time("updated_at"),
        sa.CheckConstraint(
            "status IN ('pending', 'confirmed', 'ready_to_ship', 'shipped', 'delivered', "
            "'completed', 'cancelled', 'returned')",
            name=op.f("ck_omnisdk_orders_status"),
        ),
        sa.CheckConstraint(
            "payment_status IN ('unpaid', 'paid', 'partially_refunded', 'refunded')",
            name=op.f("ck_omnisdk_orders_payment_status"),
        ),
        _account_fk("omnisdk_orders"),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["omnisdk_customers.id"],
            name=op.f("fk_omnisdk_orders_customer_id_omnisdk_customers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_omnisdk_orders")),
        sa.UniqueConstraint(
            "account_id", "external_id", name=op.f("uq_omnisdk_orders_account_id_external_id")
        ),
    )
    op.create_index(
        op.f("ix_omnisdk_orders_account_id_platform_updated_at"),
        "omnisdk_orders",
        ["account_id", "platform_updated_at"],
    )
    op.create_index(op.f("ix_omnisdk_orders_customer_id"), "omnisdk_orders", ["customer_id"])
    op.create_index(op.f("ix_omnisdk_orders_status"), "omnisdk_orders", ["status"])
    op.create_table(
        "omnisdk_order_lines",
        sa.Column("order_id", _big_id(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=255), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["omnisdk_orders.id"],
            name=op.f("fk_omnisdk_order_lines_order_id_omnisdk_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("order_id", "line_no", name=op.f("pk_omnisdk_order_lines")),
    )
    op.create_index(op.f("ix_omnisdk_order_lines_sku"), "omnisdk_order_lines", ["sku"])
    op.create_table(
        "omnisdk_cursors",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("stream", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        _time("updated_at"),
        _account_fk("omnisdk_cursors"),
        sa.PrimaryKeyConstraint("account_id", "stream", name=op.f("pk_omnisdk_cursors")),
    )
    op.create_table(
        "omnisdk_outbox",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=255), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _time("next_attempt_at"),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        _time("lease_expires_at", nullable=True),
        _time("created_at"),
        _time("updated_at"),
        _account_fk("omnisdk_outbox"),
        sa.PrimaryKeyConstraint("account_id", "sku", name=op.f("pk_omnisdk_outbox")),
    )
    op.create_index(
        op.f("ix_omnisdk_outbox_account_id_next_attempt_at"),
        "omnisdk_outbox",
        ["account_id", "next_attempt_at"],
    )
    op.create_table(
        "omnisdk_quarantine",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", _json(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _time("created_at"),
        _time("last_attempt_at"),
        _time("resolved_at", nullable=True),
        _account_fk("omnisdk_quarantine"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_omnisdk_quarantine")),
    )
    op.create_index(
        op.f("ix_omnisdk_quarantine_resolved_at_id"), "omnisdk_quarantine", ["resolved_at", "id"]
    )
    op.create_index(
        "uq_omnisdk_quarantine_open",
        "omnisdk_quarantine",
        ["account_id", "kind", "external_id"],
        unique=True,
        sqlite_where=sa.text("resolved_at IS NULL"),
        postgresql_where=sa.text("resolved_at IS NULL"),
    )
    op.create_table(
        "omnisdk_webhook_deliveries",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.String(length=255), nullable=False),
        _time("received_at"),
        _account_fk("omnisdk_webhook_deliveries"),
        sa.PrimaryKeyConstraint(
            "account_id", "delivery_id", name=op.f("pk_omnisdk_webhook_deliveries")
        ),
    )
    op.create_index(
        op.f("ix_omnisdk_webhook_deliveries_received_at"),
        "omnisdk_webhook_deliveries",
        ["received_at"],
    )


def downgrade() -> None:
    """Drop every table of the store (children first); indexes go with their tables."""
    for table in (
        "omnisdk_webhook_deliveries",
        "omnisdk_quarantine",
        "omnisdk_outbox",
        "omnisdk_cursors",
        "omnisdk_order_lines",
        "omnisdk_orders",
        "omnisdk_customer_merges",
        "omnisdk_customer_identities",
        "omnisdk_customers",
        "omnisdk_stock_levels",
        "omnisdk_stock_ledger",
        "omnisdk_locations",
        "omnisdk_variants",
        "omnisdk_products",
        "omnisdk_bindings",
        "omnisdk_tokens",
        "omnisdk_accounts",
    ):
        op.drop_table(table)
