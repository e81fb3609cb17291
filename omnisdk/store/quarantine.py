"""Quarantine: payloads the engine could not process, kept with the reason for replay."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, Row, select, text, update

from omnisdk._redact import loggable
from omnisdk.store.core import StoreCore
from omnisdk.store.records import QuarantineRow
from omnisdk.store.schema import accounts, quarantine

__all__ = ["QuarantineMixin"]

_MAX_REASON = 4000


def _json_safe(payload: Any) -> Any:
    """``payload`` as plain JSON: a quarantine must never fail on an odd payload."""
    if isinstance(payload, bytes | bytearray):
        payload = {"body": bytes(payload).decode("utf-8", errors="replace")}
    return json.loads(loggable(json.dumps(payload, default=str, ensure_ascii=False)))


def _quarantine_row(row: Row[Any]) -> QuarantineRow:
    return QuarantineRow(
        id=row.id,
        account=row.account,
        kind=row.kind,
        external_id=row.external_id,
        reason=row.reason,
        payload=row.payload,
        attempts=row.attempts,
        created_at=row.created_at,
        last_attempt_at=row.last_attempt_at,
        resolved_at=row.resolved_at,
    )


class QuarantineMixin(StoreCore):
    """Keeping bad payloads aside so one bad record never fails a batch."""

    def quarantine(
        self,
        account: str,
        kind: str,
        external_id: str | None,
        reason: str,
        payload: Any,
        *,
        session: Connection | None = None,
    ) -> int:
        """Keep ``payload`` aside with ``reason``; returns the quarantine entry's id.

        ``kind`` says what the payload is (``order``, ``product``, ``webhook``...). While an
        entry for the same (account, kind, external id) is unresolved, it is updated (new
        reason and payload, one more attempt) instead of duplicated.
        """
        if not kind:
            raise ValueError("quarantine kind is empty")
        now = self.now()
        reason = loggable(reason[:_MAX_REASON])
        if external_id is not None:
            external_id = loggable(external_id)
        document = _json_safe(payload)
        with self._tx(session) as connection:
            account_id = self._account_id(connection, account)
            insert = self._insert(quarantine).values(
                account_id=account_id,
                kind=kind,
                external_id=external_id,
                reason=reason,
                payload=document,
                attempts=1,
                created_at=now,
                last_attempt_at=now,
            )
            if external_id is not None:
                insert = insert.on_conflict_do_update(
                    index_elements=[
                        quarantine.c.account_id,
                        quarantine.c.kind,
                        quarantine.c.external_id,
                    ],
                    index_where=text("resolved_at IS NULL"),
                    set_={
                        "reason": reason,
                        "payload": insert.excluded.payload,
                        "attempts": quarantine.c.attempts + 1,
                        "last_attempt_at": now,
                    },
                )
            return int(connection.execute(insert.returning(quarantine.c.id)).scalar_one())

    def get_quarantined(
        self, entry_id: int, *, session: Connection | None = None
    ) -> QuarantineRow | None:
        """The quarantine entry ``entry_id``, or None."""
        with self._read(session) as connection:
            row = connection.execute(
                self._quarantine_query().where(quarantine.c.id == entry_id)
            ).one_or_none()
            return None if row is None else _quarantine_row(row)

    def list_quarantine(
        self,
        resolved: bool | None = False,
        *,
        account: str | None = None,
        kind: str | None = None,
        limit: int = 1000,
        session: Connection | None = None,
    ) -> list[QuarantineRow]:
        """Quarantine entries, oldest first: unresolved by default, ``resolved=None`` for all."""
        query = self._quarantine_query().order_by(quarantine.c.id).limit(limit)
        if resolved is not None:
            query = query.where(
                quarantine.c.resolved_at.is_not(None)
                if resolved
                else quarantine.c.resolved_at.is_(None)
            )
        if account is not None:
            query = query.where(accounts.c.name == account)
        if kind is not None:
            query = query.where(quarantine.c.kind == kind)
        with self._read(session) as connection:
            return [_quarantine_row(row) for row in connection.execute(query)]

    def mark_resolved(self, entry_id: int, *, session: Connection | None = None) -> bool:
        """Mark an entry resolved (replayed successfully or dismissed); False if it was not open."""
        with self._tx(session) as connection:
            return (
                connection.execute(
                    update(quarantine)
                    .where(quarantine.c.id == entry_id, quarantine.c.resolved_at.is_(None))
                    .values(resolved_at=self.now())
                ).rowcount
                == 1
            )

    def record_retry_failure(
        self, entry_id: int, reason: str, *, session: Connection | None = None
    ) -> bool:
        """Record that replaying entry ``entry_id`` failed again, and why; False if unknown."""
        with self._tx(session) as connection:
            return (
                connection.execute(
                    update(quarantine)
                    .where(quarantine.c.id == entry_id)
                    .values(
                        reason=reason[:_MAX_REASON],
                        attempts=quarantine.c.attempts + 1,
                        last_attempt_at=self.now(),
                    )
                ).rowcount
                == 1
            )

    @staticmethod
    def _quarantine_query() -> Any:
        return select(
            quarantine.c.id,
            accounts.c.name.label("account"),
            quarantine.c.kind,
            quarantine.c.external_id,
            quarantine.c.reason,
            quarantine.c.payload,
            quarantine.c.attempts,
            quarantine.c.created_at,
            quarantine.c.last_attempt_at,
            quarantine.c.resolved_at,
        ).join_from(quarantine, accounts, quarantine.c.account_id == accounts.c.id)
