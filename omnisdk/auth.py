"""Tokens: keeping a channel account's access token fresh, and storing it safely.

Platforms hand out short-lived access tokens and (often single-use) refresh tokens. A
:class:`TokenKeeper` refreshes a token at about half its life, under a lock, and persists the
new pair through a :class:`TokenStore` *before* using it, so a crash can never lose the only
valid refresh token.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from omnisdk.errors import AuthError, ReauthorisationRequired

__all__ = ["MemoryTokenStore", "Token", "TokenKeeper", "TokenStore"]


def _now() -> datetime:
    return datetime.now(UTC)


class Token(BaseModel):
    """An access token and, when the platform has one, its refresh token.

    Secrets are :class:`~pydantic.SecretStr`: they never show in reprs or logs. ``extra``
    carries platform specifics (Shopee's ``shop_id``, a scope list, ...).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    access_token: SecretStr
    refresh_token: SecretStr | None = None
    issued_at: datetime = Field(default_factory=_now)
    expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    extra: dict[str, str] = Field(default_factory=dict)

    def is_expired(self, now: datetime | None = None) -> bool:
        """True once the access token is past its expiry."""
        return self.expires_at is not None and (now or _now()) >= self.expires_at

    def needs_refresh(self, now: datetime | None = None, *, fraction: float = 0.5) -> bool:
        """True once ``fraction`` of the access token's life has passed.

        Refreshing at half-life leaves time to retry when the platform is briefly down.
        """
        if self.expires_at is None:
            return False
        life = self.expires_at - self.issued_at
        return (now or _now()) >= self.issued_at + life * fraction

    def dump_secrets(self) -> dict[str, str | None]:
        """The token as plain JSON-able values, secrets revealed: only for a store to persist."""
        return {
            "access_token": self.access_token.get_secret_value(),
            "refresh_token": self.refresh_token.get_secret_value() if self.refresh_token else None,
            "issued_at": self.issued_at.isoformat(),
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "refresh_expires_at": (
                self.refresh_expires_at.isoformat() if self.refresh_expires_at else None
            ),
            **{f"extra.{k}": v for k, v in self.extra.items()},
        }

    @classmethod
    def load_secrets(cls, data: dict[str, str | None]) -> Token:
        """Inverse of :meth:`dump_secrets`."""
        extra = {k[6:]: v for k, v in data.items() if k.startswith("extra.") and v is not None}
        plain = {k: v for k, v in data.items() if not k.startswith("extra.")}
        return cls.model_validate({**plain, "extra": extra})

    @classmethod
    def lasting(cls, access_token: str, *, seconds: float | None,
                refresh_token: str | None = None, refresh_seconds: float | None = None,
                now: datetime | None = None, **extra: str) -> Token:
        """A token issued ``now`` that lives ``seconds`` (None: does not expire)."""
        issued = now or _now()
        return cls(
            access_token=SecretStr(access_token),
            refresh_token=SecretStr(refresh_token) if refresh_token else None,
            issued_at=issued,
            expires_at=issued + timedelta(seconds=seconds) if seconds is not None else None,
            refresh_expires_at=(
                issued + timedelta(seconds=refresh_seconds) if refresh_seconds is not None else None
            ),
            extra=extra,
        )


@runtime_checkable
class TokenStore(Protocol):
    """Where tokens live between runs. The store in ``omnisdk.store`` implements this."""

    async def load_token(self, channel: str, account: str) -> Token | None:
        """The saved token of ``account``, or None."""

    async def save_token(self, channel: str, account: str, token: Token) -> None:
        """Persist ``token``, replacing the previous one, durably, before returning."""

    def token_lock(self, channel: str,
                   account: str) -> contextlib.AbstractAsyncContextManager[None]:
        """A lock held while refreshing, so two workers never spend one refresh token twice."""


class MemoryTokenStore:
    """A :class:`TokenStore` in memory: for tests and one-shot scripts."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, str], Token] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    async def load_token(self, channel: str, account: str) -> Token | None:
        return self._tokens.get((channel, account))

    async def save_token(self, channel: str, account: str, token: Token) -> None:
        self._tokens[(channel, account)] = token

    @contextlib.asynccontextmanager
    async def token_lock(self, channel: str, account: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault((channel, account), asyncio.Lock())
        async with lock:
            yield


Refresher = Callable[[Token], Awaitable[Token]]


class TokenKeeper:
    """Hands out a valid access token for one account, refreshing it when due.

    ``refresh`` exchanges the current token for a new one (the channel plugin provides it).
    When it raises :class:`~omnisdk.errors.ReauthorisationRequired` the keeper remembers it and
    every later call raises the same error until a new token is saved.

    When the refresh after a refusal fails for another reason (a dropped connection, a 5xx:
    refreshes are sent once), the refused access token is remembered too: :meth:`current`
    tries the refresh again before handing it out, and raises that refresh's error rather
    than let a request go out with a token the platform already refused. Each such request
    would be refused again, and ``reauth_after`` refusals in a row would stop an account
    whose grant is fine (found by the chaos suite: a token expiry, then a dropped refresh,
    stopped Shopee as ``needs_reauth`` and its orders were never polled again).
    """

    def __init__(self, *, channel: str, account: str, store: TokenStore,
                 refresh: Refresher | None, initial: Token | None = None,
                 clock: Callable[[], datetime] = _now, refresh_fraction: float = 0.5) -> None:
        self.channel = channel
        self.account = account
        self._store = store
        self._refresh = refresh
        self._initial = initial
        self._clock = clock
        self._fraction = refresh_fraction
        self._token: Token | None = None
        self._lost: tuple[str, ReauthorisationRequired] | None = None
        self._refused: str | None = None
        """The access token the platform refused whose refresh failed (None: none)."""
        self.refreshes = 0
        """How many refreshes this keeper performed (for tests and metrics)."""

    async def current(self) -> Token:
        """The token to use now, refreshed first if it is past its refresh point."""
        if self._lost is not None:
            await self._raise_if_still_lost()
        token = self._token or await self._store.load_token(self.channel, self.account)
        if token is None and self._initial is not None:
            token = self._initial
            await self._store.save_token(self.channel, self.account, token)
        if token is None:
            raise AuthError("no token: authorise the account first",
                            channel=self.channel, account=self.account)
        self._token = token
        if self._refresh and self._refused == token.access_token.get_secret_value():
            return await self._refresh_locked(token, force=True)  # its error, not a refusal
        if token.needs_refresh(self._clock(), fraction=self._fraction) and self._refresh:
            token = await self._refresh_locked(token, force=False)
        return token

    async def force_refresh(self) -> Token:
        """Refresh now (after the platform said the access token is invalid)."""
        if self._lost is not None:
            await self._raise_if_still_lost()
        token = self._token or await self.current()
        return await self._refresh_locked(token, force=True)

    async def _refresh_locked(self, seen: Token, *, force: bool) -> Token:
        if self._refresh is None:
            raise AuthError("the access token was refused and this channel cannot refresh it",
                            channel=self.channel, account=self.account)
        async with self._store.token_lock(self.channel, self.account):
            # Another task or worker may have refreshed while we waited for the lock.
            latest = await self._store.load_token(self.channel, self.account) or seen
            changed = latest.access_token != seen.access_token
            due = latest.needs_refresh(self._clock(), fraction=self._fraction)
            if changed or not (force or due):
                self._token = latest
                self._refused = None
                return latest
            now = self._clock()
            try:
                if latest.refresh_expires_at is not None and now >= latest.refresh_expires_at:
                    raise ReauthorisationRequired("the refresh token has expired",
                                                  channel=self.channel, account=self.account)
                fresh = await self._refresh(latest)
            except ReauthorisationRequired as lost:
                # Remember it: a spent or revoked refresh token must not be tried again.
                self._lost = (latest.access_token.get_secret_value(), lost)
                raise
            except BaseException:
                if force:  # refused, and not replaced: never hand it out again as it is
                    self._refused = latest.access_token.get_secret_value()
                raise
            await self._store.save_token(self.channel, self.account, fresh)
            self._token = fresh
            self._refused = None
            self.refreshes += 1
            return fresh

    async def _raise_if_still_lost(self) -> None:
        assert self._lost is not None
        lost_token, error = self._lost
        saved = await self._store.load_token(self.channel, self.account)
        if saved is not None and saved.access_token.get_secret_value() != lost_token:
            # Someone authorised the account again and saved a new token: carry on with it.
            self._lost = None
            self._token = saved
            return
        raise error
