"""Polling cursors: where each (account, stream) poll left off."""

from __future__ import annotations

from sqlalchemy import Connection, select

from omnisdk.store.core import StoreCore
from omnisdk.store.schema import cursors

__all__ = ["CursorsMixin"]


class CursorsMixin(StoreCore):
    """Checkpoints of incremental polls (an ``updated_at`` high-water mark, a page token...)."""

    def get_cursor(
        self, account: str, stream: str, *, session: Connection | None = None
    ) -> str | None:
        """The saved cursor of ``stream`` on ``account``, or None before the first poll."""
        with self._read(session) as connection:
            account_id = self._account_id(connection, account)
            found = connection.execute(
                select(cursors.c.value).where(
                    cursors.c.account_id == account_id, cursors.c.stream == stream
                )
            ).scalar_one_or_none()
            return None if found is None else str(found)

    def set_cursor(
        self, account: str, stream: str, value: str, *, session: Connection | None = None
    ) -> None:
        """Save ``value`` as the cursor of ``stream`` on ``account``.

        Pass the ``session`` that stored the polled objects, so the cursor only moves when
        they are safely written.
        """
        now = self.now()
        with self._tx(session) as connection:
            account_id = self._account_id(connection, account)
            insert = self._insert(cursors).values(
                account_id=account_id, stream=stream, value=value, updated_at=now
            )
            connection.execute(
                insert.on_conflict_do_update(
                    index_elements=[cursors.c.account_id, cursors.c.stream],
                    set_={"value": value, "updated_at": now},
                )
            )
