"""The engine's status: every channel account's health, the outbox, quarantine and cursors.

:func:`status` reads the store (one read-only transaction, never the channels) and returns a
:class:`StatusReport`, a pydantic model: ``report.model_dump_json()`` is the ``--json``
output of ``omnisdk status``, and the CLI draws it as tables (``omnisdk/cli/report_render.py``).
It answers the questions of someone on call: is every account authorised, is anything stuck
in the outbox and why, which payloads were set aside, how far behind is each poll.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, Select, case, desc, func, select
from sqlalchemy.exc import SQLAlchemyError

from omnisdk.errors import StoreError
from omnisdk.store.core import describe_db_error
from omnisdk.store.engine import SQLITE_BEGIN_OPTION
from omnisdk.store.listings import listings
from omnisdk.store.schema import accounts, cursors, outbox, products, quarantine, variants

if TYPE_CHECKING:
    from omnisdk.store import Store
    from omnisdk.sync.engine import Engine

__all__ = [
    "AccountHealth",
    "CursorState",
    "FailingPush",
    "QuarantineNote",
    "StatusReport",
    "StatusTotals",
    "read_only",
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
    """Sums over every account, and the size of the master catalogue."""

    model_config = ConfigDict(extra="forbid")

    accounts: int = 0
    by_status: dict[str, int] = Field(default_factory=dict)
    outbox_depth: int = 0
    outbox_retrying: int = 0
    failed_pushes: int = 0
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


@contextmanager
def read_only(store: Store) -> Iterator[Connection]:
    """A read-only transaction on ``store`` (on SQLite it never takes the write lock).

    Database errors surface as :class:`~omnisdk.errors.StoreError`.
    """
    try:
        with store.engine.connect() as connection:
            if store.dialect == "sqlite":
                connection.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})
            with connection.begin():
                yield connection
    except SQLAlchemyError as exc:
        raise StoreError(f"store read failed: {describe_db_error(exc)}") from exc


def _per_account(connection: Connection, query: Select[Any]) -> dict[str, Any]:
    return {row[0]: row for row in connection.execute(query)}


def _newest(connection: Connection, query: Select[Any], limit: int) -> dict[str, list[Any]]:
    """Rows of ``query`` (first column: account name, newest first) kept ``limit`` per account."""
    kept: dict[str, list[Any]] = {}
    for row in connection.execute(query):
        rows = kept.setdefault(row[0], [])
        if len(rows) < limit:
            rows.append(row)
    return kept


def _collect(store: Store, now: datetime) -> tuple[list[AccountHealth], int, int]:
    """Every registered account's health, and the catalogue's size, in one transaction."""
    name = accounts.c.name
    with read_only(store) as connection:
        registered = connection.execute(
            select(name, accounts.c.channel, accounts.c.status).order_by(name)
        ).all()
        cursor_rows = connection.execute(
            select(name, cursors.c.stream, cursors.c.value, cursors.c.updated_at)
            .join_from(cursors, accounts, cursors.c.account_id == accounts.c.id)
            .order_by(name, cursors.c.stream)
        ).all()
        box = _per_account(
            connection,
            select(name, func.count(), func.sum(case((outbox.c.attempts > 0, 1), else_=0)))
            .join_from(outbox, accounts, outbox.c.account_id == accounts.c.id)
            .group_by(name),
        )
        retrying = _newest(
            connection,
            select(
                name,
                outbox.c.sku,
                outbox.c.last_error,
                outbox.c.attempts,
                outbox.c.created_at,
                outbox.c.next_attempt_at,
            )
            .join_from(outbox, accounts, outbox.c.account_id == accounts.c.id)
            .where(outbox.c.attempts > 0)
            .order_by(name, desc(outbox.c.updated_at)),
            RECENT,
        )
        listed = _per_account(
            connection,
            select(
                name,
                func.count(),
                func.count(listings.c.failed_at),
                func.max(listings.c.pushed_at),
                func.max(listings.c.listed_at),
            )
            .join_from(listings, accounts, listings.c.account_id == accounts.c.id)
            .group_by(name),
        )
        failed = _newest(
            connection,
            select(
                name,
                listings.c.sku,
                listings.c.last_error,
                listings.c.error_code,
                listings.c.failed_at,
            )
            .join_from(listings, accounts, listings.c.account_id == accounts.c.id)
            .where(listings.c.failed_at.is_not(None))
            .order_by(name, desc(listings.c.failed_at)),
            RECENT,
        )
        open_entries = quarantine.c.resolved_at.is_(None)
        quarantined = _per_account(
            connection,
            select(name, func.count())
            .join_from(quarantine, accounts, quarantine.c.account_id == accounts.c.id)
            .where(open_entries)
            .group_by(name),
        )
        reasons = _newest(
            connection,
            select(
                name,
                quarantine.c.id,
                quarantine.c.kind,
                quarantine.c.external_id,
                quarantine.c.reason,
                quarantine.c.attempts,
                quarantine.c.created_at,
            )
            .join_from(quarantine, accounts, quarantine.c.account_id == accounts.c.id)
            .where(open_entries)
            .order_by(name, desc(quarantine.c.id)),
            RECENT,
        )
        product_count = int(
            connection.execute(select(func.count()).select_from(products)).scalar_one()
        )
        variant_count = int(
            connection.execute(select(func.count()).select_from(variants)).scalar_one()
        )

    by_account: dict[str, list[CursorState]] = {}
    for row in cursor_rows:
        by_account.setdefault(row.name, []).append(
            CursorState(
                stream=row.stream,
                value=row.value,
                updated_at=row.updated_at,
                lag_seconds=cursor_lag(row.value, now),
            )
        )
    result = []
    for account, channel, account_status in registered:
        marks = by_account.get(account, [])
        box_row = box.get(account)
        listing_row = listed.get(account)
        failing = [
            FailingPush(
                sku=r.sku,
                source="outbox",
                error=r.last_error or "(no message)",
                attempts=r.attempts,
                since=r.created_at,
                next_attempt_at=r.next_attempt_at,
            )
            for r in retrying.get(account, [])
        ] + [
            FailingPush(
                sku=r.sku,
                source="listing",
                error=r.last_error or "(no message)",
                code=r.error_code,
                since=r.failed_at,
            )
            for r in failed.get(account, [])
        ]
        result.append(
            AccountHealth(
                account=account,
                channel=channel,
                status=account_status,
                cursors=marks,
                last_sync_at=max((c.updated_at for c in marks), default=None),
                last_push_at=listing_row[3] if listing_row else None,
                last_listed_at=listing_row[4] if listing_row else None,
                listings=int(listing_row[1]) if listing_row else 0,
                outbox_depth=int(box_row[1]) if box_row else 0,
                outbox_retrying=int(box_row[2]) if box_row else 0,
                failed_pushes=int(listing_row[2]) if listing_row else 0,
                failing=failing,
                quarantine_open=int(quarantined[account][1]) if account in quarantined else 0,
                quarantine_recent=[
                    QuarantineNote(
                        id=r.id,
                        kind=r.kind,
                        external_id=r.external_id,
                        reason=r.reason,
                        attempts=r.attempts,
                        created_at=r.created_at,
                    )
                    for r in reasons.get(account, [])
                ],
            )
        )
    return result, product_count, variant_count


async def status(engine: Engine) -> StatusReport:
    """The engine's state now, from the store (no channel is called).

    Every configured account is listed (``unregistered`` when the store has not seen it), and
    so is every account the store remembers that the config no longer has.
    """
    now = engine.now()
    store = engine.store
    healths, product_count, variant_count = await engine.db(_collect, store, now)
    known = {health.account: health for health in healths}
    ordered: list[AccountHealth] = []
    for entry in engine.config.channels:
        health = known.pop(entry.name, None)
        ordered.append(
            health
            if health is not None
            else AccountHealth(account=entry.name, channel=entry.type, status=UNREGISTERED)
        )
    for health in known.values():
        health.configured = False
        ordered.append(health)

    totals = StatusTotals(accounts=len(ordered), products=product_count, variants=variant_count)
    for health in ordered:
        totals.by_status[health.status] = totals.by_status.get(health.status, 0) + 1
        totals.outbox_depth += health.outbox_depth
        totals.outbox_retrying += health.outbox_retrying
        totals.failed_pushes += health.failed_pushes
        totals.quarantine_open += health.quarantine_open
    return StatusReport(
        generated_at=now,
        store_url=store.url.render_as_string(hide_password=True),
        store_dialect=store.dialect,
        accounts=ordered,
        totals=totals,
    )
