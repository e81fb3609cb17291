"""The location model: orders reserve where the account's stock comes from, and a location
the config does not name is an error (issue #15: the README's ``--location hn-1`` plus an
order reserved at an unseen ``main`` and reconcile reported an oversell that was not one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from omnisdk import Plugins
from omnisdk.allocation import AllocationRule
from omnisdk.config import (
    DEFAULT_LOCATION,
    ChannelConfig,
    ConfigError,
    EngineConfig,
    load_config,
    reserve_location,
)

SHOP = """\
[[channels]]
name = "hanoi"
type = "shopify"
{extra}
[channels.settings]
shop = "hanoi"
access_token = "shpat_0123456789abcdef"
"""


def load(tmp_path: Path, plugins: Plugins, text: str) -> EngineConfig:
    path = tmp_path / "omnisdk.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, env={}, plugins=plugins).engine


def test_the_default_location_is_the_first_named_location(tmp_path: Path, plugins: Plugins) -> None:
    engine = load(tmp_path, plugins, SHOP.format(extra="") + '[engine]\nlocations = ["hn-1"]\n')
    assert engine.default_location == "hn-1"
    assert engine.named_locations == ("hn-1",)
    assert reserve_location(ChannelConfig(name="hanoi", type="shopify"), engine) == "hn-1"


def test_without_named_locations_the_default_is_main(tmp_path: Path, plugins: Plugins) -> None:
    engine = load(tmp_path, plugins, SHOP.format(extra=""))
    assert engine.default_location == DEFAULT_LOCATION == "main"


def test_an_explicit_default_location_is_kept() -> None:
    engine = EngineConfig(default_location="kho-tổng", locations=("hn-1", "hcm-1"))
    assert engine.default_location == "kho-tổng"
    assert engine.named_locations == ("kho-tổng", "hn-1", "hcm-1")


def test_orders_reserve_where_the_accounts_stock_comes_from() -> None:
    engine = EngineConfig(locations=("hn-1", "hcm-1"))
    fed = ChannelConfig(
        name="sài-gòn", type="shopify", allocation=AllocationRule(locations=("hcm-1",))
    )
    assert reserve_location(fed, engine) == "hcm-1"
    own = ChannelConfig(name="quầy", type="pos", location="hn-1")
    assert reserve_location(own, engine) == "hn-1"


def test_an_unknown_account_location_is_an_error_naming_the_line(
    tmp_path: Path, plugins: Plugins
) -> None:
    text = SHOP.format(extra='location = "hn1"') + '[engine]\nlocations = ["hn-1", "hcm-1"]\n'
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, plugins, text)
    message = str(caught.value)
    assert ":4, key 'channels[0].location'" in message
    assert "location 'hn1' is not one of [engine] locations (hn-1, hcm-1)" in message
    assert "did you mean 'hn-1'?" in message


def test_an_unknown_allocation_location_is_an_error(tmp_path: Path, plugins: Plugins) -> None:
    text = (
        SHOP.format(extra="")
        + '[channels.allocation]\nlocations = ["hcm-2"]\n[engine]\nlocations = ["hn-1"]\n'
    )
    with pytest.raises(ConfigError, match=r"channels\[0\]\.allocation\.locations\[0\]"):
        load(tmp_path, plugins, text)


def test_reserving_away_from_where_the_stock_comes_from_is_an_error(
    tmp_path: Path, plugins: Plugins
) -> None:
    text = SHOP.format(extra='location = "hn-1"') + '[channels.allocation]\nlocations = ["hcm-1"]\n'
    with pytest.raises(ConfigError, match="reserves its orders at 'hn-1', but its stock comes"):
        load(tmp_path, plugins, text)
