"""``omnisdk tokens reencrypt``: key rotation from the command line, one line on a bad key."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from _engine_cli_testkit import Invoke
from cryptography.fernet import Fernet

from omnisdk.auth import Token
from omnisdk.config import load_config
from omnisdk.store import Store
from omnisdk.store.token_keys import TOKEN_KEYS_ENV, TokenKeyError

KEY_OLD = Fernet.generate_key().decode()
KEY_NEW = Fernet.generate_key().decode()
ACCESS = "truy-cập-bí-mật-hà-nội"


@pytest.fixture
def store_url(config_path: Path) -> str:
    """The SQLite store of the two-shop config, with one plain token in it."""
    url = load_config(config_path).store.url
    store = Store(url, token_keys=[])
    try:
        store.migrate()
        token = Token.lasting(ACCESS, seconds=3600, now=datetime(2026, 1, 1, tzinfo=UTC))
        store.write_token("example", "hanoi-shop", token)
    finally:
        store.close()
    return url


def _read(url: str, *keys: str) -> str:
    store = Store(url, token_keys=list(keys))
    try:
        token = store.read_token("example", "hanoi-shop")
    finally:
        store.close()
    assert token is not None
    return token.access_token.get_secret_value()


def test_a_plain_token_is_sealed_then_the_run_again_changes_nothing(
    invoke: Invoke, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_KEYS_ENV, KEY_OLD)

    first = invoke("tokens", "reencrypt")
    again = invoke("tokens", "reencrypt")

    assert first.exit_code == 0, first.output
    assert "Re-encrypted 1 token " in first.stdout
    assert again.exit_code == 0 and "already sealed" in again.stdout
    assert _read(store_url, KEY_OLD) == ACCESS
    with pytest.raises(TokenKeyError, match=TOKEN_KEYS_ENV):
        _read(store_url)


def test_rotation_new_key_first_then_the_old_key_can_go(
    invoke: Invoke, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_KEYS_ENV, KEY_OLD)
    assert invoke("tokens", "reencrypt").exit_code == 0
    monkeypatch.setenv(TOKEN_KEYS_ENV, f"{KEY_NEW},{KEY_OLD}")

    rotated = invoke("tokens", "reencrypt")

    assert rotated.exit_code == 0 and "Re-encrypted 1 token " in rotated.stdout
    assert _read(store_url, KEY_NEW) == ACCESS


def test_without_a_key_or_with_a_bad_one_it_says_so_in_one_line_never_the_key(
    invoke: Invoke, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TOKEN_KEYS_ENV, raising=False)
    missing = invoke("tokens", "reencrypt")
    monkeypatch.setenv(TOKEN_KEYS_ENV, "not-a-fernet-key-bí-mật")
    malformed = invoke("tokens", "reencrypt")

    assert missing.exit_code == 1 and "is not set" in missing.output
    assert malformed.exit_code == 1 and "is not a Fernet key" in malformed.output
    for result in (missing, malformed):
        assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert "bí-mật" not in malformed.output
    assert _read(store_url) == ACCESS, "nothing was rewritten"
