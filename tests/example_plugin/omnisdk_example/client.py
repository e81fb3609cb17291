"""The Example platform's transport: every API call, authenticated, through omnisdk's HTTP layer.

The channel never builds a request itself: it asks :class:`ExampleClient` for a path. A
platform that signs requests (a timestamp and an HMAC over the path, say) signs them here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from omnisdk import HttpClient, Lane
from omnisdk_example.auth import authorization_header

__all__ = ["ExampleClient"]


class ExampleClient:
    """Calls the Example REST API with the account's current access token.

    ``http`` is the channel's HTTP client (retries, rate limit, redaction); ``access_token``
    returns the token to send now.
    """

    def __init__(self, http: HttpClient, access_token: Callable[[], Awaitable[str]]) -> None:
        self.http = http
        self.access_token = access_token

    async def call(
        self, method: str, path: str, *, lane: Lane = Lane.DEFAULT, **options: Any
    ) -> Any:
        """``method path`` with the bearer token; the decoded JSON answer."""
        headers = authorization_header(await self.access_token())
        response = await self.http.request(method, path, lane=lane, headers=headers, **options)
        return response.json()
