"""The engine's status: every channel account's health, the outbox, quarantine and cursors.

:func:`status` reads the store (one read-only transaction, never the channels) and returns a
:class:`StatusReport`, a pydantic model: ``report.model_dump_json()`` is the ``--json``
output of ``omnisdk status``, and the CLI draws it as tables (``omnisdk/cli/report_render.py``).
It answers the questions of someone on call: is every account authorised, is anything stuck
in the outbox and why, which payloads were set aside, how far behind is each poll.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

from omnisdk.store import AccountActivity
from omnisdk.sync.context import SyncContext

__all__ = [
    "AccountHealth",
    "CursorState",
    "FailingPush",
    "QuarantineNote",
    "StatusReport",
    "StatusTotals",
    "status",
]

UNREGISTERED = "unregistered"
"""The status of a configured account the store has not seen yet."""

RECENT = 5
"""How many failing pushes and quarantine reasons are shown per account."""


class CursorState(BaseModel):
    """Where one polling stream of an account stands.

    ``lag_seconds`` is now minus the cursor when the cursor is a time (None for page tokens);
    ``updated_at`` is when the poll last moved it: the stream's last sync.
    """

    model_config = ConfigDict(extra="forbid")

    stream: str
    value: str
    updated_at: datetime
    lag_seconds: float | None = None


class FailingPush(BaseModel):
    """A stock push that is failing: waiting to retry (``outbox``) or failed for good
    (``listing``: it waits for a person, see ``omnisdk push --retry-failed``)."""

    model_config = ConfigDict(extra="forbid")

    sku: str
    source: str
    error: str
    code: str | None = None
    attempts: int | None = None
    since: datetime | None = None
    next_attempt_at: datetime | None = None


class QuarantineNote(BaseModel):
    """One payload set aside, with the reason (its payload stays in the store)."""

    model_config = ConfigDict(extra="forbid")

    id: int
    kind: str
    external_id: str | None
    reason: str
    attempts: int
    created_at: datetime


class AccountHealth(BaseModel):
    """The state of one channel account.

    ``status`` is ``active``, ``needs_reauth``, ``archived`` or ``unregistered`` (configured,
    not seen by the store yet). ``configured`` is False for an account the store remembers
    but the config no longer lists.
    """

    model_config = ConfigDict(extra="forbid")

    account: str
    channel: str
    status: str
    configured: bool = True
    cursors: list[CursorState] = Field(default_factory=list)
    last_sync_at: datetime | None = None
    """When a poll last moved one of the account's cursors (a poll finding nothing new does
    not move it)."""
    last_push_at: datetime | None = None
    last_listed_at: datetime | None = None
    """When the channel's listed stock was last read (reconciliation, compare-and-swap)."""
    listings: int = 0
    outbox_depth: int = 0
    outbox_retrying: int = 0
    """Pushes in the outbox that failed at least once and wait to retry."""
    failed_pushes: int = 0
    """Pushes that failed for good and wait for a person."""
    rebalances: int = 0
    """Quota allocation: pushes that lowered one of the account's listings to give its units
    to another account (where they sell)."""
    starved: int = 0
    """Quota allocation: pushes that listed less than the account's share because the units
    still sat on another account (which gives them up first: buyers may be refused here
    meanwhile)."""
    failing: list[FailingPush] = Field(default_factory=list)
    """The newest failing pushes (at most :data:`RECENT` of each source)."""
    quarantine_open: int = 0
    quarantine_recent: list[QuarantineNote] = Field(default_factory=list)

    @property
    def max_lag_seconds(self) -> float | None:
        """The largest cursor lag of the account (None when no cursor is a time)."""
        lags = [c.lag_seconds for c in self.cursors if c.lag_seconds is not None]
        return max(lags) if lags else None

    @property
    def healthy(self) -> bool:
        """Active (or not yet registered), nothing failing, nothing quarantined."""
        return (
            self.status in ("active", UNREGISTERED)
            and not self.outbox_retrying
            and not self.failed_pushes
            and not self.quarantine_open
        )


class StatusTotals(BaseModel):
    """Sums over every account, and the size of the master catalog."""

    model_config = ConfigDict(extra="forbid")

    accounts: int = 0
    by_status: dict[str, int] = Field(default_factory=dict)
    outbox_depth: int = 0
    outbox_retrying: int = 0
    failed_pushes: int = 0
    rebalances: int = 0
    starved: int = 0
    quarantine_open: int = 0
    products: int = 0
    variants: int = 0


