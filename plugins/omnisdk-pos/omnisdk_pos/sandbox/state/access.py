"""Who may call the sandbox: client-credentials tokens and the hourly GET budget.

Tokens live ``expires_in`` seconds (86400 by default, KiotViet's 24 h) on the sandbox clock;
there is no refresh token, a client asks for a new one. The budget counts GETs per retailer
over a sliding hour (KiotViet's documented 5,000); past it a GET is answered 429 with a
``Retry-After`` saying when the oldest GET in the window leaves it.
"""

from __future__ import annotations

import base64
import collections
import json
import random
from dataclasses import dataclass

__all__ = ["DEFAULT_TOKEN_TTL", "GET_BUDGET", "GetBudget", "Tokens"]

DEFAULT_TOKEN_TTL = 86_400.0
"""An access token's life in seconds: 24 hours."""

GET_BUDGET = 5_000
"""GET requests a retailer may make per hour."""


@dataclass(frozen=True)
class Issued:
    """One access token: its value and when it dies (sandbox-clock POSIX seconds)."""

    value: str
    expires: float


class Tokens:
    """Access tokens issued by ``POST /connect/token`` (JWT-shaped, random)."""

    def __init__(self, rng: random.Random, ttl: float = DEFAULT_TOKEN_TTL) -> None:
        self._rng = rng
        self.ttl = ttl
        self._issued: dict[str, Issued] = {}

    def issue(self, client_id: str, now: float) -> Issued:
        """A new token for ``client_id`` valid from ``now`` for :attr:`ttl` seconds."""
        header = {"alg": "RS256", "typ": "at+jwt"}
        claims = {
            "iss": "https://id.kiotviet.vn",
            "client_id": client_id,
            "scope": ["PublicApi.Access"],
            "iat": int(now),
            "exp": int(now + self.ttl),
            "jti": f"{self._rng.getrandbits(64):016x}",
        }

        def part(data: object) -> str:
            raw = json.dumps(data, separators=(",", ":")).encode()
            return base64.urlsafe_b64encode(raw).decode().rstrip("=")

        signature = base64.urlsafe_b64encode(self._rng.randbytes(32)).decode().rstrip("=")
        token = Issued(f"{part(header)}.{part(claims)}.{signature}", now + self.ttl)
        self._issued[token.value] = token
        return token

    def check(self, value: str, now: float) -> str | None:
        """None when ``value`` is a live token, else why not."""
        found = self._issued.get(value)
        if found is None:
            return "unknown access token"
        if now >= found.expires:
            return "access token expired"
        return None

    def expire_all(self, now: float) -> None:
        """End every token now."""
        self._issued = {v: Issued(v, min(t.expires, now)) for v, t in self._issued.items()}

    def secrets(self) -> list[str]:
        """Every token issued."""
        return list(self._issued)


class GetBudget:
    """A sliding one-hour window of GETs."""

    def __init__(self, limit: int = GET_BUDGET, window: float = 3600.0) -> None:
        self.limit = limit
        self.window = window
        self._calls: collections.deque[float] = collections.deque()

    def spend(self, now: float) -> float | None:
        """Count one GET at ``now``; None when allowed, else seconds until one would be."""
        while self._calls and self._calls[0] <= now - self.window:
            self._calls.popleft()
        if len(self._calls) >= self.limit:
            return max(self._calls[0] + self.window - now, 1.0)
        self._calls.append(now)
        return None

    @property
    def used(self) -> int:
        """GETs in the current window (as of the last spend)."""
        return len(self._calls)
