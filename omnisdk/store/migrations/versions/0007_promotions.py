"""Promotions: the promotions of the master catalog and what each account shows of them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

``omnisdk_promotions`` holds each promotion (from ``[[promotions]]`` or the API) as a JSON
document, with ``ended_at`` once it was ended and the base prices restored.
``omnisdk_promotion_listings`` holds one row per (promotion, account, SKU): ``applied``,
``ended`` or ``failed``, the base and promoted price, and the channel's handle for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )


def _time(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Create ``omnisdk_promotions`` and ``omnisdk_promotion_listings``."""
    op.create_table(
        "omnisdk_promotions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("document", _json(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        _time("ends_at"),
        _time("created_at"),
        _time("updated_at"),
        _time("ended_at", nullable=True),
        sa.CheckConstraint(
            "origin IN ('config', 'api')", name=op.f("ck_omnisdk_promotions_origin")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_omnisdk_promotions")),
    )
    op.create_table(
        "omnisdk_promotion_listings",
        sa.Column("promotion_id", sa.String(length=64), nullable=False),
        sa.Column("account", sa.String(length=255), nullable=False),
        sa.Column("sku", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("base_minor", sa.BigInteger(), nullable=False),
        sa.Column("promoted_minor", sa.BigInteger(), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        _time("updated_at"),
        sa.CheckConstraint(
            "state IN ('applied', 'ended', 'failed')",
            name=op.f("ck_omnisdk_promotion_listings_state"),
        ),
        sa.PrimaryKeyConstraint(
            "promotion_id", "account", "sku", name=op.f("pk_omnisdk_promotion_listings")
        ),
    )


def downgrade() -> None:
    """Drop the tables :func:`upgrade` created."""
    op.drop_table("omnisdk_promotion_listings")
    op.drop_table("omnisdk_promotions")
