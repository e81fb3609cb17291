"""Listing state per (account, SKU): what the engine last pushed and last saw listed.

The engine needs to know, for every SKU a channel account lists, what it told the channel
(``last_pushed``, when), what the channel last showed (``last_listed``, when), how many units
of the account's own orders it has ingested since that push (``seen_since_push``) and how many
units the channel had sold unseen when it pushed (``pending_unseen``). From these it predicts
what the channel holds now, which is the ``expected`` value of a compare-and-swap and the
baseline of a delta. A push that failed for good is recorded here too, so it shows in status
and can be retried by command.

Besides, this module gives the engine two reads it needs in its transactions: the stock an
order holds (its ledger entries summed by ``reference``) and the customer records merged
into a survivor.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Row, and_, bindparam, case, func, or_, select, true, update
from sqlalchemy.engine import Connection

from omnisdk.store.core import StoreCore
from omnisdk.store.records import AccountStatus, BindingKind, OrderVersion
from omnisdk.store.schema import (
    accounts,
    bindings,
    customers,
    listings,
    outbox,
    stock_ledger,
)

__all__ = [
    "Holding",
    "ListingState",
    "ListingsMixin",
    "OrderVersion",
    "PendingPush",
]

_MAX_ERROR = 4000


@dataclass(frozen=True, slots=True)
class ListingState:
    """What the engine knows about one SKU's listing on one account.

    ``last_pushed`` is the quantity the engine last set (None: never pushed);
    ``pending_unseen`` the units the channel had sold, not yet ingested, at that push;
    ``seen_since_push`` the net units of this account's own orders ingested since;
    ``last_listed`` the channel's own figure when last read. ``last_error`` is set while the
    last push failed for good (``error_code`` is the platform's code).

    ``inflight_*`` describe a write sent but not yet confirmed (its quantity, unseen units,
    the ``seen_since_push`` it accounted for, when): found on a claimed SKU, it means a pusher
    died mid-write, and the channel's figure tells whether that write landed.

    ``sold`` counts the net units of the account's own orders ingested, ``sold_recent`` those
    since ``sold_recent_since`` (the current velocity window). ``read_at`` is when the read an
    absolute write started from was made, ``window_hold`` the units the channel may have sold
    between that read and the write (held until the account's orders are known up to the
    write), ``overwritten`` the units of orders placed in that span ingested since (the write
    undid those sales on the channel). ``rebalances`` counts pushes that lowered this listing
    to give units to another account, ``starved`` pushes that listed less than its share
    because the units still sat on another account.
    """

    account: str
    sku: str
    external_id: str | None
    last_pushed: int | None
    pushed_at: datetime | None
    pending_unseen: int
    seen_since_push: int
    last_listed: int | None
    listed_at: datetime | None
    inflight_quantity: int | None
    inflight_pending: int | None
    inflight_seen: int | None
    inflight_at: datetime | None
    last_error: str | None
    error_code: str | None
    failed_at: datetime | None
    updated_at: datetime
    sold: int = 0
    sold_recent: int = 0
    sold_recent_since: datetime | None = None
    read_at: datetime | None = None
    written_at: datetime | None = None
    window_hold: int = 0
    overwritten: int = 0
    rebalances: int = 0
    starved: int = 0


@dataclass(frozen=True, slots=True)
class Holding:
    """What one order holds of a SKU at a location, from its ledger entries.

    ``reserved`` units are held, ``shipped`` units have left (on hand went down by them),
    ``entries`` counts the movements so far.
    """

    reserved: int
    shipped: int
    entries: int


@dataclass(frozen=True, slots=True)
class PendingPush:
    """A stock push waiting in the outbox: how often it was tried and why it failed last.

    ``leased_by`` names the pusher working on it now (None when idle).
    """

    account: str
    sku: str
    generation: int
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    leased_by: str | None
    lease_expires_at: datetime | None
    created_at: datetime


def _add_seen_statement() -> Any:
    """The UPDATE of :meth:`ListingsMixin.add_seen_many`, one row of parameters per SKU."""
    when = listings.c.read_at.type
    units = bindparam("units", type_=Integer)
    now = bindparam("now", type_=when)
    seen, pending = listings.c.seen_since_push, listings.c.pending_unseen
    restart = or_(
        listings.c.sold_recent_since.is_(None),
        listings.c.sold_recent_since < bindparam("recent_after", type_=when),
    )
    in_span = and_(
        listings.c.read_at.is_not(None),
        listings.c.written_at.is_not(None),
        listings.c.read_at <= bindparam("latest", type_=when),
        listings.c.written_at >= bindparam("earliest", type_=when),
    )
    explained = case((pending > seen, pending), else_=seen)
    return (
        update(listings)
        .where(listings.c.account_id == bindparam("a"), listings.c.sku == bindparam("s"))
        .values(
            seen_since_push=seen + units,
            sold=listings.c.sold + units,
            sold_recent=case(
                (and_(units > 0, restart), units),
                (units > 0, listings.c.sold_recent + units),
                else_=listings.c.sold_recent,
            ),
            sold_recent_since=case(
                (and_(units > 0, restart), now), else_=listings.c.sold_recent_since
            ),
            overwritten=listings.c.overwritten
            + case(
                (and_(units > 0, in_span, seen + units > explained), seen + units - explained),
                else_=0,
            ),
            updated_at=now,
        )
    )


_ADD_SEEN = _add_seen_statement()


def _listing_state(row: Row[Any]) -> ListingState:
    return ListingState(
        account=row.account,
        sku=row.sku,
        external_id=row.external_id,
        last_pushed=row.last_pushed,
        pushed_at=row.pushed_at,
        pending_unseen=row.pending_unseen,
        seen_since_push=row.seen_since_push,
        last_listed=row.last_listed,
        listed_at=row.listed_at,
        inflight_quantity=row.inflight_quantity,
        inflight_pending=row.inflight_pending,
        inflight_seen=row.inflight_seen,
        inflight_at=row.inflight_at,
        last_error=row.last_error,
        error_code=row.error_code,
        failed_at=row.failed_at,
        updated_at=row.updated_at,
        sold=row.sold,
        sold_recent=row.sold_recent,
        sold_recent_since=row.sold_recent_since,
        read_at=row.read_at,
        written_at=row.written_at,
        window_hold=row.window_hold,
        overwritten=row.overwritten,
        rebalances=row.rebalances,
        starved=row.starved,
    )


def _listing_query() -> Any:
    return select(listings, accounts.c.name.label("account")).join_from(
        listings, accounts, listings.c.account_id == accounts.c.id
    )


class ListingsMixin(StoreCore):
    """Per (account, SKU) listing state, and the order and customer reads the engine needs."""

    def ensure_listing(
        self,
        account: str,
        sku: str,
        *,
        external_id: str | None = None,
        session: Connection | None = None,
    ) -> bool:
        """Record that ``account`` lists ``sku`` (with the channel's ``external_id`` if known).

        Returns True when the listing was new. A known external id replaces the stored one.
        """
        if not sku:
            raise ValueError("sku is empty")
        with self._tx(session) as connection:
            account_id = self._account_id(connection, account)
            created = self._ensure_listing_row(connection, account_id, sku, external_id)
            if not created and external_id is not None:
                connection.execute(
                    update(listings)
                    .where(listings.c.account_id == account_id, listings.c.sku == sku)
                    .values(external_id=external_id, updated_at=self.now())
                )
            return created

    def _update_listing(
        self, connection: Connection, account_id: int, sku: str, values: dict[str, Any]
    ) -> None:
        """Set ``values`` on the listing row of (account, sku), creating the row first."""
        self._ensure_listing_row(connection, account_id, sku)
        connection.execute(
            update(listings)
            .where(listings.c.account_id == account_id, listings.c.sku == sku)
            .values(**values)
        )

    def _ensure_listing_row(
        self, connection: Connection, account_id: int, sku: str, external_id: str | None = None
    ) -> bool:
        now = self.now()
        inserted = connection.execute(
            self._insert(listings)
            .values(
                account_id=account_id,
                sku=sku,
                external_id=external_id,
                pending_unseen=0,
                seen_since_push=0,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=[listings.c.account_id, listings.c.sku])
            .returning(listings.c.sku)
        ).first()
        return inserted is not None

    def _ensure_listing_rows(
        self, connection: Connection, account_id: int, skus: list[str]
    ) -> None:
        """Create the missing listing rows of ``account_id`` for ``skus`` (one statement)."""
        now = self.now()
        connection.execute(
            self._insert(listings).on_conflict_do_nothing(
                index_elements=[listings.c.account_id, listings.c.sku]
            ),
            [
                {
                    "account_id": account_id,
                    "sku": sku,
                    "pending_unseen": 0,
                    "seen_since_push": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for sku in skus
            ],
        )

    def get_listing(
        self, account: str, sku: str, *, session: Connection | None = None
    ) -> ListingState | None:
        """The listing state of ``sku`` on ``account``, or None when it lists nothing of it."""
        with self._read(session) as connection:
            row = connection.execute(
                _listing_query().where(accounts.c.name == account, listings.c.sku == sku)
            ).one_or_none()
        return None if row is None else _listing_state(row)

    def list_listings(
        self,
        *,
        account: str | None = None,
        sku: str | None = None,
        failed: bool | None = None,
        session: Connection | None = None,
    ) -> list[ListingState]:
        """Listing states by account then SKU; filter by ``account``, ``sku``, ``failed``.

        ``failed=True`` keeps only listings whose last push failed for good, ``False`` the
        others.
        """
        query = _listing_query().order_by(accounts.c.name, listings.c.sku)
        if account is not None:
            query = query.where(accounts.c.name == account)
        if sku is not None:
            query = query.where(listings.c.sku == sku)
        if failed is not None:
            query = query.where(
                listings.c.failed_at.is_not(None) if failed else listings.c.failed_at.is_(None)
            )
        with self._read(session) as connection:
            return [_listing_state(row) for row in connection.execute(query)]

    def listings_of(
        self, account: str, skus: Iterable[str], *, session: Connection | None = None
    ) -> list[ListingState]:
        """The listing states of ``skus`` on ``account`` (those it lists), in a few queries
        of at most 500 SKUs each."""
        wanted = sorted(set(skus))
        found: list[ListingState] = []
        with self._read(session) as connection:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                query = _listing_query().where(
                    accounts.c.name == account, listings.c.sku.in_(chunk)
                )
                found += [_listing_state(row) for row in connection.execute(query)]
        return found

    def listing_accounts(self, sku: str, *, session: Connection | None = None) -> list[str]:
        """Accounts (not archived) that list ``sku``: a listing row or a variant binding."""
        return self.listing_accounts_many([sku], session=session).get(sku, [])

    def listing_accounts_many(
        self, skus: Iterable[str], *, session: Connection | None = None
    ) -> dict[str, list[str]]:
        """:meth:`listing_accounts` of each of ``skus`` (one query), by SKU; names sorted,
        SKUs no account lists left out."""
        wanted = sorted(set(skus))
        if not wanted:
            return {}
        live = accounts.c.status != AccountStatus.ARCHIVED.value
        listed = (
            select(listings.c.sku.label("sku"), accounts.c.name.label("name"))
            .join_from(listings, accounts, listings.c.account_id == accounts.c.id)
            .where(listings.c.sku.in_(wanted), live)
        )
        bound = (
            select(bindings.c.canonical_id.label("sku"), accounts.c.name.label("name"))
            .join_from(bindings, accounts, bindings.c.account_id == accounts.c.id)
            .where(
                bindings.c.kind == BindingKind.VARIANT.value,
                bindings.c.canonical_id.in_(wanted),
                live,
            )
        )
        found: dict[str, set[str]] = {}
        with self._read(session) as connection:
            for sku, name in connection.execute(listed.union(bound)):
                found.setdefault(str(sku), set()).add(str(name))
        return {sku: sorted(names) for sku, names in found.items()}

    def add_seen(self, session: Connection, account: str, sku: str, units: int) -> None:
        """Count ``units`` of ``account``'s own orders for ``sku``: see :meth:`add_seen_many`."""
        self.add_seen_many(session, account, {sku: units})

    def add_seen_many(
        self,
        session: Connection,
        account: str,
        units: Mapping[str, int],
        *,
        recent_after: datetime | None = None,
        placed: Mapping[str, tuple[datetime, datetime]] | None = None,
    ) -> None:
        """Count ``units[sku]`` of ``account``'s own orders as ingested since each push.

        Negative when an order gave units back (cancelled); zero changes nothing. Creates the
        listing rows if needed. Two statements for any number of SKUs, rows in SKU order.
        Sold units also count in ``sold`` and in ``sold_recent``, whose window starts again
        when it began before ``recent_after``. ``placed[sku]`` = (earliest, latest) instants
        the orders may have been placed at: when they may have been placed before the
        listing's last absolute write, the units beyond those the write knew as sold unseen
        were undone on the channel by the write (or by an earlier one), and count in
        ``overwritten``.
        """
        skus = sorted(sku for sku, count in units.items() if count)
        if not skus:
            return
        account_id = self._account_id(session, account)
        now = self.now()
        spans = placed or {}
        self._ensure_listing_rows(session, account_id, skus)
        session.execute(
            _ADD_SEEN,
            [
                {
                    "a": account_id,
                    "s": sku,
                    "units": units[sku],
                    "now": now,
                    "recent_after": recent_after or now,
                    "earliest": spans[sku][0] if sku in spans else None,
                    "latest": spans[sku][1] if sku in spans else None,
                }
                for sku in skus
            ],
        )

    def record_push(
        self,
        account: str,
        sku: str,
        *,
        quantity: int,
        pending_unseen: int,
        seen_accounted: int,
        listed: int | None,
        wrote: bool = True,
        read_at: datetime | None = None,
        window_hold: int = 0,
        rebalanced: bool = False,
        starved: bool = False,
        overwritten_accounted: int = 0,
        session: Connection | None = None,
    ) -> None:
        """A push of ``quantity`` succeeded: it is the new baseline of the listing.

        ``pending_unseen`` are the units the channel had sold unseen at the push;
        ``seen_accounted`` is the ``seen_since_push`` the pushed figure already took into
        account (orders ingested during the push stay counted). ``listed`` is what the channel
        holds now when known. ``wrote`` is False when nothing was sent (the channel showed the
        figure): the hold of an earlier absolute write stays until its orders are known.
        ``read_at`` and ``window_hold`` describe an absolute write (see :class:`ListingState`);
        ``rebalanced`` and ``starved`` add one to those counters. ``overwritten_accounted``
        (when nothing was sent) are the ``overwritten`` units the figure already accounts
        for, having been decided from a read made after their orders were ingested: the read
        shows whether the earlier write undid those sales, so they are no longer held on top
        (units of window orders ingested since still are).
        Clears a recorded failure.
        """
        now = self.now()
        with self._tx(session) as connection:
            account_id = self._account_id(connection, account)
            values: dict[str, Any] = {
                "last_pushed": quantity,
                "pushed_at": now,
                "pending_unseen": pending_unseen,
                "seen_since_push": listings.c.seen_since_push - seen_accounted,
                "inflight_quantity": None,
                "inflight_pending": None,
                "inflight_seen": None,
                "inflight_at": None,
                "last_error": None,
                "error_code": None,
                "failed_at": None,
                "updated_at": now,
                "unseen_settled": False,
            }
            if wrote:
                # A hold not released yet stays: the sales the earlier write may have undone
                # are no more seen now, nor known to the read this write started from.
                values.update(
                    read_at=read_at,
                    written_at=now,
                    window_hold=listings.c.window_hold + window_hold,
                    overwritten=0,
                )
            elif overwritten_accounted > 0:
                left = listings.c.overwritten - overwritten_accounted
                values["overwritten"] = case((left > 0, left), else_=0)
            if rebalanced:
                values["rebalances"] = listings.c.rebalances + 1
            if starved:
                values["starved"] = listings.c.starved + 1
            if listed is not None:
                values.update(last_listed=listed, listed_at=now)
            self._update_listing(connection, account_id, sku, values)

    def release_window_holds(
        self, account: str, before: datetime, *, session: Connection | None = None
    ) -> list[str]:
        """The account's orders are known up to ``before``: release the window holds of the
        absolute writes made earlier, and mark the units still held as sold unseen at pushes
        made earlier (by a listing an absolute write set) as settled (``unseen_settled``: the
        next read drops those no order explains). Returns the SKUs released or settled,
        sorted."""
        held = and_(listings.c.window_hold > 0, listings.c.written_at < before)
        pushed_before = and_(listings.c.pushed_at.is_not(None), listings.c.pushed_at < before)
        unsettled = and_(
            listings.c.read_at.is_not(None),
            listings.c.pending_unseen > listings.c.seen_since_push,
            pushed_before,
            listings.c.unseen_settled.is_(False),
        )
        with self._tx(session) as connection:
            account_id = self._account_id(connection, account)
            released = connection.execute(
                update(listings)
                .where(listings.c.account_id == account_id, or_(held, unsettled))
                .values(
                    window_hold=case((held, 0), else_=listings.c.window_hold),
                    unseen_settled=case((unsettled, true()), else_=listings.c.unseen_settled),
                    updated_at=self.now(),
                )
                .returning(listings.c.sku)
            )
            return sorted(str(sku) for sku in released.scalars())

    def record_intent(
        self,
        account: str,
        writes: list[tuple[str, int, int, int]],
        *,
        session: Connection | None = None,
    ) -> None:
        """Before writing: remember each ``(sku, quantity, pending_unseen, seen_accounted)``.

        :meth:`record_push` clears it once the write is confirmed; a pusher that dies in
        between leaves it, so its successor can tell whether the write landed.
        """
        now = self.now()
        with self._tx(session) as connection:
            account_id = self._account_id(connection, account)
            for sku, quantity, pending, seen in writes:
                self._update_listing(
                    connection,
                    account_id,
                    sku,
                    dict(
                        inflight_quantity=quantity,
                        inflight_pending=pending,
                        inflight_seen=seen,
                        inflight_at=now,
                        updated_at=now,
                    ),
                )

    def withdraw_intent(
        self,
        account: str,
        sku: str,
        previous: ListingState | None,
        *,
        session: Connection | None = None,
    ) -> None:
        """The channel refused the write whose intent was recorded: it did not land.

        The intent ``previous`` held (a write an earlier pusher left unconfirmed, which may
        still have landed) is put back; none when ``previous`` had none.
        """
        now = self.now()
        with self._tx(session) as connection:
            account_id = self._account_id(connection, account)
            connection.execute(
                update(listings)
                .where(listings.c.account_id == account_id, listings.c.sku == sku)
                .values(
                    inflight_quantity=previous.inflight_quantity if previous else None,
                    inflight_pending=previous.inflight_pending if previous else None,
                    inflight_seen=previous.inflight_seen if previous else None,
                    inflight_at=previous.inflight_at if previous else None,
                    updated_at=now,
                )
            )

    def record_listed(
        self,
        account: str,
        sku: str,
        quantity: int,
        *,
        holds_expired_before: datetime | None = None,
        session: Connection | None = None,
    ) -> bool:
        """The channel showed ``quantity`` of ``sku`` just now (read back, or a lost CAS).

        When the last push was made before ``holds_expired_before`` (its units held back as
        sold unseen are past their hold), or its units held so are settled (the account's
        orders are known up to that push, see :meth:`release_window_holds`), the units no
        ingested order explains are dropped: the figure just read is the truth about them.
        Returns True when units were dropped so: the account holds less than before, and the
        other accounts listing the SKU may be given them (the caller queues their pushes).
        """
        now = self.now()
        seen, pending = listings.c.seen_since_push, listings.c.pending_unseen
        settled: Any = listings.c.unseen_settled.is_(True)
        if holds_expired_before is not None:
            settled = or_(
                settled,
                and_(
                    listings.c.pushed_at.is_not(None),
                    listings.c.pushed_at < holds_expired_before,
                ),
            )
        with self._tx(session) as connection:
            account_id = self._account_id(connection, account)
            self._ensure_listing_row(connection, account_id, sku)
            dropped = connection.execute(
                update(listings)
                .where(
                    listings.c.account_id == account_id,
                    listings.c.sku == sku,
                    settled,
                    pending > seen,
                )
                .values(pending_unseen=case((seen > 0, seen), else_=0))
                .returning(listings.c.sku)
            ).first()
            connection.execute(
                update(listings)
                .where(listings.c.account_id == account_id, listings.c.sku == sku)
                .values(last_listed=quantity, listed_at=now, updated_at=now)
            )
            return dropped is not None

    def record_push_failure(
        self,
        account: str,
        sku: str,
        error: str,
        *,
        code: str | None = None,
        session: Connection | None = None,
    ) -> None:
        """The push of ``sku`` to ``account`` failed for good (``error`` must hold no secret)."""
        now = self.now()
        with self._tx(session) as connection:
            account_id = self._account_id(connection, account)
            self._update_listing(
                connection,
                account_id,
                sku,
                dict(
                    last_error=error[:_MAX_ERROR],
                    error_code=code[:64] if code else None,
                    failed_at=now,
                    updated_at=now,
                ),
            )

    def clear_push_failure(
        self, account: str, sku: str, *, session: Connection | None = None
    ) -> bool:
        """Forget the recorded failure of ``sku`` on ``account``; True if there was one."""
        with self._tx(session) as connection:
            account_id = self._account_id(connection, account)
            return (
                connection.execute(
                    update(listings)
                    .where(
                        listings.c.account_id == account_id,
                        listings.c.sku == sku,
                        listings.c.failed_at.is_not(None),
                    )
                    .values(last_error=None, error_code=None, failed_at=None, updated_at=self.now())
                ).rowcount
                == 1
            )

    def order_holdings(
        self, reference: str, *, session: Connection | None = None
    ) -> dict[tuple[str, str], Holding]:
        """What the ledger entries with ``reference`` hold, per (SKU, location).

        Run it in the transaction that will add the next movements (after the order's row
        is locked), so two versions of one order never move its stock at once.
        """
        return self.order_holdings_many([reference], session=session).get(reference, {})

    def order_holdings_many(
        self, references: Iterable[str], *, session: Connection | None = None
    ) -> dict[str, dict[tuple[str, str], Holding]]:
        """:meth:`order_holdings` of each of ``references`` (one query), by reference;
        references without entries are left out."""
        wanted = sorted(set(references))
        if not wanted:
            return {}
        query = (
            select(
                stock_ledger.c.reference,
                stock_ledger.c.sku,
                stock_ledger.c.location,
                func.sum(stock_ledger.c.reserved_delta).label("reserved"),
                func.sum(stock_ledger.c.on_hand_delta).label("on_hand"),
                func.count().label("entries"),
            )
            .where(stock_ledger.c.reference.in_(wanted))
            .group_by(stock_ledger.c.reference, stock_ledger.c.sku, stock_ledger.c.location)
        )
        found: dict[str, dict[tuple[str, str], Holding]] = {}
        with self._read(session) as connection:
            for row in connection.execute(query):
                found.setdefault(row.reference, {})[(row.sku, row.location)] = Holding(
                    reserved=int(row.reserved), shipped=-int(row.on_hand), entries=int(row.entries)
                )
        return found

    def lock_listings(self, session: Connection, skus: list[str]) -> None:
        """Serialise transactions deciding the listings of any of ``skus`` (until they end).

        Quota allocation decides one account's figure from what the others hold; two such
        decisions for one SKU at once could each give away the same units. SQLite's writers
        are serial already.
        """
        self._lock_keys(session, "listing-sku", skus)

    def lock_match_keys(self, session: Connection, keys: list[str]) -> None:
        """Serialise transactions resolving customers with any of ``keys`` (until they end).

        Without it two first orders of one new buyer, ingested at once on PostgreSQL, would
        each create a customer. SQLite's writers are serial already.
        """
        self._lock_keys(session, "customer-key", keys)

    def customer_family(self, customer_id: str, *, session: Connection | None = None) -> list[str]:
        """``customer_id`` and every record merged into it, directly or through others."""
        family = [customer_id]
        with self._read(session) as connection:
            frontier = [customer_id]
            while frontier:
                merged = (
                    connection.execute(
                        select(customers.c.id).where(customers.c.merged_into.in_(frontier))
                    )
                    .scalars()
                    .all()
                )
                frontier = [str(found) for found in merged if found not in family]
                family.extend(frontier)
        return family

    def pending_pushes(
        self,
        *,
        account: str | None = None,
        sku: str | None = None,
        limit: int = 1000,
        session: Connection | None = None,
    ) -> list[PendingPush]:
        """Outbox rows (pushes not done yet), the longest waiting first."""
        query = (
            select(outbox, accounts.c.name.label("account"))
            .join_from(outbox, accounts, outbox.c.account_id == accounts.c.id)
            .order_by(outbox.c.created_at, accounts.c.name, outbox.c.sku)
            .limit(limit)
        )
        if account is not None:
            query = query.where(accounts.c.name == account)
        if sku is not None:
            query = query.where(outbox.c.sku == sku)
        with self._read(session) as connection:
            return [
                PendingPush(
                    account=row.account,
                    sku=row.sku,
                    generation=int(row.generation),
                    attempts=row.attempts,
                    last_error=row.last_error,
                    next_attempt_at=row.next_attempt_at,
                    leased_by=row.lease_owner,
                    lease_expires_at=row.lease_expires_at,
                    created_at=row.created_at,
                )
                for row in connection.execute(query)
            ]
