"""Partial refunds per order line, and the per-(day, SKU) sales summary.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

``omnisdk_order_lines`` gets ``refund_minor``, the line's share of its order's refund
(:func:`omnisdk.store.sales_figures.line_refunds`); the lines stored before are filled
set-based (their whole total when the order was refunded in full, as the report counted
them; partial refunds were not stored before). ``omnisdk_sales_days`` and
``omnisdk_sales_day_zones`` hold the summary the by-SKU report reads
(:mod:`omnisdk.store.sales_days`), built here for ``Asia/Ho_Chi_Minh`` (the default
``[engine] timezone``) from the stored orders in one ``INSERT ... SELECT``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_ZONE = "Asia/Ho_Chi_Minh"


def upgrade() -> None:
    """Add the line refunds (filled), the summary tables and the default zone's summary."""
    from omnisdk.store.sales_days import build_sales_days

    with op.batch_alter_table("omnisdk_order_lines") as table:
        table.add_column(
            sa.Column("refund_minor", sa.BigInteger(), nullable=False, server_default=sa.text("0"))
        )
    op.execute(
        "UPDATE omnisdk_order_lines SET refund_minor = total_minor WHERE order_id IN "
        "(SELECT id FROM omnisdk_orders WHERE status = 'returned' "
        "OR payment_status = 'refunded')"
    )
    op.create_table(
        "omnisdk_sales_days",
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=255), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        *(
            sa.Column(name, sa.BigInteger(), nullable=False)
            for name in ("orders", "units", "gross_minor", "discount_minor", "refund_minor")
        ),
        sa.PrimaryKeyConstraint("zone", "sku", "currency", "day", name="pk_omnisdk_sales_days"),
    )
    op.create_table(
        "omnisdk_sales_day_zones",
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("zone", name="pk_omnisdk_sales_day_zones"),
    )
    build_sales_days(op.get_bind(), DEFAULT_ZONE, datetime.now(UTC))


def downgrade() -> None:
    """Drop what :func:`upgrade` added."""
    op.drop_table("omnisdk_sales_day_zones")
    op.drop_table("omnisdk_sales_days")
    with op.batch_alter_table("omnisdk_order_lines") as table:
        table.drop_column("refund_minor")
