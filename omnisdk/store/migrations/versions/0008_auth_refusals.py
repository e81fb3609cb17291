"""Accounts: the authorisation refusals in a row, kept in the store.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

``auth_refusals`` counts the requests in a row that an account's platform refused for
authorisation (401/403 or its own auth error), over every process that uses the store: a cron
``omnisdk sync --once``, ``omnisdk run`` and every worker add to the same count, so
``reauth_after`` is reached however the refusals are spread over processes. Any successful
request resets it; ``channels reauthorise`` too. ``auth_refused_at`` is when the last counted
refusal was seen: a request sent before it brings no new evidence (an access token that just
expired refuses every process's calls at once) and is not counted again.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``auth_refusals`` (0 for existing rows) and ``auth_refused_at`` to
    ``omnisdk_accounts``."""
    # Plain ALTER TABLE, not batch mode: SQLite's batch copy would drop a table that every
    # other table references (and ADD/DROP COLUMN need no copy since SQLite 3.35).
    op.add_column(
        "omnisdk_accounts",
        sa.Column("auth_refusals", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column(
        "omnisdk_accounts", sa.Column("auth_refused_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    """Drop the columns :func:`upgrade` added."""
    op.drop_column("omnisdk_accounts", "auth_refused_at")
    op.drop_column("omnisdk_accounts", "auth_refusals")