class StatusReport(BaseModel):
    """The engine's state at ``generated_at``. ``store_url`` never shows a password."""

    model_config = ConfigDict(extra="forbid")

    generated_at: datetime
    store_url: str
    store_dialect: str
    accounts: list[AccountHealth] = Field(default_factory=list)
    totals: StatusTotals = Field(default_factory=StatusTotals)

    @property
    def healthy(self) -> bool:
        """True when every account is healthy."""
        return all(account.healthy for account in self.accounts)

    def account(self, name: str) -> AccountHealth:
        """The health of account ``name``; ``KeyError`` when there is no such account."""
        for account in self.accounts:
            if account.account == name:
                return account
        raise KeyError(name)


def cursor_lag(value: str, now: datetime) -> float | None:
    """Seconds from the cursor ``value`` to ``now`` when the cursor is an ISO 8601 time."""
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return (now - at).total_seconds()


# -- reading the store ------------------------------------------------------------------------


def _health(activity: AccountActivity, now: datetime) -> AccountHealth:
    """The health of one registered account, from what the store knows of its work."""
    marks = [
        CursorState(
            stream=mark.stream,
            value=mark.value,
            updated_at=mark.updated_at,
            lag_seconds=cursor_lag(mark.value, now),
        )
        for mark in activity.cursors
    ]
    failing = [
        FailingPush(
            sku=push.sku,
            source="outbox",
            error=push.last_error or "(no message)",
            attempts=push.attempts,
            since=push.created_at,
            next_attempt_at=push.next_attempt_at,
        )
        for push in activity.retrying
    ] + [
        FailingPush(
            sku=push.sku,
            source="listing",
            error=push.last_error or "(no message)",
            code=push.error_code,
            since=push.failed_at,
        )
        for push in activity.failed
    ]
    return AccountHealth(
        account=activity.name,
        channel=activity.channel,
        status=activity.status,
        cursors=marks,
        last_sync_at=max((c.updated_at for c in marks), default=None),
        last_push_at=activity.last_push_at,
        last_listed_at=activity.last_listed_at,
        listings=activity.listings,
        outbox_depth=activity.outbox_depth,
        outbox_retrying=activity.outbox_retrying,
        failed_pushes=activity.failed_pushes,
        rebalances=activity.rebalances,
        starved=activity.starved,
        failing=failing,
        quarantine_open=activity.quarantine_open,
        quarantine_recent=[
            QuarantineNote(
                id=note.id,
                kind=note.kind,
                external_id=note.external_id,
                reason=note.reason,
                attempts=note.attempts,
                created_at=note.created_at,
            )
            for note in activity.quarantined
        ],
    )


async def status(context: SyncContext) -> StatusReport:
    """The engine's state now, from the store (no channel is called).

    Every configured account is listed (``unregistered`` when the store has not seen it), and
    so is every account the store remembers that the config no longer has.
    """
    now = context.now()
    store = context.store
    activity = await context.run(store.activity, recent=RECENT)
    known = {account.name: _health(account, now) for account in activity.accounts}
    ordered: list[AccountHealth] = []
    for entry in context.config.channels:
        health = known.pop(entry.name, None)
        ordered.append(
            health
            if health is not None
            else AccountHealth(account=entry.name, channel=entry.type, status=UNREGISTERED)
        )
    for health in known.values():
        health.configured = False
        ordered.append(health)

    totals = StatusTotals(
        accounts=len(ordered), products=activity.products, variants=activity.variants
    )
    for health in ordered:
        totals.by_status[health.status] = totals.by_status.get(health.status, 0) + 1
        totals.outbox_depth += health.outbox_depth
        totals.outbox_retrying += health.outbox_retrying
        totals.failed_pushes += health.failed_pushes
        totals.rebalances += health.rebalances
        totals.starved += health.starved
        totals.quarantine_open += health.quarantine_open
    return StatusReport(
        generated_at=now,
        store_url=store.url.render_as_string(hide_password=True),
        store_dialect=store.dialect,
        accounts=ordered,
        totals=totals,
    )
