"""What every intake poll shares: stream names, cursors, the pass over a stream, its stats.

Polling keeps a cursor per (account, stream): the newest ``updated_at`` seen, re-read with an
overlap (``[engine] order_overlap``) because platforms index late. The cursor only moves once
a whole pass has been ingested; a record that cannot be ingested is quarantined with the
reason and the pass goes on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from omnisdk._redact import loggable
from omnisdk.errors import MappingError, OmnisdkError
from omnisdk.models import Customer, Order, Product
from omnisdk.store.types import as_utc
from omnisdk.sync.context import SyncContext

__all__ = [
    "CUSTOMERS_STREAM",
    "ORDERS_STREAM",
    "PRODUCTS_STREAM",
    "StreamPass",
    "SyncStats",
    "check_account",
    "finish_pass",
    "later",
    "quarantine",
    "read_cursor",
    "start_pass",
]

logger = logging.getLogger("omnisdk.sync.intake")

ORDERS_STREAM = "orders"
"""The cursor stream name of order polling."""
CUSTOMERS_STREAM = "customers"
"""The cursor stream name of customer polling."""
PRODUCTS_STREAM = "products"
"""The cursor stream name of listing (product) polling."""
_UNKNOWN_SKUS_KEPT = 100


@dataclass(frozen=True)
class SyncStats:
    """What one poll of one account's stream did.

    Orders: ``seen`` orders were read; ``new`` were stored for the first time, ``updated``
    changed a stored order, ``unchanged`` were known already (or older than the stored
    version). Customers: ``new`` records became new customers, ``updated`` added to a known
    one, ``merged`` counts the merges they revealed. Products: ``seen`` listings were read;
    ``new`` listed variants were bound to the account, ``unchanged`` were bound already,
    ``unknown`` have a SKU the master catalog does not have (``unknown_skus``, the first
    hundred). ``quarantined`` could not be ingested (kept with the reason), including records
    the channel could not map. ``cursor`` is where the next poll starts from (before the
    overlap); ``stopped`` is True when the account lost its authorisation. ``released``
    (orders) counts the SKUs whose absolute-write holds the poll ended (the account's orders
    are known up to those writes), which queued the listings of those SKUs.
    """

    account: str
    stream: str
    seen: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    cursor: datetime | None = None
    stopped: bool = False
    merged: int = 0
    unknown: int = 0
    unknown_skus: tuple[str, ...] = ()
    released: int = 0

    def counts(self) -> dict[str, int]:
        """The counters, as the ``omnisdk_sync_finished`` hook receives them."""
        counts = {
            "seen": self.seen,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "quarantined": self.quarantined,
        }
        if self.stream == CUSTOMERS_STREAM:
            counts["merged"] = self.merged
        elif self.stream == PRODUCTS_STREAM:
            counts["unknown"] = self.unknown
        return counts


def read_cursor(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return as_utc(datetime.fromisoformat(value))
    except ValueError:
        logger.warning("unreadable cursor %r: starting from the beginning", value)
        return None


async def quarantine(
    context: SyncContext,
    account: str,
    kind: str,
    external_id: str | None,
    reason: str,
    payload: Any,
) -> None:
    """Keep a payload the engine could not process, with the reason (never raises)."""
    try:
        await context.run(context.store.quarantine, account, kind, external_id, reason, payload)
    except OmnisdkError:
        logger.exception("%s: could not quarantine %s %s (%s)", account, kind, external_id, reason)


RECORD_ERRORS: tuple[type[Exception], ...] = (OmnisdkError, ValueError, ArithmeticError)
"""What mapping or storing one record may raise and quarantines that record, not the pass.

``ArithmeticError`` is here because a figure out of range surfaces as
``decimal.InvalidOperation`` or as the driver's ``OverflowError`` (SQLite's "int too large"),
and it must not stop an account's stream with the cursor stuck before it.
"""


async def quarantine_record(
    context: SyncContext,
    account: str,
    kind: str,
    external_id: str | None,
    record: Order | Customer | Product,
    error: BaseException,
) -> None:
    """Log and keep one mapped record the engine could not store, with why: its raw payload,
    or its canonical form when it carries none (never raises)."""
    logger.warning("%s: %s %s quarantined: %s", account, kind, loggable(external_id or ""), error)
    try:
        payload = record.raw if record.raw is not None else record.model_dump(mode="json")
    except RECORD_ERRORS as exc:  # built past the models' checks: its computed totals fail
        ref = record.channel_ref
        payload = {
            "channel_ref": ref.model_dump(mode="json") if ref is not None else None,
            "unserialisable": str(exc),
        }
    await quarantine(context, account, kind, external_id, str(error), payload)


def later(newest: datetime | None, stamp: datetime) -> datetime:
    stamp = as_utc(stamp)
    return stamp if newest is None or stamp > newest else newest


@dataclass
class StreamPass:
    """One pass over a customer or listing stream: the counters and the cursor it reached."""

    account: str
    stream: str
    cursor: datetime | None
    rejected_before: int
    newest: datetime | None = None
    seen: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    merged: int = 0
    unknown_skus: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.newest = self.cursor

    def saw(self, stamp: datetime | None) -> None:
        """A record changed at ``stamp`` was read (a record without a time leaves the cursor)."""
        if stamp is not None:
            self.newest = later(self.newest, stamp)

    def stats(self, context: SyncContext, *, stopped: bool = False) -> SyncStats:
        """The pass's :class:`SyncStats` (the channel's rejected records counted in)."""
        kind = _RECORD_KIND[self.stream]
        rejected = context.rejections(self.account, kind) - self.rejected_before
        unknown = self.unknown_skus
        return SyncStats(
            account=self.account,
            stream=self.stream,
            seen=self.seen + rejected,
            new=self.new,
            updated=self.updated,
            unchanged=self.unchanged,
            quarantined=self.quarantined + rejected,
            cursor=self.cursor if stopped else self.newest,
            stopped=stopped,
            merged=self.merged,
            unknown=len(unknown),
            unknown_skus=tuple(unknown[:_UNKNOWN_SKUS_KEPT]),
        )


_RECORD_KIND = {CUSTOMERS_STREAM: "customer", PRODUCTS_STREAM: "product"}


async def start_pass(
    context: SyncContext, account: str, stream: str
) -> tuple[StreamPass, datetime | None]:
    """The pass of ``stream`` and where it reads from (None: everything, the first time)."""
    cursor = read_cursor(await context.run(context.store.get_cursor, account, stream))
    since = cursor - context.config.engine.order_overlap if cursor is not None else None
    rejected = context.rejections(account, _RECORD_KIND[stream])
    return StreamPass(account, stream, cursor, rejected), since


async def finish_pass(
    context: SyncContext, done: StreamPass, *, stopped: bool = False
) -> SyncStats:
    """Move the cursor (a whole pass only), fire ``omnisdk_sync_finished``, return the stats."""
    if not stopped and done.newest is not None and done.newest != done.cursor:
        await context.run(
            context.store.set_cursor, done.account, done.stream, done.newest.isoformat()
        )
    stats = done.stats(context, stopped=stopped)
    context.fire(
        "omnisdk_sync_finished", account=done.account, stream=done.stream, stats=stats.counts()
    )
    return stats


def check_account(record: Customer | Product, account: str, kind: str, label: str) -> None:
    ref = record.channel_ref
    if ref is not None and ref.account != account:
        raise MappingError(
            f"the {kind} says it is from account {ref.account!r}",
            channel=label,
            kind=kind,
            external_id=ref.external_id,
        )
