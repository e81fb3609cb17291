"""Every config mistake is reported with the file, the line or key, and what was expected.

And no message ever contains a secret.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from omnisdk import Plugins
from omnisdk.config import CONFIG_ENV, ConfigError, InvalidConfig, load_config, parse_config
from omnisdk.plugins import PluginFailure

TOKEN = "shpat_sieu-bi-mat-0123456789"
SHOP = """\
[[channels]]
name = "hanoi-shop"
type = "shopify"
[channels.settings]
shop = "hanoi"
access_token = "{token}"
"""


def error_for(
    tmp_path: Path, plugins: Plugins, text: str, env: dict[str, str] | None = None
) -> ConfigError:
    path = tmp_path / "omnisdk.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env=env or {}, plugins=plugins)
    return caught.value


def test_toml_syntax_errors_give_file_line_and_column(tmp_path: Path, plugins: Plugins) -> None:
    error = error_for(tmp_path, plugins, '[store]\nurl = "sqlite:///x.db"\n\n[[channels]\n')
    assert str(error).startswith(f"{tmp_path / 'omnisdk.toml'}:4:")
    assert "invalid TOML" in str(error)


def test_a_missing_variable_names_file_line_key_and_variable(
    tmp_path: Path, plugins: Plugins
) -> None:
    error = error_for(tmp_path, plugins, SHOP.format(token="${SHOPIFY_TOKEN}"))
    assert isinstance(error, InvalidConfig)
    assert str(error) == (
        f"{tmp_path / 'omnisdk.toml'}:6, key 'channels[0].settings.access_token': environment "
        "variable SHOPIFY_TOKEN is not set (set it, or write ${SHOPIFY_TOKEN:-default} to give "
        "a default)"
    )
    assert error.key == "channels[0].settings.access_token"
    assert error.source == f"{tmp_path / 'omnisdk.toml'}:6"


def test_every_missing_variable_is_reported_at_once(tmp_path: Path, plugins: Plugins) -> None:
    error = error_for(
        tmp_path,
        plugins,
        '[store]\nurl = "postgresql://u:${DB_PW}@h/db"\n' + SHOP.format(token="${SHOPIFY_TOKEN}"),
    )
    assert isinstance(error, InvalidConfig)
    assert [p.key for p in error.problems] == ["store.url", "channels[0].settings.access_token"]
    assert [p.line for p in error.problems] == [2, 8]
    assert str(error).splitlines()[0].endswith("omnisdk.toml: 2 problems:")
    assert "DB_PW" in str(error) and "SHOPIFY_TOKEN" in str(error)


def test_a_malformed_reference_says_what_is_expected(tmp_path: Path, plugins: Plugins) -> None:
    error = error_for(tmp_path, plugins, SHOP.format(token="${shopify token}"))
    assert "malformed reference ${shopify token}" in str(error)
    assert "${NAME:-default}" in str(error)


def test_unknown_top_level_key_lists_the_known_ones(tmp_path: Path, plugins: Plugins) -> None:
    error = error_for(tmp_path, plugins, '[[chanels]]\nname = "x"\n')
    assert str(error) == (
        f"{tmp_path / 'omnisdk.toml'}:1, key 'chanels': unknown key; "
        "expected one of: store, engine, celery, channels, promotions. Did you mean 'channels'?"
    )


def test_unknown_allocation_key_suggests_the_close_one(tmp_path: Path, plugins: Plugins) -> None:
    text = SHOP.format(token=TOKEN) + "[channels.allocation]\nsafty_buffer = 2\n"
    error = error_for(tmp_path, plugins, text)
    assert "omnisdk.toml:8, key 'channels[0].allocation.safty_buffer': unknown key" in str(error)
    assert "safety_buffer" in str(error) and "Did you mean 'safety_buffer'?" in str(error)


def test_unknown_setting_lists_the_channel_settings(tmp_path: Path, plugins: Plugins) -> None:
    error = error_for(tmp_path, plugins, SHOP.format(token=TOKEN) + 'acces_token = "x"\n')
    message = str(error)
    assert "omnisdk.toml:7, key 'channels[0].settings.acces_token': unknown key" in message
    expected = "expected one of: base_url, timeout, max_attempts, reauth_after, shop, access_token"
    assert expected in message
    assert "Did you mean 'access_token'?" in message


def test_a_missing_setting_points_at_the_settings_table(tmp_path: Path, plugins: Plugins) -> None:
    text = SHOP.format(token=TOKEN).replace('shop = "hanoi"\n', "")
    error = error_for(tmp_path, plugins, text)
    assert str(error).endswith(
        "omnisdk.toml:4, key 'channels[0].settings.shop': required key is missing"
    )


def test_a_wrong_value_type_names_the_key_and_expectation(tmp_path: Path, plugins: Plugins) -> None:
    text = SHOP.format(token=TOKEN) + "[channels.allocation]\nsafety_buffer = -2\n"
    error = error_for(tmp_path, plugins, text)
    assert "omnisdk.toml:8, key 'channels[0].allocation.safety_buffer'" in str(error)
    assert "greater than or equal to 0" in str(error)


def test_channels_must_be_an_array_of_tables(tmp_path: Path, plugins: Plugins) -> None:
    error = error_for(tmp_path, plugins, 'channels = "shopify"\n')
    assert "omnisdk.toml:1, key 'channels': expected an array" in str(error)


def test_duplicate_channel_names_point_at_the_second(tmp_path: Path, plugins: Plugins) -> None:
    text = SHOP.format(token=TOKEN) * 2
    error = error_for(tmp_path, plugins, text)
    assert str(error).endswith(
        "omnisdk.toml:8, key 'channels[1].name': duplicate channel name 'hanoi-shop' "
        "(channels[0] has it already); each account needs its own name"
    )


def test_an_invalid_channel_name_says_what_a_name_is(tmp_path: Path, plugins: Plugins) -> None:
    error = error_for(tmp_path, plugins, SHOP.format(token=TOKEN).replace("hanoi-shop", "hà nội"))
    assert "key 'channels[0].name'" in str(error)
    assert "letters, digits, '_', '-' and '.'" in str(error)


def test_unknown_channel_type_lists_installed_and_suggests(
    tmp_path: Path, plugins: Plugins
) -> None:
    error = error_for(tmp_path, plugins, SHOP.format(token=TOKEN).replace('"shopify"', '"shopfy"'))
    assert str(error).endswith(
        "omnisdk.toml:3, key 'channels[0].type': unknown channel type 'shopfy'; installed "
        "types: pos, shopify. Did you mean 'shopify'?"
    )


def test_unknown_channel_type_says_when_its_plugin_failed(tmp_path: Path, plugins: Plugins) -> None:
    plugins.failures.append(PluginFailure(name="lazada", error="ImportError: no module 'lzd'"))
    error = error_for(tmp_path, plugins, SHOP.format(token=TOKEN).replace('"shopify"', '"lazada"'))
    assert "plugin 'lazada' failed to load: ImportError: no module 'lzd'" in str(error)


def test_no_plugins_installed_says_how_to_get_one(tmp_path: Path) -> None:
    error = error_for(tmp_path, Plugins(entry_points=False), SHOP.format(token=TOKEN))
    assert "installed types: none (install a channel plugin" in str(error)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://u@h/db", "unsupported database scheme 'mysql'; expected one of sqlite://"),
        ("postgres://u@h/db", "'postgres://' is spelled 'postgresql://'"),
        ("postgresql+pg8000://u@h/db", "unsupported database scheme 'postgresql+pg8000'"),
        ("omnisdk.db", "not a database URL; expected one of sqlite://"),
    ],
)
def test_bad_store_urls_list_the_accepted_schemes(
    tmp_path: Path, plugins: Plugins, url: str, expected: str
) -> None:
    error = error_for(tmp_path, plugins, f'[store]\nurl = "{url}"\n')
    assert f"omnisdk.toml:2, key 'store.url': {expected}" in str(error)


def test_a_bad_store_url_never_shows_its_password(tmp_path: Path, plugins: Plugins) -> None:
    error = error_for(
        tmp_path,
        plugins,
        '[store]\nurl = "mysql://omni:${PW}@db/omni"\n',
        env={"PW": "mat-khau-bi-mat"},
    )
    assert "mat-khau-bi-mat" not in str(error)


def test_a_missing_file_says_where_it_looked_and_how_to_point_elsewhere(
    tmp_path: Path, plugins: Plugins, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        load_config(env={}, plugins=plugins)
    assert str(caught.value) == (
        f"omnisdk.toml: config file not found (pass -c PATH or set {CONFIG_ENV} to use another "
        "file)"
    )
    with pytest.raises(ConfigError, match=r"^/nowhere/prod.toml: config file not found$"):
        load_config(env={CONFIG_ENV: "/nowhere/prod.toml"}, plugins=plugins)


def test_a_file_that_is_not_utf8_is_refused_clearly(tmp_path: Path, plugins: Plugins) -> None:
    path = tmp_path / "omnisdk.toml"
    path.write_bytes('name = "Hà Nội"\n'.encode("utf-16"))
    with pytest.raises(ConfigError, match="not UTF-8 text"):
        load_config(path, env={}, plugins=plugins)


def test_an_unknown_channel_name_lists_the_configured_ones(
    tmp_path: Path, plugins: Plugins
) -> None:
    path = tmp_path / "omnisdk.toml"
    path.write_text(SHOP.format(token=TOKEN), encoding="utf-8")
    config = load_config(path, env={}, plugins=plugins)
    with pytest.raises(ConfigError) as caught:
        config.channel("hanoi-shp")
    assert str(caught.value) == (
        f"{path}: no channel named 'hanoi-shp'; configured: hanoi-shop. Did you mean 'hanoi-shop'?"
    )


# -- secrets never leak ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        "sieu-bi-mat-khong-prefix",  # refused by a validator that echoes the value
        "bí-mật-có-dấu-tiếng-việt",  # non-ASCII secret
    ],
)
def test_a_refused_secret_never_appears_in_the_error(
    tmp_path: Path, plugins: Plugins, token: str
) -> None:
    error = error_for(tmp_path, plugins, SHOP.format(token="${TOKEN}"), env={"TOKEN": token})
    message = str(error)
    assert "key 'channels[0].settings.access_token'" in message
    assert "must start with 'shpat_'" in message
    assert token not in message and token not in repr(error)


def test_secrets_do_not_leak_when_other_settings_are_wrong(
    tmp_path: Path, plugins: Plugins
) -> None:
    text = SHOP.format(token=TOKEN) + "timeout = -5\nsurprise = 1\n"
    error = error_for(tmp_path, plugins, text)
    assert isinstance(error, InvalidConfig) and len(error.problems) == 2
    assert TOKEN not in str(error) and TOKEN not in repr(error)
    assert TOKEN not in repr(error.problems) and TOKEN not in repr(error.__dict__)


def test_a_secret_of_the_wrong_type_is_reported_without_its_value(
    tmp_path: Path, plugins: Plugins
) -> None:
    error = error_for(
        tmp_path, plugins, SHOP.format(token=TOKEN).replace(f'"{TOKEN}"', "987654321987654321")
    )
    assert "key 'channels[0].settings.access_token'" in str(error)
    assert "987654321987654321" not in str(error)


def test_no_error_carries_the_pydantic_input(tmp_path: Path, plugins: Plugins) -> None:
    """Pydantic puts ``input_value=...`` in its messages; none may reach ours."""
    text = SHOP.format(token="wrong-" + TOKEN) + "[channels.allocation]\npercentage = 'lots'\n"
    error = error_for(tmp_path, plugins, text)
    assert not re.search(r"input_value|input_type", str(error))
    assert "wrong-" + TOKEN not in str(error)


def test_problems_of_every_kind_are_reported_together(plugins: Plugins) -> None:
    text = SHOP.format(token=TOKEN).replace('"shopify"', '"shopfy"') + SHOP.format(
        token="bad"
    ).replace("hanoi-shop", "hcm")
    with pytest.raises(InvalidConfig) as caught:
        parse_config(text, source="omnisdk.toml", env={}, plugins=plugins)
    keys = [problem.key for problem in caught.value.problems]
    assert keys == ["channels[0].type", "channels[1].settings.access_token"]
