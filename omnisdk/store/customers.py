"""Customers, their identities (match keys) and reversible merges.

The store keeps the facts; deciding that two records are one person is the engine's job.
A match key (``phone:+84912345678``, ``email:an@example.vn``, ``ref:shopee:main:123``) is
owned by exactly one customer. A merge moves the merged-away customer's keys to the survivor
and records which keys moved, so it can be undone. Orders keep pointing at the record they
were linked to; :meth:`CustomersMixin.resolve_customer_id` follows merges to the survivor.
"""

from __future__ import annotations

import uuid
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, select, update

from omnisdk.errors import StoreError
from omnisdk.models import Customer
from omnisdk.store.core import StoreCore
from omnisdk.store.documents import to_document
from omnisdk.store.records import StoredCustomer
from omnisdk.store.schema import customer_identities, customer_merges, customers

__all__ = ["CustomerMerge", "CustomerSave", "CustomersMixin"]

_MAX_MERGE_CHAIN = 100


@dataclass(frozen=True, slots=True)
class CustomerSave:
    """One customer for :meth:`CustomersMixin.save_customers`: its id, record, and the
    account its match keys were learnt from."""

    customer_id: str
    customer: Customer
    source_account: str | None = None


@dataclass(frozen=True, slots=True)
class CustomerMerge:
    """One merge in force: ``from_id`` was found to be ``into_id``, and why."""

    id: int
    from_id: str
    into_id: str
    reason: str
    moved_keys: tuple[str, ...]
    created_at: datetime


