"""An account's authorisation refusals in a row, kept in the store (migration 0008)."""

from __future__ import annotations

from datetime import datetime

from omnisdk.store.accounts import AccountsMixin

__all__ = ["StoreRefusalCount"]


class StoreRefusalCount:
    """:class:`~omnisdk.refusals.RefusalCount` of ``account`` in ``store``: every process
    and worker on the store adds to the same count (``omnisdk_accounts.auth_refusals``)."""

    def __init__(self, store: AccountsMixin, account: str) -> None:
        self.store = store
        self.account = account

    def __repr__(self) -> str:
        return f"<StoreRefusalCount account={self.account!r}>"

    def load(self) -> int:
        """The stored count."""
        return self.store.auth_refusals(self.account)

    def add(self, started: datetime, now: datetime) -> int | None:
        """See :meth:`AccountsMixin.add_auth_refusal`."""
        return self.store.add_auth_refusal(self.account, started=started, now=now)

    def reset(self) -> None:
        """Back to 0 (no write when it is 0 already)."""
        self.store.reset_auth_refusals(self.account)
