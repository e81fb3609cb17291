"""Channel accounts: one row per configured ``[[channels]]`` entry, and its status."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Row, select, update

from omnisdk.store.core import StoreCore
from omnisdk.store.errors import UnknownAccount
from omnisdk.store.records import AccountRow, AccountStatus
from omnisdk.store.schema import accounts

__all__ = ["AccountsMixin"]


def _account_row(row: Row[Any]) -> AccountRow:
    return AccountRow(
        id=row.id,
        name=row.name,
        channel=row.channel,
        status=AccountStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class AccountsMixin(StoreCore):
    """Registering channel accounts and tracking whether they are usable."""

    def ensure_account(
        self, name: str, channel: str, *, session: Connection | None = None
    ) -> AccountRow:
        """Register account ``name`` of channel type ``channel`` (no-op when it exists).

        An existing account keeps its status (an archived account stays archived). Raises
        :class:`~omnisdk.errors.StoreError` when ``name`` already belongs to another channel.
        """
        if not name or not channel:
            raise ValueError("an account needs a name and a channel type")
        with self._tx(session) as connection:
            account_id = self._ensure_account_id(connection, name, channel)
            row = connection.execute(select(accounts).where(accounts.c.id == account_id)).one()
            return _account_row(row)

    def ensure_accounts(self, session: Connection, names: Iterable[tuple[str, str]]) -> None:
        """:meth:`ensure_account` each (name, channel type) of ``names`` in ``session``
        (no statement at all for accounts this store already knows)."""
        for name, channel in sorted(set(names)):
            if not name or not channel:
                raise ValueError("an account needs a name and a channel type")
            self._ensure_account_id(session, name, channel)

    def get_account(self, name: str, *, session: Connection | None = None) -> AccountRow | None:
        """The account called ``name``, or None."""
        with self._read(session) as connection:
            row = connection.execute(select(accounts).where(accounts.c.name == name)).one_or_none()
            return _account_row(row) if row is not None else None

    def set_account_status(
        self, name: str, status: AccountStatus | str, *, session: Connection | None = None
    ) -> None:
        """Set the status of account ``name`` (e.g. ``needs_reauth`` when a refresh failed)."""
        new_status = AccountStatus(status)
        with self._tx(session) as connection:
            done = connection.execute(
                update(accounts)
                .where(accounts.c.name == name)
                .values(status=new_status.value, updated_at=self.now())
            )
            if done.rowcount != 1:
                raise UnknownAccount(name)

    def mark_needs_reauth(
        self, name: str, channel: str, *, session: Connection | None = None
    ) -> bool:
        """Set account ``name`` (registered for ``channel`` if new) to ``needs_reauth``.

        True when this call changed the status; False when it was ``needs_reauth`` already.
        One conditional update, so of several workers racing to stop the account exactly
        one gets True.
        """
        with self._tx(session) as connection:
            account_id = self._ensure_account_id(connection, name, channel)
            stopped = AccountStatus.NEEDS_REAUTH.value
            done = connection.execute(
                update(accounts)
                .where(accounts.c.id == account_id, accounts.c.status != stopped)
                .values(status=stopped, updated_at=self.now())
            )
            return bool(done.rowcount == 1)

    def list_accounts(
        self,
        *,
        status: AccountStatus | str | None = None,
        channel: str | None = None,
        session: Connection | None = None,
    ) -> list[AccountRow]:
        """Every account, by name; optionally only those with ``status`` or of ``channel``."""
        query = select(accounts).order_by(accounts.c.name)
        if status is not None:
            query = query.where(accounts.c.status == AccountStatus(status).value)
        if channel is not None:
            query = query.where(accounts.c.channel == channel)
        with self._read(session) as connection:
            return [_account_row(row) for row in connection.execute(query)]
