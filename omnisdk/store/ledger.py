"""The stock ledger: every movement applied exactly once, and the levels it sums to.

A movement is an entry with a unique idempotency key plus an atomic increment of the
(SKU, location) level, in the caller's transaction. Replaying a key changes nothing, and two
workers racing with the same key apply it once: the loser's ``INSERT ... ON CONFLICT DO
NOTHING`` waits for the winner's transaction and then finds the key taken.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from omnisdk.errors import StoreError
from omnisdk.models import StockLevel
from omnisdk.store.core import StoreCore
from omnisdk.store.records import LedgerEntry, MovementKind, StockMovement
from omnisdk.store.schema import stock_ledger, stock_levels

__all__ = ["LedgerMixin", "OversoldLevel"]


@dataclass(frozen=True, slots=True)
class OversoldLevel:
    """A (SKU, location) whose reservations exceed what is on hand, and who holds them.

    ``holders`` are (ledger reference, units reserved) of the references still holding
    units there, the earliest first.
    """

    sku: str
    location: str
    on_hand: int
    reserved: int
    holders: tuple[tuple[str, int], ...]


_MOVE_LEVEL = (
    update(stock_levels)
    .where(
        stock_levels.c.sku == bindparam("l_sku"),
        stock_levels.c.location == bindparam("l_location"),
    )
    .values(
        on_hand=stock_levels.c.on_hand + bindparam("d_on_hand"),
        reserved=stock_levels.c.reserved + bindparam("d_reserved"),
        updated_at=bindparam("now"),
    )
)


def _check_int(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    return value


def _ledger_entry(row: Row[Any]) -> LedgerEntry:
    return LedgerEntry(
        id=row.id,
        key=row.idempotency_key,
        sku=row.sku,
        location=row.location,
        kind=MovementKind(row.kind),
        on_hand_delta=row.on_hand_delta,
        reserved_delta=row.reserved_delta,
        reference=row.reference,
        created_at=row.created_at,
    )


class LedgerMixin(StoreCore):
    """Stock movements and the on hand / reserved levels they produce."""

    def apply_stock_movement(
        self,
        session: Connection,
        *,
        key: str,
        sku: str,
        location: str,
        kind: MovementKind | str,
        on_hand_delta: int = 0,
        reserved_delta: int = 0,
        reference: str | None = None,
    ) -> bool:
        """Apply one movement in ``session``; False (and no change) if ``key`` was applied.

        ``key`` identifies the movement for ever (e.g. ``"order:shopee:main:2407:reserve"``);
        the entry and the level change are written together. A movement that would make
        ``reserved`` negative raises :class:`StoreError` and changes nothing (``on_hand``
        may go negative: an oversell is a fact to record, not to hide).
        """
        kind = MovementKind(kind)
        _check_int("on_hand_delta", on_hand_delta)
        _check_int("reserved_delta", reserved_delta)
        if not key or not sku or not location:
            raise ValueError("a stock movement needs a key, a sku and a location")
        now = self.now()
        try:
            with session.begin_nested():
                entry_id = session.execute(
                    self._insert(stock_ledger)
                    .values(
                        idempotency_key=key,
                        sku=sku,
                        location=location,
                        kind=kind.value,
                        on_hand_delta=on_hand_delta,
                        reserved_delta=reserved_delta,
                        reference=reference,
                        created_at=now,
                    )
                    .on_conflict_do_nothing(index_elements=[stock_ledger.c.idempotency_key])
                    .returning(stock_ledger.c.id)
                ).scalar_one_or_none()
                if entry_id is None:
                    return False
                # Not one upsert: CHECK constraints judge the row an upsert proposes to insert
                # (the bare deltas), so a commit (-2 reserved) would always fail them.
                self._ensure_level_row(session, sku, location)
                session.execute(
                    update(stock_levels)
                    .where(stock_levels.c.sku == sku, stock_levels.c.location == location)
                    .values(
                        on_hand=stock_levels.c.on_hand + on_hand_delta,
                        reserved=stock_levels.c.reserved + reserved_delta,
                        updated_at=now,
                    )
                )
        except IntegrityError:
            raise StoreError(
                f"stock movement {key!r} ({kind.value} {sku} at {location}, reserved "
                f"{reserved_delta:+d}) would make the reserved quantity negative"
            ) from None
        return True

    def apply_stock_movements(
        self, session: Connection, movements: Sequence[StockMovement]
    ) -> list[bool]:
        """Apply ``movements`` in ``session``, in few statements; one flag per movement, False
        for a key applied before (or earlier in the list).

        The entries are inserted together; the levels change by the summed deltas of the
        applied entries, level by level in (SKU, location) order. When a level's
        ``reserved`` would go negative :class:`StoreError` is raised: the caller's
        transaction must then be rolled back (nothing is undone here).
        """
        rows: dict[str, dict[str, Any]] = {}
        now = self.now()
        for move in movements:
            _check_int("on_hand_delta", move.on_hand_delta)
            _check_int("reserved_delta", move.reserved_delta)
            if not move.key or not move.sku or not move.location:
                raise ValueError("a stock movement needs a key, a sku and a location")
            rows.setdefault(
                move.key,
                {
                    "idempotency_key": move.key,
                    "sku": move.sku,
                    "location": move.location,
                    "kind": MovementKind(move.kind).value,
                    "on_hand_delta": move.on_hand_delta,
                    "reserved_delta": move.reserved_delta,
                    "reference": move.reference,
                    "created_at": now,
                },
            )
        if not rows:
            return []
        inserted = set(
            session.execute(
                self._insert(stock_ledger)
                .on_conflict_do_nothing(index_elements=[stock_ledger.c.idempotency_key])
                .returning(stock_ledger.c.idempotency_key),
                list(rows.values()),
            ).scalars()
        )
        deltas: dict[tuple[str, str], list[int]] = {}
        for key in inserted:
            row = rows[key]
            delta = deltas.setdefault((row["sku"], row["location"]), [0, 0])
            delta[0] += row["on_hand_delta"]
            delta[1] += row["reserved_delta"]
        levels = sorted(deltas)
        if levels:
            session.execute(
                self._insert(stock_levels).on_conflict_do_nothing(
                    index_elements=[stock_levels.c.sku, stock_levels.c.location]
                ),
                [
                    {"sku": sku, "location": loc, "on_hand": 0, "reserved": 0, "updated_at": now}
                    for sku, loc in levels
                ],
            )
            try:
                session.execute(
                    _MOVE_LEVEL,
                    [
                        {
                            "l_sku": sku,
                            "l_location": loc,
                            "d_on_hand": deltas[(sku, loc)][0],
                            "d_reserved": deltas[(sku, loc)][1],
                            "now": now,
                        }
                        for sku, loc in levels
                    ],
                )
            except IntegrityError:
                raise StoreError(
                    "stock movements would make the reserved quantity negative at "
                    + ", ".join(
                        f"{sku} at {loc}" for sku, loc in levels if deltas[(sku, loc)][1] < 0
                    )
                ) from None
        applied: set[str] = set()
        flags = []
        for move in movements:
            first = move.key in inserted and move.key not in applied
            applied.add(move.key)
            flags.append(first)
        return flags

    def record_count(
        self,
        session: Connection,
        *,
        key: str,
        sku: str,
        location: str,
        counted: int,
        reference: str | None = None,
    ) -> bool:
        """Record a stocktake: set on hand at ``location`` to ``counted`` via a ``count`` entry.

        The level row is locked while the difference is computed, so movements racing with
        the count are neither lost nor counted twice. False if ``key`` was already applied.
        """
        _check_int("counted", counted)
        already = session.execute(
            select(stock_ledger.c.id).where(stock_ledger.c.idempotency_key == key)
        ).first()
        if already is not None:
            return False
        # Create the row first: FOR UPDATE cannot lock a row that does not exist yet.
        self._ensure_level_row(session, sku, location)
        on_hand = session.execute(
            select(stock_levels.c.on_hand)
            .where(stock_levels.c.sku == sku, stock_levels.c.location == location)
            .with_for_update()
        ).scalar_one()
        return self.apply_stock_movement(
            session,
            key=key,
            sku=sku,
            location=location,
            kind=MovementKind.COUNT,
            on_hand_delta=counted - int(on_hand),
            reference=reference,
        )

    def counted_skus(
        self, skus: Iterable[str], *, session: Connection | None = None
    ) -> set[str]:
        """Those of ``skus`` whose stock was ever recorded by hand: a ``count`` or an
        ``adjust`` entry at any location. Orders alone do not make a SKU counted (they say
        what was sold, not what there is)."""
        wanted = sorted(set(skus))
        if not wanted:
            return set()
        manual = (MovementKind.COUNT.value, MovementKind.ADJUST.value)
        found: set[str] = set()
        with self._read(session) as connection:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                found.update(
                    connection.execute(
                        select(stock_ledger.c.sku)
                        .where(stock_ledger.c.sku.in_(chunk), stock_ledger.c.kind.in_(manual))
                        .distinct()
                    ).scalars()
                )
        return found

    def ledger_key_applied(self, session: Connection, key: str) -> bool:
        """Whether a movement with idempotency key ``key`` is in the ledger."""
        return (
            session.execute(
                select(stock_ledger.c.id).where(stock_ledger.c.idempotency_key == key)
            ).first()
            is not None
        )

    def lock_stock_level(self, session: Connection, sku: str, location: str) -> StockLevel:
        """On hand and reserved of ``sku`` at ``location``, the level row locked in ``session``
        until it ends (created at zero first), so a check made on it holds for a movement
        applied in the same transaction."""
        self._ensure_level_row(session, sku, location)
        row = session.execute(
            select(stock_levels.c.on_hand, stock_levels.c.reserved)
            .where(stock_levels.c.sku == sku, stock_levels.c.location == location)
            .with_for_update()
        ).one()
        return StockLevel(sku=sku, location=location, on_hand=row.on_hand, reserved=row.reserved)

    def _ensure_level_row(self, session: Connection, sku: str, location: str) -> None:
        session.execute(
            self._insert(stock_levels)
            .values(sku=sku, location=location, on_hand=0, reserved=0, updated_at=self.now())
            .on_conflict_do_nothing(index_elements=[stock_levels.c.sku, stock_levels.c.location])
        )

    def stock_level(
        self, sku: str, location: str, *, session: Connection | None = None
    ) -> StockLevel:
        """On hand and reserved of ``sku`` at ``location`` (zero when nothing was recorded)."""
        with self._read(session) as connection:
            row = connection.execute(
                select(stock_levels.c.on_hand, stock_levels.c.reserved).where(
                    stock_levels.c.sku == sku, stock_levels.c.location == location
                )
            ).one_or_none()
        if row is None:
            return StockLevel(sku=sku, location=location, on_hand=0, reserved=0)
        return StockLevel(sku=sku, location=location, on_hand=row.on_hand, reserved=row.reserved)

    def stock_levels_at(
        self, places: Iterable[tuple[str, str]], *, session: Connection | None = None
    ) -> dict[tuple[str, str], StockLevel]:
        """:meth:`stock_level` of each (SKU, location) of ``places`` (one query), by pair."""
        wanted = sorted(set(places))
        if not wanted:
            return {}
        with self._read(session) as connection:
            rows = connection.execute(
                select(
                    stock_levels.c.sku,
                    stock_levels.c.location,
                    stock_levels.c.on_hand,
                    stock_levels.c.reserved,
                ).where(tuple_(stock_levels.c.sku, stock_levels.c.location).in_(wanted))
            ).all()
        found = {
            (row.sku, row.location): StockLevel(
                sku=row.sku, location=row.location, on_hand=row.on_hand, reserved=row.reserved
            )
            for row in rows
        }
        return {
            place: found.get(place)
            or StockLevel(sku=place[0], location=place[1], on_hand=0, reserved=0)
            for place in wanted
        }

    def stock_levels(self, sku: str, *, session: Connection | None = None) -> list[StockLevel]:
        """The levels of ``sku`` at every location that has one, by location code."""
        with self._read(session) as connection:
            rows = connection.execute(
                select(stock_levels.c.location, stock_levels.c.on_hand, stock_levels.c.reserved)
                .where(stock_levels.c.sku == sku)
                .order_by(stock_levels.c.location)
            ).all()
        return [
            StockLevel(sku=sku, location=row.location, on_hand=row.on_hand, reserved=row.reserved)
            for row in rows
        ]

    def ledger_entries(
        self,
        *,
        sku: str | None = None,
        location: str | None = None,
        batch_size: int = 500,
        session: Connection | None = None,
    ) -> Generator[LedgerEntry, None, None]:
        """Ledger entries in the order they were applied, streamed ``batch_size`` at a time."""
        query = select(stock_ledger).order_by(stock_ledger.c.id)
        if sku is not None:
            query = query.where(stock_ledger.c.sku == sku)
        if location is not None:
            query = query.where(stock_ledger.c.location == location)
        for row in self._stream(query, session=session, batch_size=batch_size):
            yield _ledger_entry(row)

    def oversold_levels(
        self, *, max_holders: int = 100, session: Connection | None = None
    ) -> list[OversoldLevel]:
        """Every level with more reserved than on hand, by SKU and location, each with up to
        ``max_holders`` references holding units there (two queries, one read transaction)."""
        short = stock_levels.c.on_hand < stock_levels.c.reserved
        held = func.sum(stock_ledger.c.reserved_delta)
        holders_query = (
            select(stock_ledger.c.sku, stock_ledger.c.location, stock_ledger.c.reference, held)
            .join_from(
                stock_ledger,
                stock_levels,
                (stock_ledger.c.sku == stock_levels.c.sku)
                & (stock_ledger.c.location == stock_levels.c.location),
            )
            .where(short, stock_ledger.c.reference.is_not(None))
            .group_by(stock_ledger.c.sku, stock_ledger.c.location, stock_ledger.c.reference)
            .having(held > 0)
            .order_by(stock_ledger.c.sku, stock_ledger.c.location, func.min(stock_ledger.c.id))
        )
        with self._read(session) as connection:
            levels = connection.execute(
                select(
                    stock_levels.c.sku,
                    stock_levels.c.location,
                    stock_levels.c.on_hand,
                    stock_levels.c.reserved,
                )
                .where(short)
                .order_by(stock_levels.c.sku, stock_levels.c.location)
            ).all()
            holding = connection.execute(holders_query).all()
        holders: dict[tuple[str, str], list[tuple[str, int]]] = {}
        for sku, location, reference, units in holding:
            kept = holders.setdefault((sku, location), [])
            if len(kept) < max_holders:
                kept.append((str(reference), int(units)))
        return [
            OversoldLevel(
                sku=row.sku,
                location=row.location,
                on_hand=row.on_hand,
                reserved=row.reserved,
                holders=tuple(holders.get((row.sku, row.location), ())),
            )
            for row in levels
        ]
