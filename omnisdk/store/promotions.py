"""Promotions in the store: the promotions themselves and what each account shows of them.

A promotion is kept as its JSON document (:class:`~omnisdk.models.Promotion`), from the
config (``origin="config"``, copied again at every plan and list) or added through the API
(``origin="api"``). ``ended_at`` is set when it ended: early (through the API, or taken out
of the config), or once its end passed and every account's base price was back. Each
(promotion, account, SKU) has one row saying what the channel shows: ``applied``, ``ended``
or ``failed``; the engine decides from these rows what still has to be written, so an apply
or an end run twice, or again after a crash half-way, writes nothing twice.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, select, update

from omnisdk.models import Money, Promotion
from omnisdk.store.core import StoreCore
from omnisdk.store.schema import promotion_listings, promotions

__all__ = ["PromotionListing", "PromotionListingState", "PromotionsMixin", "StoredPromotion"]


class PromotionListingState(enum.StrEnum):
    """What one account shows of one promotion for one SKU."""

    APPLIED = "applied"
    ENDED = "ended"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class StoredPromotion:
    """A promotion as stored: where it came from (``config`` or ``api``) and when it ended
(None: not yet)."""

    promotion: Promotion
    origin: str
    ended_at: datetime | None


@dataclass(frozen=True, slots=True)
class PromotionListing:
    """One (promotion, account, SKU) row."""

    promotion_id: str
    account: str
    sku: str
    state: PromotionListingState
    base: Money
    promoted: Money
    external_id: str | None
    error: str | None
    updated_at: datetime


class PromotionsMixin(StoreCore):
    """Saving promotions and recording what each account shows of them."""

    def save_promotion(
        self, promotion: Promotion, *, origin: str = "api", session: Connection | None = None
    ) -> None:
        """Insert or replace ``promotion`` (keeping ``ended_at`` of an ended one)."""
        now = self.now()
        document = promotion.model_dump(mode="json")
        statement = self._insert(promotions).values(
            id=promotion.id,
            document=document,
            origin=origin,
            ends_at=promotion.ends_at,
            created_at=now,
            updated_at=now,
        )
        statement = statement.on_conflict_do_update(
            index_elements=[promotions.c.id],
            set_={
                "document": statement.excluded.document,
                "origin": statement.excluded.origin,
                "ends_at": statement.excluded.ends_at,
                "updated_at": now,
            },
        )
        with self._tx(session) as connection:
            connection.execute(statement)

    def promotions(
        self, *, include_ended: bool = True, session: Connection | None = None
    ) -> list[StoredPromotion]:
        """Every stored promotion, by start time then id."""
        query = select(promotions.c.document, promotions.c.origin, promotions.c.ended_at)
        if not include_ended:
            query = query.where(promotions.c.ended_at.is_(None))
        with self._read(session) as connection:
            rows = connection.execute(query).all()
        stored = [
            StoredPromotion(Promotion.model_validate(row.document), row.origin, row.ended_at)
            for row in rows
        ]
        return sorted(stored, key=lambda s: (s.promotion.starts_at, s.promotion.id))

    def promotion(self, promotion_id: str, *, session: Connection | None = None
                  ) -> StoredPromotion | None:
        """One stored promotion, or None."""
        query = select(
            promotions.c.document, promotions.c.origin, promotions.c.ended_at
        ).where(promotions.c.id == promotion_id)
        with self._read(session) as connection:
            row = connection.execute(query).first()
        if row is None:
            return None
        return StoredPromotion(Promotion.model_validate(row.document), row.origin, row.ended_at)

    def mark_promotion_ended(
        self, promotion_id: str, at: datetime, *, session: Connection | None = None
    ) -> bool:
        """Set ``ended_at`` (once: a promotion already ended keeps its first time); True
        when this call ended it."""
        with self._tx(session) as connection:
            result = connection.execute(
                update(promotions)
                .where(and_(promotions.c.id == promotion_id, promotions.c.ended_at.is_(None)))
                .values(ended_at=at, updated_at=self.now())
            )
        return bool(result.rowcount)

    def record_promotion_listings(
        self, rows: Sequence[PromotionListing], *, session: Connection | None = None
    ) -> None:
        """Insert or replace the given (promotion, account, SKU) rows."""
        if not rows:
            return
        values = [
            {
                "promotion_id": row.promotion_id,
                "account": row.account,
                "sku": row.sku,
                "state": row.state.value,
                "currency": row.base.currency,
                "base_minor": row.base.to_minor(),
                "promoted_minor": row.promoted.to_minor(),
                "external_id": row.external_id,
                "error": row.error[:2000] if row.error else None,
                "updated_at": row.updated_at,
            }
            for row in rows
        ]
        statement = self._insert(promotion_listings)
        statement = statement.on_conflict_do_update(
            index_elements=[
                promotion_listings.c.promotion_id,
                promotion_listings.c.account,
                promotion_listings.c.sku,
            ],
            set_={
                name: statement.excluded[name]
                for name in (
                    "state", "currency", "base_minor", "promoted_minor", "external_id",
                    "error", "updated_at",
                )
            },
        )
        with self._tx(session) as connection:
            connection.execute(statement, values)

    def promotion_listings(
        self, promotion_id: str | None = None, *, session: Connection | None = None
    ) -> list[PromotionListing]:
        """The rows of one promotion (or of all), by promotion, account and SKU."""
        query = select(promotion_listings).order_by(
            promotion_listings.c.promotion_id,
            promotion_listings.c.account,
            promotion_listings.c.sku,
        )
        if promotion_id is not None:
            query = query.where(promotion_listings.c.promotion_id == promotion_id)
        with self._read(session) as connection:
            rows = connection.execute(query).all()
        return [
            PromotionListing(
                promotion_id=row.promotion_id,
                account=row.account,
                sku=row.sku,
                state=PromotionListingState(row.state),
                base=Money.from_minor(row.base_minor, row.currency),
                promoted=Money.from_minor(row.promoted_minor, row.currency),
                external_id=row.external_id,
                error=row.error,
                updated_at=row.updated_at,
            )
            for row in rows
        ]
