"""Shop authorisation: the authorisation link, the code exchange and the token refresh.

1. The seller opens :func:`authorisation_url` (signed with the public base string of
   ``/api/v2/shop/auth_partner``; it dies with its timestamp after 5 minutes), logs in and
   approves; Shopee redirects to ``redirect?code=...&shop_id=...``.
2. :func:`exchange_code` trades the single-use code (valid 10 minutes) for an access token
   (4 hours) and a refresh token (30 days) at ``/api/v2/auth/token/get``.
3. :func:`refresh` trades the refresh token for a new pair at
   ``/api/v2/auth/access_token/get``. The old refresh token dies at once, so the new pair
   must be saved before anything else happens (omnisdk's TokenKeeper does that, under a
   lock).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from pydantic import SecretStr

from omnisdk.auth import Token
from omnisdk.errors import BadRequest, PlatformUnavailable, RateLimited, ReauthorisationRequired
from omnisdk.http import Lane
from omnisdk_shopee.client import ShopeeClient, SignatureKind, Signer

__all__ = [
    "ACCESS_TOKEN_TTL",
    "AUTHORISE_PATH",
    "CANCEL_AUTHORISATION_PATH",
    "REFRESH_PATH",
    "REFRESH_TOKEN_TTL",
    "TOKEN_PATH",
    "authorisation_url",
    "exchange_code",
    "refresh",
    "token_from_response",
]

AUTHORISE_PATH = "/api/v2/shop/auth_partner"
CANCEL_AUTHORISATION_PATH = "/api/v2/shop/cancel_auth_partner"
TOKEN_PATH = "/api/v2/auth/token/get"  # noqa: S105 (a path, not a password)
REFRESH_PATH = "/api/v2/auth/access_token/get"

ACCESS_TOKEN_TTL = timedelta(hours=4)
"""An access token's life when Shopee does not say (``expire_in`` is normally 14400 s)."""

REFRESH_TOKEN_TTL = timedelta(days=30)
"""A refresh token's life: 30 days, and it can be used once."""

REFRESH_ATTEMPTS = 3
"""Tries of a code exchange or refresh that Shopee answered with a transient error."""

REFRESH_BACKOFF = 0.2
"""Seconds to wait before the second try of a refresh (then twice that, ...)."""


def authorisation_url(
    base_url: str, signer: Signer, redirect_url: str, timestamp: int, *, cancel: bool = False
) -> str:
    """The link a seller opens to authorise the app (or, with ``cancel``, to withdraw it)."""
    path = CANCEL_AUTHORISATION_PATH if cancel else AUTHORISE_PATH
    params = {**signer.common_params(path, timestamp), "redirect": redirect_url}
    return f"{base_url.rstrip('/')}{path}?{urlencode(params)}"


def token_from_response(
    body: dict[str, Any], *, now: datetime, shop_id: int | None = None
) -> Token:
    """A :class:`~omnisdk.auth.Token` from a (flat) token/get or access_token/get answer."""
    access = body.get("access_token")
    refresh_token = body.get("refresh_token")
    if not isinstance(access, str) or not access or not isinstance(refresh_token, str):
        raise BadRequest(
            "Shopee's token answer has no access_token/refresh_token", code="invalid_token_response"
        )
    expire_in = body.get("expire_in")
    seconds = (
        float(expire_in)
        if isinstance(expire_in, int | float)
        and not isinstance(expire_in, bool)
        and 0 < expire_in <= 86400 * 30
        else ACCESS_TOKEN_TTL.total_seconds()
    )
    extra: dict[str, str] = {}
    shop = body.get("shop_id") or shop_id
    shop_list = body.get("shop_id_list")
    if not shop and isinstance(shop_list, list) and len(shop_list) == 1:
        shop = shop_list[0]
    if shop:
        extra["shop_id"] = str(int(shop))
    return Token(
        access_token=SecretStr(access),
        refresh_token=SecretStr(refresh_token) if refresh_token else None,
        issued_at=now,
        expires_at=now + timedelta(seconds=seconds),
        refresh_expires_at=now + REFRESH_TOKEN_TTL,
        extra=extra,
    )


async def exchange_code(
    client: ShopeeClient,
    code: str,
    *,
    shop_id: int | None = None,
    main_account_id: int | None = None,
) -> Token:
    """Trade an authorisation ``code`` for the shop's first token pair."""
    body: dict[str, Any] = {"code": code, "partner_id": client.signer.partner_id}
    if shop_id is not None and main_account_id is None:
        body["shop_id"] = int(shop_id)
    elif main_account_id is not None and shop_id is None:
        body["main_account_id"] = int(main_account_id)
    else:
        raise ValueError("exchange_code needs exactly one of shop_id and main_account_id")
    answer = await _post_single_use(client, TOKEN_PATH, body)
    return token_from_response(answer, now=client.clock(), shop_id=shop_id)


async def refresh(client: ShopeeClient, token: Token, *, shop_id: int) -> Token:
    """Trade ``token``'s refresh token for a new pair (the old refresh token dies)."""
    if token.refresh_token is None:
        raise ReauthorisationRequired("there is no refresh token: authorise the shop again")
    body = {
        "refresh_token": token.refresh_token.get_secret_value(),
        "partner_id": client.signer.partner_id,
        "shop_id": int(shop_id),
    }
    answer = await _post_single_use(client, REFRESH_PATH, body)
    fresh = token_from_response(answer, now=client.clock(), shop_id=shop_id)
    return fresh.model_copy(update={"extra": {**token.extra, **fresh.extra}})


async def _post_single_use(
    client: ShopeeClient, path: str, body: dict[str, Any], attempts: int = REFRESH_ATTEMPTS
) -> dict[str, Any]:
    """POST a call that spends a single-use credential (a code, a refresh token).

    Such a call is repeated only when Shopee answered with a transient error (it then issued
    nothing), never after a lost answer: the credential may already be spent, and the HTTP
    layer (``retry=False``) re-sends only what surely never reached Shopee.
    """
    for attempt in range(1, attempts + 1):
        try:
            return await client.post(
                path, body, lane=Lane.ORDERS, kind=SignatureKind.PUBLIC, retry=False
            )
        except (PlatformUnavailable, RateLimited) as exc:
            answered = exc.status is not None
            if not answered or attempt == attempts:
                raise
            wait = exc.retry_after if isinstance(exc, RateLimited) and exc.retry_after else 0.0
            await asyncio.sleep(min(max(wait, REFRESH_BACKOFF * attempt), 30.0))
    raise AssertionError("unreachable")  # pragma: no cover
