"""Taking a channel's listed figures as the first stock count (``catalog import --with-stock``).

A shop that has sold on one channel for years has its stock there and nowhere else: after
``catalog import`` the engine knows the SKUs but holds no stock for them, so it lists 0
everywhere and reconciliation leaves them "untracked". This reads what the account lists
now and records it as the count of every SKU that has no stock recorded at any location,
at the location the account's orders reserve at. A SKU already counted keeps its count (a
person's count is the truth, a listed figure only a guess), and each count has a key per
account and SKU, so taking them again changes nothing.
"""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel, ConfigDict, Field

from omnisdk.channel import Capability
from omnisdk.errors import UsageError
from omnisdk.store import MovementKind, Transaction
from omnisdk.sync.catalog.view import listed_levels
from omnisdk.sync.context import SyncContext
from omnisdk.sync.stock import bounded_key, mark_levels_changed
from omnisdk.sync.transactions import Fired, in_transaction

__all__ = ["FirstCountStats", "count_listed_stock"]


class FirstCountStats(BaseModel):
    """What taking ``account``'s listed figures as first counts did.

    ``counted`` SKUs got their listed figure as on hand at ``location`` (``units`` in all);
    ``kept`` already had stock recorded (left as they are); ``read`` figures were listed.
    """

    model_config = ConfigDict(extra="forbid")

    account: str
    location: str
    read: int = 0
    counted: int = 0
    units: int = 0
    kept: list[str] = Field(default_factory=list)


async def count_listed_stock(context: SyncContext, account: str) -> FirstCountStats:
    """Record what ``account`` lists of each SKU as its first count (see the module doc)."""
    channel = context.channel(account)
    if Capability.READ_STOCK not in channel.capabilities:
        raise UsageError(f"{account!r} cannot report its listed stock; count it with stock set")
    location = context.location_of(account)
    listed: dict[str, int] = defaultdict(int)
    async for level in listed_levels(channel, None):
        listed[level.sku] += level.on_hand
    stats = FirstCountStats(account=account, location=location, read=len(listed))
    fired = Fired()
    store = context.store

    def work(session: Transaction) -> None:
        fired.calls.clear()
        stats.counted, stats.units, stats.kept = 0, 0, []
        changed: list[tuple[str, str]] = []
        for sku, quantity in sorted(listed.items()):
            if store.stock_levels(sku, session=session):
                stats.kept.append(sku)
                continue
            if store.record_count(
                session,
                key=bounded_key(f"first-count:{account}:{sku}"),
                sku=sku,
                location=location,
                counted=max(quantity, 0),
                reference=bounded_key(f"listed on {account}"),
            ):
                stats.counted += 1
                stats.units += max(quantity, 0)
                changed.append((sku, location))
        if changed:
            mark_levels_changed(context, session, changed, MovementKind.COUNT.value, fired)

    await context.run(in_transaction, store, work)
    fired.fire(context)
    return stats
