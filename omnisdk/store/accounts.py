"""Channel accounts: one row per configured ``[[channels]]`` entry, and its status."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, or_, select, update

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
        """Set the status of account ``name`` (e.g. ``needs_reauth`` when a refresh failed).

        ``active`` also ends the authorisation refusals in a row counted so far (the account
        was authorised again: see :meth:`add_auth_refusal`).
        """
        new_status = AccountStatus(status)
        values: dict[str, Any] = {"status": new_status.value, "updated_at": self.now()}
        if new_status is AccountStatus.ACTIVE:
            values.update(auth_refusals=0, auth_refused_at=None)
        with self._tx(session) as connection:
            done = connection.execute(
                update(accounts).where(accounts.c.name == name).values(**values)
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

    def add_auth_refusal(
        self,
        name: str,
        *,
        started: datetime,
        now: datetime,
        session: Connection | None = None,
    ) -> int | None:
        """Count one more authorisation refusal of account ``name`` in a row; the new count.

        The request was sent at ``started`` and refused at ``now``. When a refusal seen after
        ``started`` was counted already (by this process or another), this one is no new
        evidence and None is returned: an access token that just expired refuses the calls
        of every process at once, before one of them refreshes it. One conditional update
        and a read in one transaction, so refusals that processes meet one after another
        (a cron ``sync --once``, ``omnisdk run``, workers) add up. Raises
        :class:`~omnisdk.store.errors.UnknownAccount` for an account not registered.
        """
        with self._tx(session) as connection:
            done = connection.execute(
                update(accounts)
                .where(
                    accounts.c.name == name,
                    or_(accounts.c.auth_refused_at.is_(None), accounts.c.auth_refused_at < started),
                )
                .values(auth_refusals=accounts.c.auth_refusals + 1, auth_refused_at=now)
            )
            if done.rowcount != 1:
                if (
                    connection.execute(
                        select(accounts.c.id).where(accounts.c.name == name)
                    ).one_or_none()
                    is None
                ):
                    raise UnknownAccount(name)
                return None
            count = connection.execute(
                select(accounts.c.auth_refusals).where(accounts.c.name == name)
            ).scalar_one()
            return int(count)

    def reset_auth_refusals(self, name: str, *, session: Connection | None = None) -> bool:
        """Set account ``name``'s refusals in a row to 0 (a request succeeded, or it was
        re-authorised); True when there were any (no write when there were none)."""
        with self._tx(session) as connection:
            done = connection.execute(
                update(accounts)
                .where(accounts.c.name == name, accounts.c.auth_refusals != 0)
                .values(auth_refusals=0, auth_refused_at=None)
            )
            return bool(done.rowcount)

    def auth_refusals(self, name: str, *, session: Connection | None = None) -> int:
        """Account ``name``'s authorisation refusals in a row (0 for an unknown account)."""
        with self._read(session) as connection:
            count = connection.execute(
                select(accounts.c.auth_refusals).where(accounts.c.name == name)
            ).scalar_one_or_none()
            return int(count or 0)
