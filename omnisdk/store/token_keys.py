"""Tokens at rest: optional encryption of the stored token rows (Fernet, with key rotation).

Set ``OMNISDK_TOKEN_KEYS`` to one or more Fernet keys, comma-separated, and every token the
store writes is encrypted with the **first** key; a row encrypted with any of the listed keys
can be read (``MultiFernet``), so a key is rotated by putting the new one first, keeping the
old one after it until :meth:`~omnisdk.store.Store.reencrypt_tokens` has rewritten every row,
then dropping it. Make a key with::

    python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"

Rows stored before encryption was switched on stay readable and are encrypted the next time
they are written (a refresh) or by ``reencrypt_tokens``. An encrypted row that no listed key
opens, or any encrypted row while no key is set, is one clear :class:`TokenKeyError`; key
values never appear in errors, logs or reprs.

An encrypted row is the JSON object ``{"fernet": "<token>"}``, the Fernet token of the plain
row's JSON (``Token.dump_secrets()``), so the table's shape does not change.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

from omnisdk.errors import StoreError

__all__ = ["ENCRYPTED_FIELD", "TOKEN_KEYS_ENV", "TokenCipher", "TokenKeyError"]

TOKEN_KEYS_ENV = "OMNISDK_TOKEN_KEYS"  # noqa: S105 (a variable name, not a secret)
"""The environment variable holding the Fernet keys (comma-separated, the first encrypts)."""

ENCRYPTED_FIELD = "fernet"
"""The one key of an encrypted token row."""

_MAKE_A_KEY = (
    "make one with: python -c \"from cryptography.fernet import Fernet; "
    'print(Fernet.generate_key().decode())"'
)


class TokenKeyError(StoreError):
    """The token encryption keys are unusable, or a stored token cannot be decrypted."""


class TokenCipher:
    """Encrypts and decrypts token rows with the configured keys (none: rows stay plain).

    ``keys`` are Fernet keys, the first one encrypting; :meth:`from_environment` reads them
    from ``OMNISDK_TOKEN_KEYS``.
    """

    def __init__(self, keys: Sequence[str] = ()) -> None:
        cleaned = [key.strip() for key in keys if key.strip()]
        self._fernet: Any = None
        self._first: Any = None
        self.key_count = len(cleaned)
        """How many keys are configured (0: encryption is off)."""
        if not cleaned:
            return
        try:
            from cryptography.fernet import Fernet, MultiFernet
        except ImportError:  # pragma: no cover - a core dependency
            raise TokenKeyError(
                f"{TOKEN_KEYS_ENV} is set but the cryptography package is missing: "
                "pip install cryptography"
            ) from None
        fernets = []
        for position, key in enumerate(cleaned, start=1):
            try:
                fernets.append(Fernet(key.encode("ascii")))
            except (ValueError, UnicodeEncodeError):
                # Never show the key: say which one and what a key looks like.
                raise TokenKeyError(
                    f"{TOKEN_KEYS_ENV}: key {position} of {len(cleaned)} is not a Fernet key "
                    f"(32 url-safe base64-encoded bytes); {_MAKE_A_KEY}"
                ) from None
        self._fernet = MultiFernet(fernets)
        self._first = fernets[0]

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> TokenCipher:
        """The cipher of ``OMNISDK_TOKEN_KEYS`` (unset or empty: encryption off)."""
        value = (environ if environ is not None else os.environ).get(TOKEN_KEYS_ENV, "")
        return cls(value.split(","))

    @property
    def enabled(self) -> bool:
        """True when tokens are written encrypted."""
        return self._fernet is not None

    def __repr__(self) -> str:
        return f"TokenCipher(keys={self.key_count})"

    @staticmethod
    def is_encrypted(row: Mapping[str, Any]) -> bool:
        """True for a row written encrypted."""
        return set(row) == {ENCRYPTED_FIELD}

    def seal(self, secrets: Mapping[str, Any]) -> dict[str, Any]:
        """The row to store for ``secrets``: encrypted with the first key, or as is."""
        if self._fernet is None:
            return dict(secrets)
        plain = json.dumps(dict(secrets), ensure_ascii=False, separators=(",", ":"))
        return {ENCRYPTED_FIELD: self._fernet.encrypt(plain.encode("utf-8")).decode("ascii")}

    def open(self, row: Mapping[str, Any], *, account: str) -> dict[str, Any]:
        """The plain secrets of a stored row (a plain row is returned as it is)."""
        if not self.is_encrypted(row):
            return dict(row)
        if self._fernet is None:
            raise TokenKeyError(
                f"the stored token of account {account!r} is encrypted but {TOKEN_KEYS_ENV} "
                "is not set: set it to the key it was encrypted with"
            )
        from cryptography.fernet import InvalidToken

        try:
            plain = self._fernet.decrypt(str(row[ENCRYPTED_FIELD]).encode("ascii"))
        except (InvalidToken, UnicodeEncodeError):
            raise TokenKeyError(
                f"cannot decrypt the stored token of account {account!r}: none of the "
                f"{self.key_count} key(s) in {TOKEN_KEYS_ENV} opens it (it was encrypted with "
                "another key: add that key after the first one)"
            ) from None
        secrets: dict[str, Any] = json.loads(plain)
        return secrets

    def needs_rewrite(self, row: Mapping[str, Any]) -> bool:
        """True when ``row`` is not sealed with the first key (plain, or an older key)."""
        if self._fernet is None:
            return False
        if not self.is_encrypted(row):
            return True
        from cryptography.fernet import InvalidToken

        try:
            self._first.decrypt(str(row[ENCRYPTED_FIELD]).encode("ascii"))
        except (InvalidToken, UnicodeEncodeError):
            return True
        return False
