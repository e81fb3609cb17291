"""Listing state per (account, SKU), and the ledger looked up by reference.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

``omnisdk_listings`` keeps what the engine last pushed to each listing and last saw listed,
so compare-and-swap and delta pushes know their baseline. The ledger gets an index on
``reference``: the engine sums an order's movements by it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Create ``omnisdk_listings`` and index the ledger's ``reference``."""
    op.create_table(
        "omnisdk_listings",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=255), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("last_pushed", sa.Integer(), nullable=True),
        _time("pushed_at", nullable=True),
        sa.Column("pending_unseen", sa.Integer(), nullable=False),
        sa.Column("seen_since_push", sa.Integer(), nullable=False),
        sa.Column("last_listed", sa.Integer(), nullable=True),
        _time("listed_at", nullable=True),
        sa.Column("inflight_quantity", sa.Integer(), nullable=True),
        sa.Column("inflight_pending", sa.Integer(), nullable=True),
        sa.Column("inflight_seen", sa.Integer(), nullable=True),
        _time("inflight_at", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        _time("failed_at", nullable=True),
        _time("created_at"),
        _time("updated_at"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["omnisdk_accounts.id"],
            name=op.f("fk_omnisdk_listings_account_id_omnisdk_accounts"),
        ),
        sa.PrimaryKeyConstraint("account_id", "sku", name=op.f("pk_omnisdk_listings")),
    )
    op.create_index(op.f("ix_omnisdk_listings_sku"), "omnisdk_listings", ["sku"], unique=False)
    op.create_index(
        op.f("ix_omnisdk_stock_ledger_reference"),
        "omnisdk_stock_ledger",
        ["reference"],
        unique=False,
    )


def downgrade() -> None:
    """Drop the ledger's ``reference`` index and ``omnisdk_listings``."""
    op.drop_index(op.f("ix_omnisdk_stock_ledger_reference"), table_name="omnisdk_stock_ledger")
    op.drop_table("omnisdk_listings")
