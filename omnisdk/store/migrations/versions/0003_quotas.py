"""What quota allocation needs on each listing: sales counters and the absolute-write hold.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03

``sold`` counts the net units of the account's own orders ingested, ``sold_recent`` those of
the current velocity window (which started at ``sold_recent_since``): the quota planner sends
scarce units to where they sell. ``read_at``, ``written_at`` and ``window_hold`` belong to absolute
writes: the read the write started from, the write, and the units the channel may have sold
between the two, held in the account's quota until its orders are known up to the write;
``overwritten`` the units of orders placed in that span ingested since (the write undid them
on the channel, so they stay in what the account holds until its next write).
``rebalances`` and ``starved`` count quota moves away from the listing and pushes held below
the listing's share because the units still sat on another account.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COUNTERS = ("sold", "sold_recent", "window_hold", "overwritten", "rebalances", "starved")
_TIMES = ("sold_recent_since", "read_at", "written_at")


def upgrade() -> None:
    """Add the counters (0 for existing rows) and the two times to ``omnisdk_listings``."""
    with op.batch_alter_table("omnisdk_listings") as table:
        for name in _COUNTERS:
            table.add_column(
                sa.Column(name, sa.Integer(), nullable=False, server_default=sa.text("0"))
            )
        for name in _TIMES:
            table.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop the columns :func:`upgrade` added."""
    with op.batch_alter_table("omnisdk_listings") as table:
        for name in (*_TIMES, *reversed(_COUNTERS)):
            table.drop_column(name)
