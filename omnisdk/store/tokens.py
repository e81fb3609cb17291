"""Persisting channel tokens (the synchronous half; ``token_store`` adds the async protocol).

The token row holds ``Token.dump_secrets()``: in clear by default, so the database file (or
server) must be protected like any credential store; encrypted with Fernet when
``OMNISDK_TOKEN_KEYS`` is set (see :mod:`omnisdk.store.token_keys`). Nothing here logs or
formats a secret; SQLAlchemy is configured to keep statement parameters out of errors.
"""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from omnisdk.auth import Token
from omnisdk.errors import StoreError
from omnisdk.store.core import StoreCore
from omnisdk.store.records import AccountStatus
from omnisdk.store.schema import accounts, tokens
from omnisdk.store.token_keys import TOKEN_KEYS_ENV, TokenKeyError
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
        return Token.load_secrets(self.token_cipher.open(row.secrets, account=account))

    def write_token(
        self, channel: str, account: str, token: Token, *, session: Connection | None = None
    ) -> None:
        """Save ``token`` as the current token of ``account``, replacing the previous one.

        The account is registered if it is new. An account marked ``needs_reauth`` becomes
        ``active`` again: a freshly saved token means the authorisation works.
        """
        now = self.now()
        values = {
            "secrets": self.token_cipher.seal(token.dump_secrets()),
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
                .values(
                    status=AccountStatus.ACTIVE.value,
                    updated_at=now,
                    auth_refusals=0,  # authorised again: the refusals before are over
                    auth_refused_at=None,
                )
            )

    def reencrypt_tokens(self) -> int:
        """Rewrite every stored token sealed with the first key of ``OMNISDK_TOKEN_KEYS``:
        plain rows (stored before encryption was on) and rows of older keys. Returns how many
        rows were rewritten. After it an old key can be dropped from the list.

        A row no configured key opens raises :class:`~omnisdk.store.token_keys.TokenKeyError`
        (nothing is rewritten then).
        """
        cipher = self.token_cipher
        if not cipher.enabled:
            raise TokenKeyError(
                f"{TOKEN_KEYS_ENV} is not set: there is no key to encrypt the tokens with"
            )
        query = select(tokens.c.account_id, accounts.c.name, tokens.c.secrets).join(
            accounts, accounts.c.id == tokens.c.account_id
        )
        with self._tx(None) as connection:
            rewritten = 0
            for row in connection.execute(query).all():
                if not cipher.needs_rewrite(row.secrets):
                    continue
                plain = cipher.open(row.secrets, account=row.name)
                connection.execute(
                    update(tokens)
                    .where(tokens.c.account_id == row.account_id)
                    .values(secrets=cipher.seal(plain))
                )
                rewritten += 1
            return rewritten
