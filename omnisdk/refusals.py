"""Where an account's authorisation refusals in a row are counted.

:class:`~omnisdk.http.HttpClient` turns ``reauth_after`` refusals in a row into
:class:`~omnisdk.errors.ReauthorisationRequired`. Counted in one process only, a cron
``omnisdk sync --once`` starts from 0 each time and rarely gets there; the engine therefore
hands each channel a :class:`RefusalCount` kept in the store (``omnisdk_accounts.auth_refusals``),
which every process and worker of that store adds to and any success resets.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

__all__ = ["RefusalCount", "RefusalCountFactory"]


class RefusalCount(Protocol):
    """An account's authorisation refusals in a row, shared beyond one HTTP client.

    Synchronous (the HTTP client calls it through :func:`asyncio.to_thread`, and only when a
    request was refused, when the first request succeeds after one, or every few seconds).
    """

    def load(self) -> int:
        """The current count."""
        ...

    def add(self, started: datetime, now: datetime) -> int | None:
        """Count a refusal of a request sent at ``started`` and refused at ``now`` (aware
        UTC); the new count, or None when a refusal seen after ``started`` was counted
        already (requests in flight together, in any process, bring one piece of evidence:
        an access token that just expired refuses all of them)."""
        ...

    def reset(self) -> None:
        """A request succeeded: back to 0."""
        ...


RefusalCountFactory = Callable[[str, str], RefusalCount]
"""Builds the :class:`RefusalCount` of ``(channel type, account)``."""
