"""The plugin manager: in-process registration, contract checks, channel types."""

from collections.abc import Callable
from typing import Any

import pytest

from omnisdk import Channel, PluginError, Plugins, hookimpl
from omnisdk.allocation import AllocationRequest


class Alpha(Channel):
    """A channel type for tests."""

    name = "alpha"


class AlsoAlpha(Channel):
    """Another class claiming the same name."""

    name = "alpha"


class AlphaPlugin:
    @hookimpl
    def omnisdk_register_channels(self, register: Callable[[type[Channel]], None]) -> None:
        register(Alpha)


def test_core_hooks_are_registered_and_app_plugins_add_channels() -> None:
    plugins = Plugins(entry_points=False)
    assert plugins.channel_types() == {}
    plugins.register(AlphaPlugin(), name="alpha-plugin")
    types = plugins.channel_types()
    assert list(types) == ["alpha"] and types["alpha"].cls is Alpha
    assert types["alpha"].plugin == "alpha-plugin"
    described = types["alpha"].describe()
    assert described["name"] == "alpha" and described["capabilities"] == []
    assert described["limits"]["stock_push_mode"] == "absolute"


def test_misspelled_hook_is_rejected_with_its_name() -> None:
    class Typo:
        @hookimpl
        def omnisdk_order_recieved(self, order: Any) -> None:
            pass

    plugins = Plugins(entry_points=False)
    with pytest.raises(PluginError, match="omnisdk_order_recieved"):
        plugins.register(Typo(), name="typo")
    assert not plugins.pm.has_plugin("typo")


def test_unknown_argument_is_rejected() -> None:
    class BadArgs:
        @hookimpl
        def omnisdk_order_received(self, order: Any, colour: str) -> None:
            pass

    with pytest.raises(PluginError, match="colour"):
        Plugins(entry_points=False).register(BadArgs())


def test_duplicate_channel_names_are_reported_not_fatal() -> None:
    class Second:
        @hookimpl
        def omnisdk_register_channels(self, register: Callable[[type[Channel]], None]) -> None:
            register(AlsoAlpha)

    plugins = Plugins(entry_points=False)
    plugins.register(AlphaPlugin(), name="first")
    plugins.register(Second(), name="second")
    types = plugins.channel_types()
    assert len(types) == 1
    assert any("already provided" in failure.error for failure in plugins.failures)


def test_unknown_channel_type_suggests_the_close_match() -> None:
    plugins = Plugins(entry_points=False)
    plugins.register(AlphaPlugin())
    with pytest.raises(PluginError, match="Did you mean 'alpha'"):
        plugins.channel_class("alpah")


def test_allocation_hook_first_result_wins_and_default_applies() -> None:
    plugins = Plugins(entry_points=False)
    request = AllocationRequest(sku="S", channel="alpha", account="a", on_hand={"x": 9})
    assert plugins.hook.omnisdk_allocate_stock(request=request) == 9

    class HalfForMarketplaces:
        @hookimpl
        def omnisdk_allocate_stock(self, request: AllocationRequest) -> int | None:
            return request.pool() // 2 if request.channel == "alpha" else None

    plugins.register(HalfForMarketplaces())
    assert plugins.hook.omnisdk_allocate_stock(request=request) == 4
    other = request.model_copy(update={"channel": "pos"})
    assert plugins.hook.omnisdk_allocate_stock(request=other) == 9