class CustomersMixin(StoreCore):
    """Saving customers, finding them by match key, merging and un-merging them."""

    def save_customer(
        self,
        customer: Customer,
        *,
        customer_id: str | None = None,
        source_account: str | None = None,
        session: Connection | None = None,
    ) -> str:
        """Save ``customer`` (as ``customer_id``, or its own ``id``, or a new id); return the id.

        Every match key of the customer that no one owns yet is attached to it, recording
        ``source_account`` as where it was learnt. Keys owned by another customer are left
        alone: :meth:`find_customers` shows who owns them and :meth:`merge_customers` joins
        two records.
        """
        customer_id = customer_id or customer.id or uuid.uuid4().hex
        document = to_document(customer.model_copy(update={"id": customer_id}))
        now = self.now()
        values = {"display_name": customer.display_name, "document": document, "updated_at": now}
        with self._tx(session) as connection:
            source_id = (
                self._account_id(connection, source_account) if source_account is not None else None
            )
            insert = self._insert(customers).values(id=customer_id, created_at=now, **values)
            connection.execute(
                insert.on_conflict_do_update(index_elements=[customers.c.id], set_=values)
            )
            for key in sorted(customer.match_keys()):
                connection.execute(
                    self._insert(customer_identities)
                    .values(
                        match_key=key,
                        customer_id=customer_id,
                        source_account_id=source_id,
                        created_at=now,
                    )
                    .on_conflict_do_nothing(index_elements=[customer_identities.c.match_key])
                )
        return customer_id

    def get_customer(
        self, customer_id: str, *, follow_merges: bool = True, session: Connection | None = None
    ) -> StoredCustomer | None:
        """The customer ``customer_id`` (by default the survivor it was merged into), or None."""
        with self._read(session) as connection:
            if follow_merges:
                resolved = self._resolve(connection, customer_id)
                if resolved is None:
                    return None
                customer_id = resolved
            row = connection.execute(
                select(customers).where(customers.c.id == customer_id)
            ).one_or_none()
            if row is None:
                return None
            keys = (
                connection.execute(
                    select(customer_identities.c.match_key)
                    .where(customer_identities.c.customer_id == customer_id)
                    .order_by(customer_identities.c.match_key)
                )
                .scalars()
                .all()
            )
        return self._stored_customer(row, tuple(keys))

    def resolve_customer_id(
        self, customer_id: str, *, session: Connection | None = None
    ) -> str | None:
        """The surviving customer ``customer_id`` was merged into (itself if never merged)."""
        with self._read(session) as connection:
            return self._resolve(connection, customer_id)

    def find_customers(
        self, match_keys: Iterable[str], *, session: Connection | None = None
    ) -> dict[str, str]:
        """Which (surviving) customer owns each of ``match_keys``; unknown keys are left out."""
        keys = sorted(set(match_keys))
        if not keys:
            return {}
        with self._read(session) as connection:
            owners = connection.execute(
                select(customer_identities.c.match_key, customer_identities.c.customer_id).where(
                    customer_identities.c.match_key.in_(keys)
                )
            ).all()
            survivors = self._resolve_many(connection, {row.customer_id for row in owners})
        found: dict[str, str] = {}
        for row in owners:
            survivor = survivors.get(row.customer_id)
            if survivor is not None:
                found[row.match_key] = survivor
        return found

    def resolve_customer_ids(
        self, customer_ids: Iterable[str], *, session: Connection | None = None
    ) -> dict[str, str]:
        """:meth:`resolve_customer_id` of each of ``customer_ids``, by id (unknown ids left
        out); one query per step of the longest merge chain."""
        with self._read(session) as connection:
            found = self._resolve_many(connection, set(customer_ids))
        return {cid: survivor for cid, survivor in found.items() if survivor is not None}

    def get_customers(
        self, customer_ids: Iterable[str], *, session: Connection | None = None
    ) -> dict[str, StoredCustomer]:
        """The customers ``customer_ids`` as stored (merges not followed), by id; two
        queries. Unknown ids are left out."""
        wanted = sorted(set(customer_ids))
        if not wanted:
            return {}
        with self._read(session) as connection:
            rows = connection.execute(select(customers).where(customers.c.id.in_(wanted))).all()
            keys: dict[str, list[str]] = {}
            for key, owner in connection.execute(
                select(customer_identities.c.match_key, customer_identities.c.customer_id)
                .where(customer_identities.c.customer_id.in_(wanted))
                .order_by(customer_identities.c.match_key)
            ):
                keys.setdefault(owner, []).append(key)
        return {row.id: self._stored_customer(row, tuple(keys.get(row.id, ()))) for row in rows}

    def save_customers(self, session: Connection, saves: Sequence[CustomerSave]) -> None:
        """:meth:`save_customer` each of ``saves`` in ``session``, in two statements.

        Each save names its id; a new customer's creation time is the store's clock plus
        its position in ``saves`` in microseconds, so customers created together keep their
        order. An id saved more than once keeps its last record. Each match key is attached
        to the first save that carries it, unless someone owns it already.
        """
        if not saves:
            return
        now = self.now()
        rows: dict[str, dict[str, Any]] = {}
        identities: dict[str, dict[str, Any]] = {}
        for position, save in enumerate(saves):
            source_id = (
                self._account_id(session, save.source_account)
                if save.source_account is not None
                else None
            )
            created = rows[save.customer_id]["created_at"] if save.customer_id in rows else None
            rows[save.customer_id] = {
                "id": save.customer_id,
                "display_name": save.customer.display_name,
                "document": to_document(save.customer.model_copy(update={"id": save.customer_id})),
                "created_at": created or now + timedelta(microseconds=position),
                "updated_at": now,
            }
            for key in sorted(save.customer.match_keys()):
                identities.setdefault(
                    key,
                    {
                        "match_key": key,
                        "customer_id": save.customer_id,
                        "source_account_id": source_id,
                        "created_at": now,
                    },
                )
        insert = self._insert(customers)
        session.execute(
            insert.on_conflict_do_update(
                index_elements=[customers.c.id],
                set_={
                    "display_name": insert.excluded.display_name,
                    "document": insert.excluded.document,
                    "updated_at": insert.excluded.updated_at,
                },
            ),
            list(rows.values()),
        )
        if identities:
            session.execute(
                self._insert(customer_identities).on_conflict_do_nothing(
                    index_elements=[customer_identities.c.match_key]
                ),
                [identities[key] for key in sorted(identities)],
            )

    def merge_customers(
        self, from_id: str, into_id: str, reason: str, *, session: Connection | None = None
    ) -> int:
        """Merge customer ``from_id`` into ``into_id``; returns the merge's id (for undo).

        Both must exist and be unmerged. The keys of ``from_id`` move to ``into_id`` and
        ``from_id`` is marked merged; ``reason`` records why (e.g. ``"same phone"``).
        """
        if from_id == into_id:
            raise StoreError(f"cannot merge customer {from_id!r} into itself")
        now = self.now()
        with self._tx(session) as connection:
            rows = {
                row.id: row
                for row in connection.execute(
                    select(customers.c.id, customers.c.merged_into)
                    .where(customers.c.id.in_([from_id, into_id]))
                    .order_by(customers.c.id)
                    .with_for_update()
                )
            }
            for customer_id in (from_id, into_id):
                if customer_id not in rows:
                    raise StoreError(f"cannot merge: customer {customer_id!r} does not exist")
                if rows[customer_id].merged_into is not None:
                    raise StoreError(
                        f"cannot merge: customer {customer_id!r} was already merged into "
                        f"{rows[customer_id].merged_into!r}"
                    )
            moved = (
                connection.execute(
                    update(customer_identities)
                    .where(customer_identities.c.customer_id == from_id)
                    .values(customer_id=into_id)
                    .returning(customer_identities.c.match_key)
                )
                .scalars()
                .all()
            )
            connection.execute(
                update(customers)
                .where(customers.c.id == from_id)
                .values(merged_into=into_id, updated_at=now)
            )
            return int(
                connection.execute(
                    customer_merges.insert()
                    .values(
                        from_customer_id=from_id,
                        into_customer_id=into_id,
                        reason=reason,
                        moved_keys=sorted(moved),
                        created_at=now,
                    )
                    .returning(customer_merges.c.id)
                ).scalar_one()
            )

    def merges_into(
        self, customer_ids: Iterable[str], *, session: Connection | None = None
    ) -> list[CustomerMerge]:
        """The merges in force (not undone) into any of ``customer_ids``, oldest first."""
        wanted = sorted(set(customer_ids))
        if not wanted:
            return []
        with self._read(session) as connection:
            rows = connection.execute(
                select(customer_merges)
                .where(
                    customer_merges.c.into_customer_id.in_(wanted),
                    customer_merges.c.undone_at.is_(None),
                )
                .order_by(customer_merges.c.id)
            ).all()
        return [
            CustomerMerge(
                id=int(row.id),
                from_id=row.from_customer_id,
                into_id=row.into_customer_id,
                reason=row.reason,
                moved_keys=tuple(row.moved_keys),
                created_at=row.created_at,
            )
            for row in rows
        ]

    def undo_merge(self, merge_id: int, *, session: Connection | None = None) -> None:
        """Undo merge ``merge_id``: the merged-away customer and its keys come back.

        Keys the survivor no longer owns are left where they are. A survivor that was since
        merged again must have that later merge undone first.
        """
        now = self.now()
        with self._tx(session) as connection:
            merge = connection.execute(
                select(customer_merges).where(customer_merges.c.id == merge_id).with_for_update()
            ).one_or_none()
            if merge is None:
                raise StoreError(f"there is no customer merge {merge_id}")
            if merge.undone_at is not None:
                raise StoreError(f"customer merge {merge_id} was already undone")
            survivor = connection.execute(
                select(customers.c.merged_into)
                .where(customers.c.id == merge.into_customer_id)
                .with_for_update()
            ).scalar_one()
            if survivor is not None:
                raise StoreError(
                    f"customer {merge.into_customer_id!r} was merged into {survivor!r} after "
                    f"merge {merge_id}: undo that merge first"
                )
            if merge.moved_keys:
                connection.execute(
                    update(customer_identities)
                    .where(
                        customer_identities.c.match_key.in_(merge.moved_keys),
                        customer_identities.c.customer_id == merge.into_customer_id,
                    )
                    .values(customer_id=merge.from_customer_id)
                )
            connection.execute(
                update(customers)
                .where(customers.c.id == merge.from_customer_id)
                .values(merged_into=None, updated_at=now)
            )
            connection.execute(
                update(customer_merges)
                .where(customer_merges.c.id == merge_id)
                .values(undone_at=now)
            )

    def iter_customers(
        self,
        *,
        include_merged: bool = False,
        batch_size: int = 500,
        session: Connection | None = None,
    ) -> Generator[StoredCustomer, None, None]:
        """Customers by id with their match keys, streamed (``batch_size`` rows per fetch).

        Merged-away records are left out unless ``include_merged``.
        """
        query = (
            select(customers, customer_identities.c.match_key)
            .join_from(
                customers,
                customer_identities,
                customer_identities.c.customer_id == customers.c.id,
                isouter=True,
            )
            .order_by(customers.c.id, customer_identities.c.match_key)
        )
        if not include_merged:
            query = query.where(customers.c.merged_into.is_(None))
        current: Row[Any] | None = None
        keys: list[str] = []
        for row in self._stream(query, session=session, batch_size=batch_size):
            if current is not None and row.id != current.id:
                yield self._stored_customer(current, tuple(keys))
                keys = []
            current = row
            if row.match_key is not None:
                keys.append(row.match_key)
        if current is not None:
            yield self._stored_customer(current, tuple(keys))

    @staticmethod
    def _stored_customer(row: Row[Any], keys: tuple[str, ...]) -> StoredCustomer:
        return StoredCustomer(
            id=row.id,
            customer=Customer.model_validate(row.document),
            merged_into=row.merged_into,
            match_keys=keys,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @staticmethod
    def _resolve_many(connection: Connection, customer_ids: set[str]) -> dict[str, str | None]:
        """The survivor of each of ``customer_ids`` (None: no such customer), following
        every merge chain one step per query."""
        current = {cid: cid for cid in customer_ids}
        found: dict[str, str | None] = {}
        for _ in range(_MAX_MERGE_CHAIN):
            if not current:
                return found
            steps = {
                str(row.id): row.merged_into
                for row in connection.execute(
                    select(customers.c.id, customers.c.merged_into).where(
                        customers.c.id.in_(sorted(set(current.values())))
                    )
                )
            }
            following: dict[str, str] = {}
            for start, at in current.items():
                if at not in steps:
                    found[start] = None
                elif steps[at] is None:
                    found[start] = at
                else:
                    following[start] = str(steps[at])
            current = following
        raise StoreError(
            f"customers {sorted(current)[:3]!r} have merge chains longer than "
            f"{_MAX_MERGE_CHAIN}: the merges form a loop"
        )

    @staticmethod
    def _resolve(connection: Connection, customer_id: str) -> str | None:
        current = customer_id
        for _ in range(_MAX_MERGE_CHAIN):
            merged_into = connection.execute(
                select(customers.c.merged_into).where(customers.c.id == current)
            ).one_or_none()
            if merged_into is None:
                return None
            if merged_into[0] is None:
                return current
            current = merged_into[0]
        raise StoreError(
            f"customer {customer_id!r} has a merge chain longer than "
            f"{_MAX_MERGE_CHAIN}: the merges form a loop"
        )
