"""The sales report's figures on each order, and the customer notifications' dedupe key.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04

``omnisdk_orders`` gets ``units``, ``gross_minor``, ``discount_minor``, ``refund_minor`` and
``location`` (see :mod:`omnisdk.store.sales_figures`), filled for the orders already stored
from their documents, and an index on ``placed_at`` (the report's date range).
``omnisdk_notifications`` holds one row per (customer, order, event) notified.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FIGURES = ("units", "gross_minor", "discount_minor", "refund_minor")
_BATCH = 1000


def _backfill() -> None:
    """Compute the figures of the orders stored before this revision, a batch at a time."""
    from omnisdk.models import Order
    from omnisdk.store.sales_figures import sales_figures

    bind = op.get_bind()
    table = sa.table(
        "omnisdk_orders",
        sa.column("id", sa.BigInteger()),
        sa.column("document", sa.JSON()),
        *(sa.column(name, sa.BigInteger()) for name in _FIGURES),
        sa.column("location", sa.String()),
    )
    update = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("order_id"))
        .values({name: sa.bindparam(f"new_{name}") for name in (*_FIGURES, "location")})
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(table.c.id, table.c.document)
            .where(table.c.id > last)
            .order_by(table.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        values = []
        for row in rows:
            figures = sales_figures(Order.model_validate(row.document))
            values.append(
                {
                    "order_id": row.id,
                    **{f"new_{name}": getattr(figures, name) for name in (*_FIGURES, "location")},
                }
            )
        bind.execute(update, values)
        last = rows[-1].id


def upgrade() -> None:
    """Add the figures (filled for existing orders), the index and the notifications table."""
    with op.batch_alter_table("omnisdk_orders") as table:
        table.add_column(
            sa.Column("units", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        for name in _FIGURES[1:]:
            table.add_column(
                sa.Column(name, sa.BigInteger(), nullable=False, server_default=sa.text("0"))
            )
        table.add_column(sa.Column("location", sa.String(length=64), nullable=True))
        table.create_index("ix_omnisdk_orders_placed_at", ["placed_at"])
    _backfill()
    op.create_table(
        "omnisdk_notifications",
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("order_key", sa.String(length=255), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tried_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint(
            "customer_id", "order_key", "event", name="pk_omnisdk_notifications"
        ),
    )
    op.create_index(
        "ix_omnisdk_notifications_delivered_at", "omnisdk_notifications", ["delivered_at"]
    )


def downgrade() -> None:
    """Drop what :func:`upgrade` added."""
    op.drop_index("ix_omnisdk_notifications_delivered_at", table_name="omnisdk_notifications")
    op.drop_table("omnisdk_notifications")
    with op.batch_alter_table("omnisdk_orders") as table:
        table.drop_index("ix_omnisdk_orders_placed_at")
        for name in ("location", *reversed(_FIGURES)):
            table.drop_column(name)
