"""How the Example platform authenticates: a static bearer token from the settings.

A platform with expiring tokens keeps its token exchange here too (the channel's
``refresh_token`` calls it), so ``client.py`` only ever asks for the current token.
"""

from __future__ import annotations

from omnisdk import Token
from omnisdk_example.settings import ExampleSettings

__all__ = ["authorization_header", "initial_token"]


def initial_token(settings: ExampleSettings) -> Token:
    """The static API token from the settings (it never expires)."""
    return Token(access_token=settings.api_token)


def authorization_header(access_token: str) -> dict[str, str]:
    """The header every API call carries."""
    return {"Authorization": f"Bearer {access_token}"}
