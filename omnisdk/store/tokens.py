"""Persisting channel tokens (the synchronous half; ``token_store`` adds the async protocol).

The token row holds ``Token.dump_secrets()``: the access and refresh tokens in clear, so the
database file (or server) must be protected like any credential store. Nothing here logs or
formats a secret; SQLAlchemy is configured to keep statement parameters out of errors.
"""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from omnisdk.auth import Token
from omnisdk.errors import StoreError
from omnisdk.store.core import StoreCore
from omnisdk.store.records import AccountStatus
from omnisdk.store.schema import accounts, tokens
from omnisdk.store.types import as_utc

__all__ = ["TokensMixin"]


class TokensMixin(StoreCore):
    """Reading and writing the current token of each channel account."""

    def read_token(
        self, channel: str, account: str, *, session: Connection | None = None
    ) -> Token | None:
        """The saved token of ``account`` (of channel type ``channel``), or None."""
        query = (
            select(accounts.c.channel, tokens.c.secrets)
            .select_from(accounts.outerjoin(tokens, tokens.c.account_id == accounts.c.id))
            .where(accounts.c.name == account)
        )
        with self._read(session) as connection:
            row = connection.execute(query).one_or_none()
        if row is None:
            return None
        if row.channel != channel:
            raise StoreError(
                f"channel account {account!r} belongs to channel {row.channel!r}, not {channel!r}"
            )
        if row.secrets is None:
            return None
        return Token.load_secrets(row.secrets)

    def write_token(
        self, channel: str, account: str, token: Token, *, session: Connection | None = None
    ) -> None:
        """Save ``token`` as the current token of ``account``, replacing the previous one.

        The account is registered if it is new. An account marked ``needs_reauth`` becomes
        ``active`` again: a freshly saved token means the authorisation works.
        """
        now = self.now()
        values = {
            "secrets": token.dump_secrets(),
            "expires_at": as_utc(token.expires_at) if token.expires_at else None,
            "updated_at": now,
        }
        with self._tx(session) as connection:
            account_id = self._ensure_account_id(connection, account, channel)
            insert = self._insert(tokens).values(account_id=account_id, **values)
            connection.execute(
                insert.on_conflict_do_update(index_elements=[tokens.c.account_id], set_=values)
            )
            connection.execute(
                update(accounts)
                .where(
                    accounts.c.id == account_id,
                    accounts.c.status == AccountStatus.NEEDS_REAUTH.value,
                )
                .values(status=AccountStatus.ACTIVE.value, updated_at=now)
            )
