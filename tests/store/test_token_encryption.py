"""Tokens at rest: Fernet encryption from OMNISDK_TOKEN_KEYS, plain rows still read, key
rotation, and one clear error for a wrong or missing key (never the key itself)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from omnisdk.auth import Token
from omnisdk.store import Store, StoreTokenStore, TokenCipher, TokenKeyError
from omnisdk.store.schema import accounts, tokens

ISSUED = datetime(2025, 1, 28, 1, 0, tzinfo=UTC)  # Tết, 08:00 in Hà Nội
ACCESS = "shpat_truy-cập-bí-mật-01"
REFRESH = "làm-mới-bí-mật-01"
KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()


def _token(access: str = ACCESS, refresh: str = REFRESH) -> Token:
    return Token.lasting(
        access,
        seconds=4 * 3600,
        refresh_token=refresh,
        refresh_seconds=30 * 86400,
        now=ISSUED,
        shop_name="Cửa hàng Áo dài Hà Nội",
    )


@pytest.fixture
def open_with(store_url: str) -> Iterator[Callable[..., Store]]:
    """Opens stores on the test database with the given keys (each its own engine)."""
    opened: list[Store] = []

    def _open(*keys: str) -> Store:
        store = Store(store_url, token_keys=list(keys))
        opened.append(store)
        return store

    yield _open
    for store in opened:
        store.close()


def _raw_rows(store: Store) -> dict[str, dict[str, object]]:
    query = select(accounts.c.name, tokens.c.secrets).join(
        accounts, accounts.c.id == tokens.c.account_id
    )
    with store.session() as session:
        return {row.name: row.secrets for row in session.execute(query)}


def test_with_a_key_the_row_is_encrypted_and_reads_back(open_with: Callable[..., Store]) -> None:
    store = open_with(KEY_A)
    store.write_token("shopee", "shopee-hanoi", _token())
    [row] = _raw_rows(store).values()
    assert list(row) == ["fernet"]
    stored = json.dumps(row, ensure_ascii=False)
    for secret in (ACCESS, REFRESH, "Cửa hàng"):
        assert secret not in stored, "nothing of the token is readable at rest"
    assert store.read_token("shopee", "shopee-hanoi") == _token()
    # The same key in another process (another Store) reads it too.
    assert open_with(KEY_A).read_token("shopee", "shopee-hanoi") == _token()


def test_tokens_stored_before_encryption_still_read_and_are_sealed_on_write(
    open_with: Callable[..., Store],
) -> None:
    open_with().write_token("shopee", "shopee-hanoi", _token())
    open_with().write_token("shopify", "shopify-hcm", _token("shpat_hcm", "r-hcm"))
    encrypting = open_with(KEY_A)
    assert encrypting.read_token("shopee", "shopee-hanoi") == _token()
    assert "access_token" in _raw_rows(encrypting)["shopee-hanoi"]  # reading changes nothing

    encrypting.write_token("shopee", "shopee-hanoi", _token("access-2", "refresh-2"))
    rows = _raw_rows(encrypting)
    assert list(rows["shopee-hanoi"]) == ["fernet"] and "access_token" in rows["shopify-hcm"]
    assert encrypting.reencrypt_tokens() == 1, "only the plain row needed rewriting"
    assert all(list(row) == ["fernet"] for row in _raw_rows(encrypting).values())
    assert encrypting.reencrypt_tokens() == 0
    hcm = encrypting.read_token("shopify", "shopify-hcm")
    assert hcm is not None and hcm.access_token.get_secret_value() == "shpat_hcm"


def test_keys_rotate_new_key_first_then_the_old_one_is_dropped(
    open_with: Callable[..., Store],
) -> None:
    open_with(KEY_A).write_token("shopee", "shopee-hanoi", _token())
    rotating = open_with(KEY_B, KEY_A)
    assert rotating.read_token("shopee", "shopee-hanoi") == _token()
    assert rotating.reencrypt_tokens() == 1
    assert open_with(KEY_B).read_token("shopee", "shopee-hanoi") == _token()
    with pytest.raises(TokenKeyError, match="none of the 1 key"):
        open_with(KEY_A).read_token("shopee", "shopee-hanoi")


def test_a_wrong_or_missing_key_is_one_clear_error_without_the_key(
    open_with: Callable[..., Store],
) -> None:
    open_with(KEY_A).write_token("shopee", "shopee-hanoi", _token())
    with pytest.raises(TokenKeyError) as wrong:
        open_with(KEY_B).read_token("shopee", "shopee-hanoi")
    message = str(wrong.value)
    assert "\n" not in message
    assert "cannot decrypt the stored token of account 'shopee-hanoi'" in message
    assert "OMNISDK_TOKEN_KEYS" in message
    assert KEY_A not in message and KEY_B not in message
    assert wrong.value.__cause__ is None and wrong.value.__suppress_context__

    with pytest.raises(TokenKeyError, match="encrypted but OMNISDK_TOKEN_KEYS is not set"):
        open_with().read_token("shopee", "shopee-hanoi")
    with pytest.raises(TokenKeyError, match="is not set"):
        open_with().reencrypt_tokens()


async def test_the_token_store_protocol_works_encrypted(open_with: Callable[..., Store]) -> None:
    token_store = StoreTokenStore(open_with(KEY_A))
    await token_store.save_token("shopee", "shopee-hanoi", _token())
    assert await token_store.load_token("shopee", "shopee-hanoi") == _token()


@pytest.mark.parametrize("bad", ["not-a-key", "", "ZmFrZQ==", "ключ-не-ascii"])
def test_a_malformed_key_names_its_position_never_its_value(bad: str) -> None:
    keys = f"{KEY_A},{bad}" if bad else f"{KEY_A},{'x' * 44}"
    with pytest.raises(TokenKeyError) as refused:
        TokenCipher.from_environment({"OMNISDK_TOKEN_KEYS": keys})
    message = str(refused.value)
    assert "key 2 of 2 is not a Fernet key" in message and "generate_key" in message
    assert KEY_A not in message and (not bad or bad not in message)


def test_the_keys_come_from_the_environment(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMNISDK_TOKEN_KEYS", f" {KEY_A} , ")
    store = Store(store_url)
    try:
        assert store.token_cipher.enabled and store.token_cipher.key_count == 1
        assert KEY_A not in repr(store.token_cipher) and KEY_A not in repr(store)
        store.write_token("shopee", "shopee-hanoi", _token())
        assert list(_raw_rows(store)["shopee-hanoi"]) == ["fernet"]
    finally:
        store.close()
    monkeypatch.delenv("OMNISDK_TOKEN_KEYS")
    assert not TokenCipher.from_environment().enabled
