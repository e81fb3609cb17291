"""The plugin as the host sees it: entry point, declared capabilities and limits, settings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from omnisdk_lazada import LazadaChannel, LazadaSettings
from omnisdk_lazada.webhooks import PUSH_TOPICS, SUBSCRIBED_TYPES

from omnisdk import Capability, ConfigError, Plugins, StockPushMode

SETTINGS = {
    "app_key": "112233",
    "app_secret": "lzd_bi_mat_0001",
    "access_token": "a" * 40,
    "refresh_token": "r" * 40,
}


def test_the_entry_point_contributes_the_channel() -> None:
    plugins = Plugins()
    assert not [f for f in plugins.failures if f.name == "lazada"], plugins.failures
    described = plugins.channel_types()["lazada"].describe()
    assert described["distribution"] == "omnisdk-lazada"
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
    assert plugins.channel_class("lazada") is LazadaChannel


def test_limits_state_lazadas_numbers() -> None:
    limits = LazadaChannel.limits
    assert limits.stock_push_mode is StockPushMode.DELTA
    assert (limits.max_stock_batch, limits.max_price_batch, limits.page_size) == (50, 50, 50)
    assert limits.access_token_ttl == timedelta(days=7)
    assert limits.webhook_topics == tuple(PUSH_TOPICS[t] for t in SUBSCRIBED_TYPES)
    assert "trade_order" in limits.webhook_topics
    assert Capability.READ_CUSTOMERS not in LazadaChannel.capabilities


def test_secrets_stay_out_of_reprs() -> None:
    seller = LazadaChannel(SETTINGS, account="hn", plugins=Plugins(entry_points=False))
    for text in (repr(seller), repr(seller.settings), str(seller.settings), repr(seller.signer)):
        assert "lzd_bi_mat_0001" not in text and "a" * 40 not in text
    assert set(seller.settings.secret_values()) == {"lzd_bi_mat_0001", "a" * 40, "r" * 40}


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"app_key": "abc"}, "app_key"),
        ({"site": "JP"}, "unknown Lazada site"),
        ({"currency": "XYZ"}, "currency"),
        ({"access_token": None}, "refresh_token needs the access_token"),
        ({"token_expires_at": "2025-03-15T09:00:00"}, "UTC offset"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_bad_settings_are_named(change: dict[str, object], words: str) -> None:
    with pytest.raises(ConfigError) as bad:
        LazadaChannel({**SETTINGS, **change}, account="hn", plugins=Plugins(entry_points=False))
    assert words in str(bad.value)
    assert "lzd_bi_mat_0001" not in str(bad.value)


@pytest.mark.parametrize(
    ("site", "url", "currency"),
    [
        ("VN", "https://api.lazada.vn/rest", "VND"),
        ("sg", "https://api.lazada.sg/rest", "SGD"),
        ("MY", "https://api.lazada.com.my/rest", "MYR"),
        ("TH", "https://api.lazada.co.th/rest", "THB"),
        ("PH", "https://api.lazada.com.ph/rest", "PHP"),
        ("ID", "https://api.lazada.co.id/rest", "IDR"),
    ],
)
def test_each_site_has_its_host_and_currency(site: str, url: str, currency: str) -> None:
    settings = LazadaSettings.model_validate({"app_key": "1", "app_secret": "k", "site": site})
    seller = LazadaChannel(settings, plugins=Plugins(entry_points=False))
    assert (seller.base_url, seller.currency) == (url, currency)
    assert settings.auth_url == "https://auth.lazada.com/rest"
