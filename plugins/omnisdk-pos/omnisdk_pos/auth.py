"""KiotViet tokens: the client-credentials grant at the identity server.

``POST {token_url}`` form-encoded with ``scopes=PublicApi.Access``,
``grant_type=client_credentials``, ``client_id`` and ``client_secret`` answers
``{"access_token", "expires_in": 86400, "token_type": "Bearer"}``. There is no refresh
token: a new grant is the refresh. omnisdk's :class:`~omnisdk.auth.TokenKeeper` asks for
one at half the token's life (about 12 h in), under the token store's lock.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import SecretStr

from omnisdk.auth import Token
from omnisdk.errors import BadRequest
from omnisdk.http import HttpClient, Lane
from omnisdk_pos.errors import parse_body

__all__ = ["SCOPE", "TOKEN_TTL", "fetch_token", "token_from_answer"]

SCOPE = "PublicApi.Access"
TOKEN_TTL = timedelta(hours=24)
"""A token's life when the answer does not say (KiotViet's is 86400 s)."""


def token_from_answer(body: Any, *, now: datetime) -> Token:
    """A :class:`~omnisdk.auth.Token` from the identity server's answer."""
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
        raise BadRequest("KiotViet's token answer has no access_token", code="invalid_token_answer")
    expires_in = body.get("expires_in")
    seconds = (
        float(expires_in)
        if isinstance(expires_in, int | float)
        and not isinstance(expires_in, bool)
        and 0 < expires_in <= 30 * 86400
        else TOKEN_TTL.total_seconds()
    )
    return Token(
        access_token=SecretStr(body["access_token"]),
        issued_at=now,
        expires_at=now + timedelta(seconds=float(seconds)),
    )


async def fetch_token(
    http: HttpClient, token_url: str, client_id: str, client_secret: str, *, now: datetime
) -> Token:
    """A new access token for the client credentials (errors: :mod:`omnisdk_pos.errors`)."""
    response = await http.request(
        "POST",
        token_url,
        data={
            "scopes": SCOPE,
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
        },
        lane=Lane.ORDERS,
    )
    return token_from_answer(parse_body(response.content), now=now)
