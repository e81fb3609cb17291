"""What an ``example`` channel entry in omnisdk.toml holds: the credentials, as secrets."""

from __future__ import annotations

from pydantic import SecretStr

from omnisdk import ChannelSettings

__all__ = ["ExampleSettings"]


class ExampleSettings(ChannelSettings):
    """An ``example`` channel entry: the API token and the webhook signing secret."""

    api_token: SecretStr
    """The platform's API token."""
    webhook_secret: SecretStr | None = None
    """The secret webhook deliveries are signed with (unset: webhooks are refused)."""
