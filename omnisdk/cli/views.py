"""The models that engine commands print with ``--json`` (beyond the engine's own results).

Kept apart from the command modules so that building the CLI does not import the store.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from omnisdk.store import QuarantineRow
from omnisdk.sync.stock import StockView

__all__ = ["QuarantineEntry", "StockReport"]


class StockReport(StockView):
    """``omnisdk stock show``: the engine's view of a SKU plus what each channel lists now.

    ``listed_now`` is read from each channel that can report stock at the time of the command
    (None when the channel does not list the SKU); ``listed_errors`` says why a channel could
    not be read.
    """

    listed_now: dict[str, int | None] = Field(default_factory=dict)
    listed_errors: dict[str, str] = Field(default_factory=dict)


class QuarantineEntry(BaseModel):
    """One quarantined payload, as ``omnisdk quarantine list`` shows it.

    ``payload`` (the raw platform data) is only filled with ``--payload``.
    """

    model_config = ConfigDict(extra="forbid")

    id: int
    account: str
    kind: str
    external_id: str | None
    reason: str
    attempts: int
    created_at: datetime
    last_attempt_at: datetime
    resolved_at: datetime | None = None
    payload: Any = None

    @classmethod
    def of(cls, row: QuarantineRow, *, payload: bool = False) -> QuarantineEntry:
        """The entry for a stored quarantine row."""
        return cls(
            id=row.id,
            account=row.account,
            kind=row.kind,
            external_id=row.external_id,
            reason=row.reason,
            attempts=row.attempts,
            created_at=row.created_at,
            last_attempt_at=row.last_attempt_at,
            resolved_at=row.resolved_at,
            payload=row.payload if payload else None,
        )
