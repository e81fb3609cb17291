"""The sandbox's authorisation state: codes, access tokens and refresh tokens.

Lifetimes follow a Lazada *test* app by default (access 7 days, refresh 14 days; both
configurable, as Lazada's vary by app state), a code lives 30 minutes and works once.
Refreshing issues a new pair and kills the old refresh token; the new refresh token keeps the
old one's expiry (Lazada does not extend it), so past it the seller must authorise again.
Time is the sandbox clock's.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from omnisdk.errors import SandboxError

__all__ = ["ACCESS_TTL", "CODE_TTL", "REFRESH_TTL", "Grant", "Grants", "TokenRefused"]

ACCESS_TTL = 7 * 86400
REFRESH_TTL = 14 * 86400
CODE_TTL = 30 * 60


class TokenRefused(SandboxError):
    """A code, access or refresh token Lazada would refuse; ``code`` is Lazada's error."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Grant:
    """One issued secret, its seller and expiry."""

    value: str
    seller_id: str
    expires: float
    used: bool = False


@dataclass
class Grants:
    """Every code and token the sandbox issued."""

    rng: random.Random
    app_key: str
    access_ttl: float = ACCESS_TTL
    refresh_ttl: float = REFRESH_TTL
    codes: dict[str, Grant] = field(default_factory=dict)
    access: dict[str, Grant] = field(default_factory=dict)
    refresh: dict[str, Grant] = field(default_factory=dict)
    revoked: set[str] = field(default_factory=set)
    refreshes: int = 0

    def _secret(self, prefix: str) -> str:
        return f"{prefix}{self.rng.getrandbits(200):050x}"

    def issue_code(self, seller_id: str, now: float) -> str:
        """A fresh authorisation code (``0_<app_key>_<random>``, as the redirect carries)."""
        code = f"0_{self.app_key}_{self.rng.getrandbits(96):024x}"
        self.codes[code] = Grant(code, seller_id, now + CODE_TTL)
        self.revoked.discard(seller_id)
        return code

    def issue_pair(
        self, seller_id: str, now: float, *, refresh_expires: float | None = None
    ) -> tuple[Grant, Grant]:
        """A new access token and refresh token for ``seller_id``."""
        access = Grant(self._secret("50000"), seller_id, now + self.access_ttl)
        refresh = Grant(
            self._secret("50001"),
            seller_id,
            refresh_expires if refresh_expires is not None else now + self.refresh_ttl,
        )
        self.access[access.value] = access
        self.refresh[refresh.value] = refresh
        return access, refresh

    def exchange(self, code: str, now: float) -> tuple[Grant, Grant]:
        """Spend a code for the first token pair."""
        grant = self.codes.get(code)
        if grant is None or grant.used or now > grant.expires:
            raise TokenRefused("InvalidCode", "Invalid authorization code")
        grant.used = True
        return self.issue_pair(grant.seller_id, now)

    def rotate(self, refresh_token: str, now: float) -> tuple[Grant, Grant]:
        """Spend a refresh token for a new pair (same refresh expiry; the old one dies)."""
        grant = self.refresh.get(refresh_token)
        if grant is None or grant.used or grant.seller_id in self.revoked:
            raise TokenRefused("IllegalRefreshToken", "Illegal refresh token")
        if now > grant.expires:
            raise TokenRefused("IllegalRefreshToken", "The specified refresh token is expired")
        grant.used = True
        self.refreshes += 1
        return self.issue_pair(grant.seller_id, now, refresh_expires=grant.expires)

    def check_access(self, access_token: str, now: float) -> str:
        """The seller of ``access_token``; :class:`TokenRefused` unless it is valid now."""
        grant = self.access.get(access_token)
        if grant is None or grant.seller_id in self.revoked or now > grant.expires:
            raise TokenRefused(
                "IllegalAccessToken", "The specified access token is invalid or expired"
            )
        return grant.seller_id

    def expire_access_tokens(self, now: float) -> None:
        """End every access token now, keeping refresh tokens."""
        for grant in self.access.values():
            grant.expires = min(grant.expires, now - 1)

    def expire_refresh_tokens(self, now: float) -> None:
        """End every refresh token now (the seller must authorise again)."""
        for grant in self.refresh.values():
            grant.expires = min(grant.expires, now - 1)

    def revoke(self, seller_id: str) -> None:
        """The seller withdrew the authorisation: every token stops working."""
        self.revoked.add(seller_id)

    def secrets(self) -> list[str]:
        """Every value issued so far (tests check none leaks)."""
        return [*self.codes, *self.access, *self.refresh]
