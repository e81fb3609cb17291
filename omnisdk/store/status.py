"""The store's side of the engine's status: every account's activity, read in one transaction.

:meth:`StatusMixin.activity` answers what someone on call asks of the store (cursors, the
outbox, failed pushes, open quarantine entries, the catalog's size) with a fixed number of
set-based queries, however many accounts there are. ``omnisdk.sync.status`` turns it into the
status report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Row, Select, case, desc, func, select

from omnisdk.store.core import StoreCore
from omnisdk.store.schema import accounts, cursors, listings, outbox, products, quarantine, variants

__all__ = [
    "AccountActivity",
    "CursorMark",
    "FailedPush",
    "OpenQuarantine",
    "RetryingPush",
    "StatusMixin",
    "StoreActivity",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CursorMark:
    """Where one polling stream of an account stands, and when a poll last moved it."""

    stream: str
    value: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class RetryingPush:
    """An outbox row that failed at least once and waits to be tried again."""

    sku: str
    last_error: str | None
    attempts: int
    created_at: datetime
    next_attempt_at: datetime


@dataclass(frozen=True, slots=True)
class FailedPush:
    """A listing whose last push failed for good (it waits for a person)."""

    sku: str
    last_error: str | None
    error_code: str | None
    failed_at: datetime


@dataclass(frozen=True, slots=True)
class OpenQuarantine:
    """An open quarantine entry, without its payload."""

    id: int
    kind: str
    external_id: str | None
    reason: str
    attempts: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AccountActivity:
    """What the store knows of one registered account's work.

    ``retrying``, ``failed`` and ``quarantined`` hold the newest entries (at most the
    ``recent`` asked for, newest first); the counts cover them all.
    """

    name: str
    channel: str
    status: str
    cursors: tuple[CursorMark, ...] = ()
    outbox_depth: int = 0
    outbox_retrying: int = 0
    retrying: tuple[RetryingPush, ...] = ()
    listings: int = 0
    failed_pushes: int = 0
    rebalances: int = 0
    starved: int = 0
    last_push_at: datetime | None = None
    last_listed_at: datetime | None = None
    failed: tuple[FailedPush, ...] = ()
    quarantine_open: int = 0
    quarantined: tuple[OpenQuarantine, ...] = ()


@dataclass(frozen=True, slots=True)
class StoreActivity:
    """Every registered account's activity (by name) and the master catalog's size."""

    accounts: tuple[AccountActivity, ...]
    products: int
    variants: int


def _by_account(rows: list[Row[Any]]) -> dict[str, tuple[Any, ...]]:
    """Rows whose first column is the account name, by that name (one row each)."""
    return {row[0]: tuple(row) for row in rows}


def _newest(rows: list[Row[Any]], limit: int, make: Callable[[Row[Any]], T]) -> dict[str, list[T]]:
    """Rows (first column: account name, newest first) made into records, ``limit`` each."""
    kept: dict[str, list[T]] = {}
    for row in rows:
        found = kept.setdefault(row[0], [])
        if len(found) < limit:
            found.append(make(row))
    return kept


def _joined(table: Any, *columns: Any) -> Select[Any]:
    """``SELECT account name, columns`` from ``table`` joined to its account."""
    return select(accounts.c.name, *columns).join_from(
        table, accounts, table.c.account_id == accounts.c.id
    )


class StatusMixin(StoreCore):
    """The reads behind ``omnisdk status``."""

    def activity(self, *, recent: int = 5, session: Connection | None = None) -> StoreActivity:
        """Every registered account's activity and the catalog's size, in one read-only
        transaction (on SQLite it never takes the write lock). ``recent`` caps the failing
        pushes and quarantine entries kept per account."""
        with self._read(session) as connection:
            registered = connection.execute(
                select(accounts.c.name, accounts.c.channel, accounts.c.status).order_by(
                    accounts.c.name
                )
            ).all()
            marks = self._cursor_marks(connection)
            box = _by_account(self._outbox_counts(connection))
            retrying = _newest(self._retrying_rows(connection), recent, _retrying_push)
            listed = _by_account(self._listing_counts(connection))
            failed = _newest(self._failed_rows(connection), recent, _failed_push)
            quarantined = _by_account(self._quarantine_counts(connection))
            notes = _newest(self._quarantine_rows(connection), recent, _open_quarantine)
            product_count = connection.execute(select(func.count()).select_from(products))
            variant_count = connection.execute(select(func.count()).select_from(variants))
            products_total = int(product_count.scalar_one())
            variants_total = int(variant_count.scalar_one())
        found = []
        for name, channel, status in registered:
            box_row, listing_row = box.get(name), listed.get(name)
            found.append(
                AccountActivity(
                    name=name,
                    channel=channel,
                    status=status,
                    cursors=tuple(marks.get(name, ())),
                    outbox_depth=int(box_row[1]) if box_row else 0,
                    outbox_retrying=int(box_row[2]) if box_row else 0,
                    retrying=tuple(retrying.get(name, ())),
                    listings=int(listing_row[1]) if listing_row else 0,
                    failed_pushes=int(listing_row[2]) if listing_row else 0,
                    last_push_at=listing_row[3] if listing_row else None,
                    last_listed_at=listing_row[4] if listing_row else None,
                    rebalances=int(listing_row[5]) if listing_row else 0,
                    starved=int(listing_row[6]) if listing_row else 0,
                    failed=tuple(failed.get(name, ())),
                    quarantine_open=int(quarantined[name][1]) if name in quarantined else 0,
                    quarantined=tuple(notes.get(name, ())),
                )
            )
        return StoreActivity(
            accounts=tuple(found), products=products_total, variants=variants_total
        )

    @staticmethod
    def _cursor_marks(connection: Connection) -> dict[str, list[CursorMark]]:
        rows = connection.execute(
            _joined(cursors, cursors.c.stream, cursors.c.value, cursors.c.updated_at).order_by(
                accounts.c.name, cursors.c.stream
            )
        ).all()
        marks: dict[str, list[CursorMark]] = {}
        for row in rows:
            marks.setdefault(row.name, []).append(
                CursorMark(stream=row.stream, value=row.value, updated_at=row.updated_at)
            )
        return marks

    @staticmethod
    def _outbox_counts(connection: Connection) -> list[Row[Any]]:
        retried = func.sum(case((outbox.c.attempts > 0, 1), else_=0))
        query = _joined(outbox, func.count(), retried).group_by(accounts.c.name)
        return list(connection.execute(query).all())

    @staticmethod
    def _retrying_rows(connection: Connection) -> list[Row[Any]]:
        query = (
            _joined(
                outbox,
                outbox.c.sku,
                outbox.c.last_error,
                outbox.c.attempts,
                outbox.c.created_at,
                outbox.c.next_attempt_at,
            )
            .where(outbox.c.attempts > 0)
            .order_by(accounts.c.name, desc(outbox.c.updated_at))
        )
        return list(connection.execute(query).all())

    @staticmethod
    def _listing_counts(connection: Connection) -> list[Row[Any]]:
        query = _joined(
            listings,
            func.count(),
            func.count(listings.c.failed_at),
            func.max(listings.c.pushed_at),
            func.max(listings.c.listed_at),
            func.coalesce(func.sum(listings.c.rebalances), 0),
            func.coalesce(func.sum(listings.c.starved), 0),
        ).group_by(accounts.c.name)
        return list(connection.execute(query).all())

    @staticmethod
    def _failed_rows(connection: Connection) -> list[Row[Any]]:
        query = (
            _joined(
                listings,
                listings.c.sku,
                listings.c.last_error,
                listings.c.error_code,
                listings.c.failed_at,
            )
            .where(listings.c.failed_at.is_not(None))
            .order_by(accounts.c.name, desc(listings.c.failed_at))
        )
        return list(connection.execute(query).all())

    @staticmethod
    def _quarantine_counts(connection: Connection) -> list[Row[Any]]:
        query = (
            _joined(quarantine, func.count())
            .where(quarantine.c.resolved_at.is_(None))
            .group_by(accounts.c.name)
        )
        return list(connection.execute(query).all())

    @staticmethod
    def _quarantine_rows(connection: Connection) -> list[Row[Any]]:
        query = (
            _joined(
                quarantine,
                quarantine.c.id,
                quarantine.c.kind,
                quarantine.c.external_id,
                quarantine.c.reason,
                quarantine.c.attempts,
                quarantine.c.created_at,
            )
            .where(quarantine.c.resolved_at.is_(None))
            .order_by(accounts.c.name, desc(quarantine.c.id))
        )
        return list(connection.execute(query).all())


def _retrying_push(row: Row[Any]) -> RetryingPush:
    return RetryingPush(
        sku=row.sku,
        last_error=row.last_error,
        attempts=row.attempts,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
    )


def _failed_push(row: Row[Any]) -> FailedPush:
    return FailedPush(
        sku=row.sku, last_error=row.last_error, error_code=row.error_code, failed_at=row.failed_at
    )


def _open_quarantine(row: Row[Any]) -> OpenQuarantine:
    return OpenQuarantine(
        id=row.id,
        kind=row.kind,
        external_id=row.external_id,
        reason=row.reason,
        attempts=row.attempts,
        created_at=row.created_at,
    )
