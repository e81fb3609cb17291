"""Reading omnisdk.toml: defaults, environment substitution, lookup and building channels."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from omnisdk import Plugins
from omnisdk.config import (
    CONFIG_ENV,
    DEFAULT_STORE_URL,
    Config,
    ConfigError,
    StoreConfig,
    build_channel,
    expand_env,
    find_config,
    load_config,
    parse_config,
    parse_duration,
)

FULL = """\
[store]
url = "postgresql+psycopg://omni:${DB_PASSWORD}@127.0.0.1:5432/omnisdk"

[[channels]]
name = "hanoi-shop"
type = "shopify"
[channels.settings]
shop = "Cửa hàng ${CITY:-Hà Nội}"
access_token = "${SHOPIFY_TOKEN}"
[channels.allocation]
safety_buffer = 2
percentage = "80"
locations = ["hn-kho-1"]
[channels.poll]
orders = "30s"
products = 600

[[channels]]
name = "quầy-q1"
type = "pos"
settings = { store_code = "Q1-${STORE_SUFFIX:-01}" }
"""

ENV = {"DB_PASSWORD": "mật-khẩu-đặc-biệt", "SHOPIFY_TOKEN": "shpat_0123456789abcdef"}


def write(tmp_path: Path, text: str, name: str = "omnisdk.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_full_file_is_read_and_substituted(tmp_path: Path, plugins: Plugins) -> None:
    config = load_config(write(tmp_path, FULL), env=ENV, plugins=plugins)

    assert config.source == tmp_path / "omnisdk.toml"
    assert config.store.url == (
        "postgresql+psycopg://omni:mật-khẩu-đặc-biệt@127.0.0.1:5432/omnisdk"
    )
    hanoi = config.channel("hanoi-shop")
    assert hanoi.type == "shopify"
    assert hanoi.settings == {"shop": "Cửa hàng Hà Nội", "access_token": ENV["SHOPIFY_TOKEN"]}
    assert hanoi.allocation.safety_buffer == 2
    assert hanoi.allocation.percentage == Decimal(80)
    assert hanoi.allocation.locations == ("hn-kho-1",)
    assert hanoi.poll.orders == timedelta(seconds=30)
    assert hanoi.poll.products == timedelta(minutes=10)
    assert hanoi.poll.customers == timedelta(minutes=30)  # the default
    pos = config.channel("quầy-q1")
    assert pos.settings == {"store_code": "Q1-01"}
    assert pos.allocation.safety_buffer == 0


def test_secrets_stay_out_of_reprs(tmp_path: Path, plugins: Plugins) -> None:
    config = load_config(write(tmp_path, FULL), env=ENV, plugins=plugins)
    shown = repr(config) + str(config) + repr(config.channels[0])
    assert ENV["SHOPIFY_TOKEN"] not in shown
    assert ENV["DB_PASSWORD"] not in shown
    assert config.store.display_url == "postgresql+psycopg://omni:***@127.0.0.1:5432/omnisdk"
    unescaped = StoreConfig(url="postgresql://omni:p@ss@db/omnisdk")
    assert unescaped.display_url == "postgresql://omni:***@db/omnisdk"
    assert "p@ss" not in repr(unescaped)
    settings = config.channels[0].validated_settings(plugins)
    assert ENV["SHOPIFY_TOKEN"] not in repr(settings)


def test_an_empty_file_means_defaults(tmp_path: Path, plugins: Plugins) -> None:
    config = load_config(write(tmp_path, ""), env={}, plugins=plugins)
    assert config.channels == []
    assert config.store.is_sqlite
    assert config.store.url == f"sqlite:///{tmp_path / 'omnisdk.db'}"
    assert DEFAULT_STORE_URL == "sqlite:///omnisdk.db"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///data/shop.db", "sqlite:///{dir}/data/shop.db"),
        ("sqlite+pysqlite:///shop.db?timeout=5", "sqlite+pysqlite:///{dir}/shop.db?timeout=5"),
        ("sqlite:////var/lib/omnisdk.db", "sqlite:////var/lib/omnisdk.db"),
        ("sqlite://", "sqlite://"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
    ],
)
def test_relative_sqlite_paths_are_relative_to_the_config_file(
    tmp_path: Path, plugins: Plugins, url: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir("/")
    config = load_config(write(tmp_path, f'[store]\nurl = "{url}"\n'), env={}, plugins=plugins)
    assert config.store.url == expected.format(dir=tmp_path)


def test_the_file_is_found_by_option_then_variable_then_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert find_config(env={}) == Path("omnisdk.toml")
    assert find_config(env={CONFIG_ENV: "/etc/omnisdk/prod.toml"}) == Path("/etc/omnisdk/prod.toml")
    assert find_config("given.toml", env={CONFIG_ENV: "/etc/x.toml"}) == Path("given.toml")


def test_load_config_uses_the_variable_and_the_working_directory(
    tmp_path: Path, plugins: Plugins, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = write(
        tmp_path,
        '[[channels]]\nname = "a"\ntype = "pos"\n[channels.settings]\nstore_code = "A"\n',
        name="other.toml",
    )
    write(tmp_path, "")
    monkeypatch.chdir(tmp_path)
    assert load_config(env={CONFIG_ENV: str(other)}, plugins=plugins).channel("a").type == "pos"
    assert load_config(env={}, plugins=plugins).channels == []


def test_os_environ_is_the_default_environment(
    tmp_path: Path, plugins: Plugins, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMNISDK_TEST_STORE_CODE", "ĐN-01")
    path = write(
        tmp_path,
        '[[channels]]\nname = "dn"\ntype = "pos"\n'
        '[channels.settings]\nstore_code = "${OMNISDK_TEST_STORE_CODE}"\n',
    )
    assert load_config(path, plugins=plugins).channel("dn").settings["store_code"] == "ĐN-01"


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("${A}", {"A": "1"}, "1"),
        ("x-${A}-${B}-y", {"A": "1", "B": "2"}, "x-1-2-y"),
        ("${A:-fallback}", {}, "fallback"),
        ("${A:-fallback}", {"A": ""}, "fallback"),
        ("${A:-}", {}, ""),
        ("${A:-a:-b}", {}, "a:-b"),
        ("${A}", {"A": ""}, ""),
        ("$${A}", {"A": "1"}, "${A}"),
        ("pa$$word$A", {"A": "1"}, "pa$$word$A"),
        ("giá ${PRICE} ₫", {"PRICE": "129.000"}, "giá 129.000 ₫"),
    ],
)
def test_expand_env(text: str, env: dict[str, str], expected: str) -> None:
    assert expand_env(text, env) == expected


def test_substitution_reaches_arrays_and_nested_tables(tmp_path: Path, plugins: Plugins) -> None:
    path = write(
        tmp_path,
        '[[channels]]\nname = "a"\ntype = "pos"\n'
        '[channels.settings]\nstore_code = "S"\n'
        '[channels.allocation]\nlocations = ["${L1}", "kho-${L2:-2}"]\n',
    )
    config = load_config(path, env={"L1": "kho-1"}, plugins=plugins)
    assert config.channel("a").allocation.locations == ("kho-1", "kho-2")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("15m", 900),
        ("6h", 21600),
        ("2d", 172800),
        ("1w", 604800),
        ("1d12h", 129600),
        ("1.5h", 5400),
        (" 2D ", 172800),
        ("1h 30m", 5400),
    ],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "10", "h", "2 days", "-1d", "1y"])
def test_parse_duration_refuses_other_text(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


def test_build_channel_uses_the_entry_name_as_account(tmp_path: Path, plugins: Plugins) -> None:
    config = load_config(write(tmp_path, FULL), env=ENV, plugins=plugins)
    channel = build_channel(config.channel("hanoi-shop"), plugins)
    assert channel.account == "hanoi-shop"
    assert channel.name == "shopify"
    assert channel.settings.secret_values() == [ENV["SHOPIFY_TOKEN"]]
    assert channel.plugins is plugins


def test_build_channel_validates_an_entry_made_in_code(plugins: Plugins) -> None:
    config = Config.model_validate(
        {
            "channels": [
                {
                    "name": "hn",
                    "type": "shopify",
                    "settings": {"shop": "hn", "access_token": "nope-123"},
                },
            ]
        }
    )
    with pytest.raises(ConfigError) as caught:
        build_channel(config.channels[0], plugins)
    message = str(caught.value)
    assert "channels.hn.settings.access_token" in message
    assert "nope-123" not in message
    good = Config.model_validate(
        {
            "channels": [
                {
                    "name": "hn",
                    "type": "shopify",
                    "settings": {"shop": "hn", "access_token": "shpat_ok"},
                }
            ]
        }
    )
    assert build_channel(good.channels[0], plugins).account == "hn"


def test_parse_config_needs_no_file(plugins: Plugins) -> None:
    config = parse_config(
        '[[channels]]\nname = "a"\ntype = "pos"\nsettings.store_code = "A"\n',
        env={},
        plugins=plugins,
    )
    assert config.source is None
    assert config.channel("a").settings == {"store_code": "A"}


def test_the_default_plugin_registry_is_used_when_none_is_given(
    monkeypatch: pytest.MonkeyPatch, plugins: Plugins
) -> None:
    import omnisdk.plugins

    monkeypatch.setattr(omnisdk.plugins, "_default", plugins)
    config = parse_config(
        '[[channels]]\nname = "a"\ntype = "pos"\nsettings.store_code = "A"\n', env={}
    )
    assert build_channel(config.channel("a")).plugins is plugins
