"""Seller authorisation: the authorisation link, the code exchange and the token refresh.

1. The seller opens :func:`authorisation_url` on ``auth.lazada.com``, picks the site, logs
   into Seller Center and approves; the browser comes back to ``redirect_uri?code=...``. The
   code works once, for 30 minutes.
2. :func:`exchange_code` trades it at ``/auth/token/create`` (auth host, signed without an
   access token) for an access token and a refresh token.
3. :func:`refresh` trades the refresh token at ``/auth/token/refresh`` for a new pair.

Lifetimes are not fixed (test apps: 7 days / 14 days; live apps: 30 days / 180 days; newer
samples 10 days / 50 days), so the answer's ``expires_in`` and ``refresh_expires_in`` always
win. Refreshing does not extend the refresh token's own life: past it the seller must
authorise again (:class:`~omnisdk.errors.ReauthorisationRequired`). omnisdk's TokenKeeper
refreshes at half-life, under the store's lock, and saves the new pair before using it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from pydantic import SecretStr

from omnisdk.auth import Token
from omnisdk.errors import BadRequest, ReauthorisationRequired
from omnisdk_lazada.client import LazadaClient

__all__ = [
    "ACCESS_TOKEN_TTL",
    "AUTHORISE_URL",
    "CREATE_PATH",
    "REFRESH_PATH",
    "REFRESH_TOKEN_TTL",
    "authorisation_url",
    "country_user_info",
    "exchange_code",
    "refresh",
    "token_from_response",
]

AUTHORISE_URL = "https://auth.lazada.com/oauth/authorize"
CREATE_PATH = "/auth/token/create"
REFRESH_PATH = "/auth/token/refresh"

ACCESS_TOKEN_TTL = timedelta(days=7)
"""An access token's life when Lazada does not say (a test app's; live apps get longer)."""

REFRESH_TOKEN_TTL = timedelta(days=30)
"""A refresh token's life when Lazada does not say (the live-app access token life)."""


def authorisation_url(app_key: str, redirect_uri: str, *, base: str = AUTHORISE_URL) -> str:
    """The link a seller opens to authorise the app."""
    query = urlencode(
        {
            "response_type": "code",
            "force_auth": "true",
            "redirect_uri": redirect_uri,
            "client_id": app_key,
        }
    )
    return f"{base}?{query}"


def country_user_info(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The seller's per-country entries, in any of the three shapes Lazada answers with
    (``country_user_info`` list, ``country_user_info_list`` list, or an object by country)."""
    for key in ("country_user_info", "country_user_info_list"):
        value = body.get(key)
        if isinstance(value, list):
            return [entry for entry in value if isinstance(entry, dict)]
        if isinstance(value, dict):
            return [
                {"country": country, **entry}
                for country, entry in value.items()
                if isinstance(entry, dict)
            ]
    return []


def _seconds(value: Any, default: timedelta) -> timedelta:
    if isinstance(value, bool):
        return default
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return default
    return timedelta(seconds=seconds) if seconds > 0 else default


def token_from_response(body: dict[str, Any], *, now: datetime, site: str | None = None) -> Token:
    """A :class:`~omnisdk.auth.Token` from a (flat) ``/auth/token/create`` or ``/refresh``
    answer; ``extra`` keeps the seller id of ``site`` (or the only one) and the account."""
    access = body.get("access_token")
    refresh_token = body.get("refresh_token")
    if not isinstance(access, str) or not access or not isinstance(refresh_token, str):
        raise BadRequest(
            "Lazada's token answer has no access_token/refresh_token", code="invalid_token_response"
        )
    extra: dict[str, str] = {}
    entries = country_user_info(body)
    wanted = (site or str(body.get("country") or "")).lower()
    chosen = next((e for e in entries if str(e.get("country", "")).lower() == wanted), None)
    if chosen is None and len(entries) == 1:
        chosen = entries[0]
    if chosen is not None and chosen.get("seller_id"):
        extra["seller_id"] = str(chosen["seller_id"])
    if body.get("country"):
        extra["country"] = str(body["country"])
    if body.get("account"):
        extra["account"] = str(body["account"])
    return Token(
        access_token=SecretStr(access),
        refresh_token=SecretStr(refresh_token) if refresh_token else None,
        issued_at=now,
        expires_at=now + _seconds(body.get("expires_in"), ACCESS_TOKEN_TTL),
        refresh_expires_at=now + _seconds(body.get("refresh_expires_in"), REFRESH_TOKEN_TTL),
        extra=extra,
    )


async def exchange_code(client: LazadaClient, code: str, *, site: str | None = None) -> Token:
    """Trade an authorisation ``code`` for the seller's first token pair."""
    if not code:
        raise ValueError("exchange_code needs the code from the authorisation redirect")
    answer = await client.call_auth(CREATE_PATH, {"code": code})
    return token_from_response(answer, now=client.clock(), site=site)


async def refresh(client: LazadaClient, token: Token, *, site: str | None = None) -> Token:
    """Trade ``token``'s refresh token for a new pair; a dead one raises
    :class:`ReauthorisationRequired`."""
    if token.refresh_token is None:
        raise ReauthorisationRequired("there is no refresh token: authorise the seller again")
    answer = await client.call_auth(
        REFRESH_PATH, {"refresh_token": token.refresh_token.get_secret_value()}
    )
    fresh = token_from_response(answer, now=client.clock(), site=site)
    return fresh.model_copy(update={"extra": {**token.extra, **fresh.extra}})
