"""Quota turns: scarce units an account does not sell move on to one that holds none.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

``turn_at`` is when a listing last began or stopped holding units (its confirmed figure went
from 0 to more, or back); under quota allocation a SKU with fewer free units than accounts
gives them in turns to the accounts that do not sell it (``[engine] rotate_after``).
Existing rows that list units start their turn at their last push. ``rotate_at`` is when the
SKU's turns change next, as the last decision of that listing saw it: the pusher queues the
listing then (indexed: one due-query per push pass).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``turn_at`` and ``rotate_at`` (indexed) to ``omnisdk_listings``."""
    with op.batch_alter_table("omnisdk_listings") as table:
        table.add_column(sa.Column("turn_at", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("rotate_at", sa.DateTime(timezone=True), nullable=True))
        table.create_index("ix_omnisdk_listings_rotate_at", ["rotate_at"])
    op.execute(sa.text("UPDATE omnisdk_listings SET turn_at = pushed_at WHERE last_pushed > 0"))


def downgrade() -> None:
    """Drop what :func:`upgrade` added."""
    with op.batch_alter_table("omnisdk_listings") as table:
        table.drop_index("ix_omnisdk_listings_rotate_at")
        table.drop_column("rotate_at")
        table.drop_column("turn_at")
