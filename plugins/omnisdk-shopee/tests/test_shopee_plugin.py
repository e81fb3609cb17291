"""The plugin as the host sees it: entry point, declared capabilities and limits, settings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from omnisdk_shopee import ShopeeChannel, ShopeeSettings
from omnisdk_shopee.webhooks import PUSH_TOPICS, SUBSCRIBED_CODES

from omnisdk import Capability, ConfigError, Plugins, StockPushMode

SETTINGS = {
    "partner_id": 2001887,
    "partner_key": "shpk_bi_mat_0001",
    "shop_id": 322300222,
    "access_token": "a" * 32,
    "refresh_token": "r" * 32,
}


def test_the_entry_point_contributes_the_channel() -> None:
    plugins = Plugins()
    assert not [f for f in plugins.failures if f.name == "shopee"], plugins.failures
    described = plugins.channel_types()["shopee"].describe()
    assert described["distribution"] == "omnisdk-shopee"
    assert described["sandbox"] is True
    assert set(described["capabilities"]) == {
        "read_products",
        "read_stock",
        "write_stock",
        "write_prices",
        "read_orders",
        "read_refunds",
        "webhooks",
    }
    assert described["limits"]["max_stock_batch"] == 50
    assert described["limits"]["page_size"] == 100
    assert plugins.channel_class("shopee") is ShopeeChannel


def test_limits_state_shopees_numbers() -> None:
    limits = ShopeeChannel.limits
    assert limits.stock_push_mode is StockPushMode.ABSOLUTE
    assert (limits.max_stock_batch, limits.max_price_batch) == (50, 50)
    assert limits.access_token_ttl == timedelta(hours=4)
    assert limits.refresh_token_ttl == timedelta(days=30)
    assert limits.webhook_topics == tuple(PUSH_TOPICS[code] for code in SUBSCRIBED_CODES)
    assert "order_status_push" in limits.webhook_topics
    assert Capability.READ_CUSTOMERS not in ShopeeChannel.capabilities


def test_secrets_stay_out_of_reprs() -> None:
    shop = ShopeeChannel(SETTINGS, account="hcm", plugins=Plugins(entry_points=False))
    for text in (repr(shop), repr(shop.settings), str(shop.settings), repr(shop.signer)):
        assert "shpk_bi_mat_0001" not in text and "a" * 32 not in text
    assert set(shop.settings.secret_values()) == {"shpk_bi_mat_0001", "a" * 32, "r" * 32}


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"partner_id": 0}, "partner_id"),
        ({"currency": "XYZ"}, "currency"),
        ({"access_token": None}, "refresh_token needs the access_token"),
        ({"token_expires_at": "2025-03-15T09:00:00"}, "UTC offset"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_bad_settings_are_named(change: dict[str, object], words: str) -> None:
    with pytest.raises(ConfigError) as bad:
        ShopeeChannel({**SETTINGS, **change}, account="hcm", plugins=Plugins(entry_points=False))
    assert words in str(bad.value)
    assert "shpk_bi_mat_0001" not in str(bad.value)


def test_settings_default_to_a_vietnamese_shop() -> None:
    settings = ShopeeSettings.model_validate({"partner_id": 1, "partner_key": "k"})
    assert (settings.currency, settings.region) == ("VND", "VN")
    shop = ShopeeChannel(settings, plugins=Plugins(entry_points=False))
    assert shop.base_url == "https://partner.shopeemobile.com"
    with pytest.raises(ConfigError, match="shop_id"):
        _ = shop.shop_id
    with pytest.raises(ConfigError, match="redirect"):
        shop.authorisation_url()
