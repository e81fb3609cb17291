"""The outbox of pending stock pushes: one row per dirty (account, SKU).

A stock change marks the SKU dirty in the same transaction (``mark_dirty`` bumps a
generation counter). Pushers claim due rows under a lease — ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL so concurrent workers never get the same row, the single SQLite writer elsewhere —
push the *current* value, then ``complete`` with the generation they saw: the row is only
removed if nothing changed during the push, so a change made meanwhile is pushed again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Select, and_, delete, func, or_, select, update

from omnisdk.store.core import StoreCore
from omnisdk.store.records import AccountStatus, OutboxItem
from omnisdk.store.schema import accounts, listings, outbox
from omnisdk.store.types import as_utc

__all__ = ["OutboxMixin"]

_MAX_ERROR = 4000


class OutboxMixin(StoreCore):
    """Marking SKUs dirty per account, and claiming, completing or failing their pushes."""

    def mark_dirty(self, session: Connection, account: str, sku: str) -> int:
        """Mark ``sku`` dirty for ``account`` in ``session``; returns the new generation.

        Marking an already dirty row only bumps its generation (pushes coalesce to the
        latest value); a row waiting to retry after a failure keeps its retry time.
        """
        if not sku:
            raise ValueError("sku is empty")
        now = self.now()
        account_id = self._account_id(session, account)
        insert = self._insert(outbox).values(
            account_id=account_id,
            sku=sku,
            generation=1,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        upsert = insert.on_conflict_do_update(
            index_elements=[outbox.c.account_id, outbox.c.sku],
            set_={"generation": outbox.c.generation + 1, "updated_at": now},
        )
        return int(session.execute(upsert.returning(outbox.c.generation)).scalar_one())

    def mark_dirty_many(self, session: Connection, marks: Iterable[tuple[str, str]]) -> int:
        """:meth:`mark_dirty` each (account, SKU) of ``marks`` in ``session`` (one statement,
        rows in (account, SKU) order); returns how many were marked."""
        wanted = sorted(set(marks))
        if not wanted:
            return 0
        if not all(sku for _, sku in wanted):
            raise ValueError("sku is empty")
        now = self.now()
        rows = [
            {
                "account_id": self._account_id(session, account),
                "sku": sku,
                "generation": 1,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for account, sku in wanted
        ]
        insert = self._insert(outbox)
        session.execute(
            insert.on_conflict_do_update(
                index_elements=[outbox.c.account_id, outbox.c.sku],
                set_={
                    "generation": outbox.c.generation + 1,
                    "updated_at": insert.excluded.updated_at,
                },
            ),
            rows,
        )
        return len(rows)

    def claim_dirty(
        self, account: str, limit: int, owner: str, lease_seconds: float
    ) -> list[OutboxItem]:
        """Lease up to ``limit`` due rows of ``account`` to ``owner`` for ``lease_seconds``.

        A row is due when its retry time has come and it is not leased (or its lease ran
        out: the pusher that held it crashed). Runs in its own short transaction.
        """
        if limit < 1:
            return []
        if not owner:
            raise ValueError("a claim needs an owner name")
        now = self.now()
        expires = now + timedelta(seconds=lease_seconds)
        with self.session() as connection:
            account_id = self._account_id(connection, account)
            candidates = _locked_skus(
                connection,
                select(outbox.c.sku)
                .where(
                    outbox.c.account_id == account_id,
                    outbox.c.next_attempt_at <= now,
                    or_(outbox.c.lease_expires_at.is_(None), outbox.c.lease_expires_at <= now),
                )
                .order_by(outbox.c.next_attempt_at, outbox.c.sku)
                .limit(limit),
            )
            if not candidates:
                return []
            rows = connection.execute(
                update(outbox)
                .where(outbox.c.account_id == account_id, outbox.c.sku.in_(candidates))
                .values(lease_owner=owner, lease_expires_at=expires, updated_at=now)
                .returning(
                    outbox.c.sku, outbox.c.generation, outbox.c.attempts, outbox.c.last_error
                )
            ).all()
        order = {sku: index for index, sku in enumerate(candidates)}
        return [
            OutboxItem(
                account=account,
                sku=row.sku,
                generation=row.generation,
                attempts=row.attempts,
                last_error=row.last_error,
                lease_owner=owner,
                lease_expires_at=expires,
            )
            for row in sorted(rows, key=lambda row: order[row.sku])
        ]

    def renew_leases(
        self, account: str, skus: Iterable[str], owner: str, lease_seconds: float
    ) -> int:
        """Extend ``owner``'s leases of ``skus`` on ``account`` to ``lease_seconds`` from now.

        A pusher still working on its claim calls this so the rows are not taken over while
        it is alive: a lease that runs out means its holder died. Rows completed, failed or
        leased to another pusher meanwhile are left alone. Returns how many were renewed.

        It never waits for a row lock: one statement renews the rows it can lock now, in SKU
        order, and skips rows another transaction holds (PostgreSQL ``FOR UPDATE SKIP
        LOCKED``). A renewal waiting for an intake transaction that marks the same rows in
        another order deadlocked with it under load; a skipped row is renewed on the next
        round, a third of a lease later, and its holder is most often the pusher's own
        transaction completing it.
        """
        wanted = sorted(set(skus))
        if not wanted:
            return 0
        now = self.now()
        with self.session() as connection:
            account_id = self._account_id(connection, account)
            lockable = (
                select(outbox.c.sku)
                .where(
                    outbox.c.account_id == account_id,
                    outbox.c.sku.in_(wanted),
                    outbox.c.lease_owner == owner,
                )
                .order_by(outbox.c.sku)
                .with_for_update(skip_locked=True)
            )
            return int(
                connection.execute(
                    update(outbox)
                    .where(
                        outbox.c.account_id == account_id,
                        outbox.c.sku.in_(lockable.scalar_subquery()),
                        outbox.c.lease_owner == owner,
                    )
                    .values(lease_expires_at=now + timedelta(seconds=lease_seconds), updated_at=now)
                ).rowcount
            )

    def complete(
        self,
        account: str,
        sku: str,
        generation: int,
        *,
        owner: str | None = None,
        session: Connection | None = None,
    ) -> bool:
        """The push of ``generation`` succeeded: remove the row unless it changed since.

        Returns True when the row was removed. When the SKU was marked dirty again during
        the push the row stays; pass ``owner`` so the lease is released at once and the
        newer value is pushed on the next claim (without ``owner`` it waits for the lease
        to expire, because it could belong to another pusher by now).
        """
        with self._tx(session) as connection:
            account_id = self._account_id(connection, account)
            removed = (
                connection.execute(
                    delete(outbox).where(
                        outbox.c.account_id == account_id,
                        outbox.c.sku == sku,
                        outbox.c.generation == generation,
                    )
                ).rowcount
                == 1
            )
            if not removed and owner is not None:
                connection.execute(
                    update(outbox)
                    .where(
                        outbox.c.account_id == account_id,
                        outbox.c.sku == sku,
                        outbox.c.lease_owner == owner,
                    )
                    .values(
                        lease_owner=None,
                        lease_expires_at=None,
                        attempts=0,
                        last_error=None,
                        updated_at=self.now(),
                    )
                )
            return removed

    def fail(
        self,
        account: str,
        sku: str,
        error: str,
        retry_at: datetime,
        *,
        owner: str | None = None,
        session: Connection | None = None,
    ) -> bool:
        """The push failed: record ``error``, count the attempt, retry at ``retry_at``.

        With ``owner`` nothing happens unless that pusher still holds the lease. Returns True
        when the row was updated. ``error`` must not contain secrets.
        """
        with self._tx(session) as connection:
            account_id = self._account_id(connection, account)
            query = update(outbox).where(outbox.c.account_id == account_id, outbox.c.sku == sku)
            if owner is not None:
                query = query.where(outbox.c.lease_owner == owner)
            return (
                connection.execute(
                    query.values(
                        attempts=outbox.c.attempts + 1,
                        last_error=error[:_MAX_ERROR],
                        next_attempt_at=as_utc(retry_at),
                        lease_owner=None,
                        lease_expires_at=None,
                        updated_at=self.now(),
                    )
                ).rowcount
                == 1
            )

    def hasten_retries(
        self, account: str, *, at_most_attempts: int, keep: Iterable[str] = ()
    ) -> int:
        """Make ``account``'s rows waiting out a failure's back-off due now, those that
        failed at most ``at_most_attempts`` times and no pusher holds, but for the SKUs in
        ``keep`` (just refused: their wait may be the platform's ``Retry-After``); returns
        how many.

        For when the channel answers again: a SKU that failed while the platform was failing
        must not wait out a back-off of seconds or minutes after it recovered. Rows a pusher
        holds are skipped (never waited for), in their own short transaction.
        """
        now = self.now()
        with self.session() as connection:
            account_id = self._account_id(connection, account)
            waiting = _locked_skus(
                connection,
                select(outbox.c.sku)
                .where(
                    outbox.c.account_id == account_id,
                    outbox.c.next_attempt_at > now,
                    outbox.c.attempts > 0,
                    outbox.c.attempts <= at_most_attempts,
                    outbox.c.lease_owner.is_(None),
                )
                .order_by(outbox.c.sku),
            )
            kept = set(keep)
            waiting = [sku for sku in waiting if sku not in kept]
            if not waiting:
                return 0
            return connection.execute(
                update(outbox)
                .where(outbox.c.account_id == account_id, outbox.c.sku.in_(waiting))
                .values(next_attempt_at=now)
            ).rowcount

    def outbox_depth(self, account: str | None = None, *, session: Connection | None = None) -> int:
        """How many (account, SKU) pushes are pending: for ``account``, or for all accounts."""
        query = select(func.count()).select_from(outbox)
        with self._read(session) as connection:
            if account is not None:
                query = query.where(outbox.c.account_id == self._account_id(connection, account))
            return int(connection.execute(query).scalar_one())

    def queue_due_rotations(self, account: str) -> list[str]:
        """Queue ``account``'s listings whose quota turns are due (``rotate_at`` passed) and
        clear that time; returns their SKUs, sorted.

        Under quota allocation the units of a SKU scarcer than its accounts go round the
        accounts that do not sell it (``[engine] rotate_after``); nothing else happens when
        nothing sells, so the decision that saw when the turns change next left the time on
        the listing, and the pusher calls this before it claims. One indexed read when
        nothing is due (no write transaction).
        """
        now = self.now()
        due = and_(listings.c.rotate_at.is_not(None), listings.c.rotate_at <= now)
        with self._read(None) as connection:
            account_id = self._account_id(connection, account)
            found = connection.execute(
                select(listings.c.sku).where(listings.c.account_id == account_id, due).limit(1)
            ).first()
        if found is None:
            return []
        with self.session() as connection:
            skus = sorted(
                str(sku)
                for sku in connection.execute(
                    update(listings)
                    .where(listings.c.account_id == account_id, due)
                    .values(rotate_at=None)
                    .returning(listings.c.sku)
                ).scalars()
            )
            self.mark_dirty_many(connection, [(account, sku) for sku in skus])
        return skus

    def accounts_with_due_pushes(self, *, session: Connection | None = None) -> list[str]:
        """The active accounts that have outbox rows a pusher could claim now (due and not
        leased), or listings whose quota turns are due (:meth:`queue_due_rotations`), by
        name: whom a dispatcher sends a pusher to (an account that needs re-authorisation is
        not sent one). One statement, whatever the number of accounts."""
        now = self.now()
        query = (
            select(accounts.c.name)
            .where(
                accounts.c.status == AccountStatus.ACTIVE.value,
                or_(
                    select(outbox.c.sku)
                    .where(
                        outbox.c.account_id == accounts.c.id,
                        outbox.c.next_attempt_at <= now,
                        or_(
                            outbox.c.lease_expires_at.is_(None), outbox.c.lease_expires_at <= now
                        ),
                    )
                    .exists(),
                    select(listings.c.sku)
                    .where(
                        listings.c.account_id == accounts.c.id,
                        listings.c.rotate_at.is_not(None),
                        listings.c.rotate_at <= now,
                    )
                    .exists(),
                ),
            )
            .order_by(accounts.c.name)
        )
        with self._read(session) as connection:
            return [str(name) for name in connection.execute(query).scalars()]


def _locked_skus(connection: Connection, query: Select[Any]) -> list[str]:
    """The SKUs ``query`` selects, their rows locked for this transaction; rows another
    transaction holds are skipped, never waited for (PostgreSQL; SQLite has one writer)."""
    rows = connection.execute(query.with_for_update(skip_locked=True)).scalars().all()
    return [str(sku) for sku in rows]
