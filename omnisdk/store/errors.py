"""Errors the store raises; all are :class:`omnisdk.errors.StoreError`."""

from __future__ import annotations

from omnisdk.errors import StoreError

__all__ = ["BindingConflict", "SchemaOutOfDate", "UnknownAccount"]


class UnknownAccount(StoreError):
    """The channel account named is not registered (call ``Store.ensure_account`` first)."""

    def __init__(self, account: str):
        self.account = account
        super().__init__(
            f"channel account {account!r} is not registered in the store: "
            "call ensure_account(name, channel) first"
        )


class BindingConflict(StoreError):
    """A binding would break uniqueness: the canonical or the external id is bound elsewhere."""


class SchemaOutOfDate(StoreError):
    """The database schema is not at the revision this version of omnisdk expects."""

    def __init__(self, current: str | None, expected: str):
        self.current = current
        self.expected = expected
        found = f"revision {current}" if current else "no omnisdk tables"
        super().__init__(
            f"the store database has {found} but this omnisdk needs revision {expected}: "
            "run Store.migrate() (or open_store(url, migrate=True))"
        )
