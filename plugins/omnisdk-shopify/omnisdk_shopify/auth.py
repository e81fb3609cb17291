"""Getting a Shopify access token: OAuth install flow and the client-credentials grant.

Public apps send the merchant to :func:`install_url`; Shopify redirects back with
``code, hmac, host, shop, state, timestamp``; :func:`verify_callback` checks the HMAC (the
algorithm of ShopifyAPI's ``Session.calculate_hmac``), the age and the state nonce; then
:func:`exchange_code` trades the code for a permanent token. Apps installed on their own
store use :func:`client_credentials_token` (a token of about 24 hours).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.parse
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import httpx

from omnisdk.auth import Token
from omnisdk.errors import AuthError
from omnisdk.http import HttpClient, Lane

__all__ = [
    "CALLBACK_MAX_AGE",
    "CallbackVerificationError",
    "callback_hmac",
    "client_credentials_token",
    "exchange_code",
    "install_url",
    "verify_callback",
]

CALLBACK_MAX_AGE = 24 * 60 * 60
"""Seconds a callback stays acceptable (ShopifyAPI's replay window)."""


class CallbackVerificationError(AuthError):
    """An OAuth callback failed its HMAC, age, shop or state check."""


def install_url(
    shop_domain: str,
    client_id: str,
    scopes: Iterable[str],
    redirect_uri: str,
    state: str,
    *,
    base_url: str | None = None,
) -> str:
    """Where to send the merchant to install the app (``/admin/oauth/authorize``)."""
    query = urllib.parse.urlencode(
        {
            "client_id": client_id,
            "scope": ",".join(scopes),
            "redirect_uri": redirect_uri,
            "state": state,
        }
    )
    return f"{base_url or f'https://{shop_domain}'}/admin/oauth/authorize?{query}"


def callback_hmac(params: Mapping[str, Any], secret: str) -> str:
    """The hex HMAC-SHA256 Shopify puts in a callback's ``hmac`` parameter.

    ``hmac`` itself is left out; keys ending ``[]`` carry a JSON list; ``%`` and ``=`` in
    keys and ``%`` in values are escaped, ``&`` becomes ``%26``; pairs are sorted and joined
    with ``&``.
    """
    pairs = []
    for key, value in params.items():
        if key == "hmac":
            continue
        if key.endswith("[]"):
            key = key[:-2]
            items = value if isinstance(value, list | tuple) else [value]
            value = json.dumps([str(item) for item in items])
        key = str(key).replace("%", "%25").replace("=", "%3D")
        text = str(value).replace("%", "%25")
        pairs.append(f"{key}={text}".replace("&", "%26"))
    message = "&".join(sorted(pairs))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def verify_callback(
    params: Mapping[str, Any],
    secret: str,
    *,
    state: str | None = None,
    shop_domain: str | None = None,
    now: float | None = None,
    max_age: float = CALLBACK_MAX_AGE,
) -> None:
    """Raise :class:`CallbackVerificationError` unless the callback is Shopify's, fresh,
    for ``shop_domain`` (when given) and carries the ``state`` nonce sent (when given)."""
    given = str(params.get("hmac") or "")
    if not given or not hmac.compare_digest(given.encode(), callback_hmac(params, secret).encode()):
        raise CallbackVerificationError("shopify: OAuth callback HMAC does not match")
    try:
        stamp = int(str(params.get("timestamp")))
    except ValueError:
        raise CallbackVerificationError("shopify: OAuth callback has no timestamp") from None
    if stamp < (now if now is not None else time.time()) - max_age:
        raise CallbackVerificationError("shopify: OAuth callback is older than a day")
    if state is not None and not hmac.compare_digest(
        str(params.get("state", "")).encode(), state.encode()
    ):
        raise CallbackVerificationError("shopify: OAuth callback state does not match")
    if shop_domain is not None and params.get("shop") != shop_domain:
        raise CallbackVerificationError(
            f"shopify: OAuth callback is for shop {params.get('shop')!r}, not {shop_domain!r}"
        )


def _token_from(answer: httpx.Response, now: datetime | None) -> Token:
    try:
        body = answer.json()
        access = str(body["access_token"])
    except (ValueError, KeyError, TypeError):
        raise AuthError("shopify: the token answer has no access_token") from None
    expires = body.get("expires_in")
    scope = str(body.get("scope") or "")
    return Token.lasting(access, seconds=float(expires) if expires else None, now=now, scope=scope)


async def exchange_code(
    http: HttpClient, client_id: str, client_secret: str, code: str, *, now: datetime | None = None
) -> Token:
    """Trade an install callback's ``code`` for the shop's permanent access token."""
    http.add_secret(client_secret)
    answer = await http.post(
        "/admin/oauth/access_token",
        lane=Lane.ORDERS,
        retry=False,
        data={"client_id": client_id, "client_secret": client_secret, "code": code},
    )
    return _token_from(answer, now)


async def client_credentials_token(
    http: HttpClient, client_id: str, client_secret: str, *, now: datetime | None = None
) -> Token:
    """A fresh token by the client-credentials grant (lives ``expires_in``, about 24 h)."""
    http.add_secret(client_secret)
    answer = await http.post(
        "/admin/oauth/access_token",
        lane=Lane.ORDERS,
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
        },
    )
    token = _token_from(answer, now)
    http.add_secret(token.access_token.get_secret_value())
    return token
