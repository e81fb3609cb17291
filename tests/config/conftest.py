"""Channel types the config tests validate against, registered in-process."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pydantic import SecretStr, field_validator

from omnisdk import Channel, ChannelSettings, Plugins, hookimpl


class ShopSettings(ChannelSettings):
    """Settings with a secret whose validator (carelessly) echoes the value it refuses."""

    shop: str
    access_token: SecretStr
    api_version: str = "2024-07"

    @field_validator("access_token")
    @classmethod
    def _prefixed(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith("shpat_"):
            raise ValueError(f"token {value.get_secret_value()!r} must start with 'shpat_'")
        return value


class ShopChannel(Channel):
    """A shop-like channel type for config tests."""

    name = "shopify"
    settings_model = ShopSettings


class PosSettings(ChannelSettings):
    """A channel whose settings have no secrets."""

    store_code: str


class PosChannel(Channel):
    """A point-of-sale channel type for config tests."""

    name = "pos"
    settings_model = PosSettings


class ConfigTestPlugin:
    """Registers the two channel types."""

    @hookimpl
    def omnisdk_register_channels(self, register: Callable[[type[Channel]], None]) -> None:
        register(ShopChannel)
        register(PosChannel)


@pytest.fixture
def plugins() -> Plugins:
    """A registry with only the test channel types."""
    registry = Plugins(entry_points=False)
    registry.register(ConfigTestPlugin(), name="config-test-plugin")
    return registry
