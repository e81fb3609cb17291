"""The sandbox's authorisation state: codes, access tokens and single-use refresh tokens.

Lifetimes follow Shopee: a code lives 10 minutes and works once; an access token lives 4 hours;
a refresh token lives 30 days and works once (refreshing kills it and issues a new pair; the
old access token lives on until it expires). Time is the sandbox clock's, so a test moves the
clock instead of waiting.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from omnisdk.errors import SandboxError

__all__ = ["ACCESS_TTL", "CODE_TTL", "REFRESH_TTL", "Grant", "Grants", "TokenRefused"]

ACCESS_TTL = 4 * 3600
REFRESH_TTL = 30 * 86400
CODE_TTL = 10 * 60


class TokenRefused(SandboxError):
    """A code, access or refresh token Shopee would refuse; ``code`` is Shopee's error."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Grant:
    """One issued secret and who it belongs to."""

    value: str
    shop_id: int
    expires: float
    used: bool = False


@dataclass
class Grants:
    """Every code and token the sandbox issued."""

    rng: random.Random
    codes: dict[str, Grant] = field(default_factory=dict)
    access: dict[str, Grant] = field(default_factory=dict)
    refresh: dict[str, Grant] = field(default_factory=dict)
    revoked_shops: set[int] = field(default_factory=set)
    refreshes: int = 0

    def _secret(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def issue_code(self, shop_id: int, now: float) -> str:
        """A fresh authorisation code (after the seller approved on the auth page)."""
        code = self._secret()
        self.codes[code] = Grant(code, shop_id, now + CODE_TTL)
        self.revoked_shops.discard(shop_id)
        return code

    def issue_pair(
        self, shop_id: int, now: float, *, access_ttl: float = ACCESS_TTL
    ) -> tuple[Grant, Grant]:
        """A new access token and refresh token for ``shop_id``."""
        access = Grant(self._secret(), shop_id, now + access_ttl)
        refresh = Grant(self._secret(), shop_id, now + REFRESH_TTL)
        self.access[access.value] = access
        self.refresh[refresh.value] = refresh
        return access, refresh

    def exchange(self, code: str, shop_id: int, now: float) -> tuple[Grant, Grant]:
        """Spend a code for the first token pair."""
        grant = self.codes.get(code)
        if grant is None or grant.used or grant.shop_id != shop_id:
            raise TokenRefused("invalid_code", "Invalid code.")
        if now > grant.expires:
            raise TokenRefused("invalid_code", "The code is expired.")
        grant.used = True
        return self.issue_pair(shop_id, now)

    def rotate(self, refresh_token: str, shop_id: int, now: float) -> tuple[Grant, Grant]:
        """Spend a refresh token for a new pair (the old refresh token dies)."""
        grant = self.refresh.get(refresh_token)
        if shop_id in self.revoked_shops:
            raise TokenRefused("shop_no_linked", "Partner and shop has no linked.")
        if grant is None or grant.shop_id != shop_id or grant.used:
            raise TokenRefused(
                "error_shop_refresh_token",
                "Your refresh token is error ,please check refresh token or shopid.",
            )
        if now > grant.expires:
            raise TokenRefused("refresh_token_expired", "Your refresh_token expired.")
        grant.used = True
        self.refreshes += 1
        return self.issue_pair(shop_id, now)

    def check_access(self, access_token: str, shop_id: int, now: float) -> None:
        """Raise :class:`TokenRefused` unless ``access_token`` is valid for ``shop_id`` now."""
        grant = self.access.get(access_token)
        if grant is None or shop_id in self.revoked_shops or now > grant.expires:
            raise TokenRefused(
                "invalid_acceess_token",  # sic: Shopee's spelling
                "Invalid access_token, please have a check.",
            )
        if grant.shop_id != shop_id:
            raise TokenRefused("error_auth", "Invalid partner_id or shopid.")

    def expire_access_tokens(self, now: float) -> None:
        """End every access token now (as if four hours had passed), keeping refresh tokens."""
        for grant in self.access.values():
            grant.expires = min(grant.expires, now - 1)

    def revoke(self, shop_id: int) -> None:
        """The seller withdrew the authorisation: every token of ``shop_id`` stops working."""
        self.revoked_shops.add(shop_id)

    def secrets(self) -> list[str]:
        """Every value issued so far (tests check none leaks)."""
        return [*self.codes, *self.access, *self.refresh]
