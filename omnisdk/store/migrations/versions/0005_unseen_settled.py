"""Absolute writes: a listing's units held as sold unseen are settled once its orders are known.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04

``unseen_settled`` is set when a poll that started after the listing's last push has ingested
the account's orders: every order placed before that push is in, so units still held as sold
unseen that no ingested order explains were never sold (an estimate of what an absolute write
undid that did not come true). The next figure read from the channel drops them, as it does
once ``[engine] unseen_hold`` has passed; the next push clears the mark.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``unseen_settled`` (false for existing rows) to ``omnisdk_listings``."""
    with op.batch_alter_table("omnisdk_listings") as table:
        table.add_column(
            sa.Column("unseen_settled", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    """Drop the column :func:`upgrade` added."""
    with op.batch_alter_table("omnisdk_listings") as table:
        table.drop_column("unseen_settled")
