"""The stores in the stock pool: a branch's shelf is its own, online gets what is allocated.

A counter sale cannot be refused: the customer holds the item. So a store's stock is split
in two by the merchant's configuration, never by luck:

- the online channels fed by a branch (``[channels.allocation] locations`` naming the
  branch's location code) may hold together at most what their rules allow:
  ``percentage`` of the branch's free units each (or ``maximum`` units);
- the rest is the shelf's own. The engine's quota allocation keeps what the online accounts
  hold within the free stock, so whatever the cashier sells from the shelf's share, and
  however buyers interleave online, no online sale oversells.

:func:`online_share` says how much of a branch the online accounts may hold together, and
:func:`check_store_allocation` refuses a configuration that leaves a branch's shelf less
than the merchant wants. :func:`count_into_engine` records the POS's own counts as the
engine's on-hand per branch (the starting point; the POS's sales move it afterwards).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from omnisdk.config import Config
from omnisdk.errors import ConfigError
from omnisdk.sync import Engine

__all__ = ["OnlineShare", "check_store_allocation", "count_into_engine", "online_share"]


@dataclass(frozen=True)
class OnlineShare:
    """What the online accounts fed by one branch may hold of it, together.

    ``percentage``: the sum of their percentages (capped at 100); ``maximum``: the sum of
    their maximums, None when one of them has none; ``accounts``: who they are.
    """

    location: str
    percentage: Decimal
    maximum: int | None
    accounts: tuple[str, ...]

    @property
    def shelf_percentage(self) -> Decimal:
        """The share of the branch's free units the shelf keeps, at least."""
        return Decimal(100) - self.percentage


def online_share(
    config: Config, location: str, *, pos_types: tuple[str, ...] = ("pos",)
) -> OnlineShare:
    """How much of branch ``location`` the non-POS accounts may hold together."""
    percentage = Decimal(0)
    maximum: int | None = 0
    accounts = []
    for entry in config.channels:
        if entry.type in pos_types:
            continue
        feeds = entry.allocation.locations
        if feeds is not None and location not in feeds:
            continue
        accounts.append(entry.name)
        percentage += entry.allocation.percentage
        if maximum is not None:
            rule_max = entry.allocation.maximum
            maximum = None if rule_max is None else maximum + rule_max
    return OnlineShare(location, min(percentage, Decimal(100)), maximum, tuple(accounts))


def check_store_allocation(
    config: Config, locations: list[str], *, shelf_percentage: Decimal
) -> None:
    """Raise :class:`~omnisdk.errors.ConfigError` when a branch's shelf could keep less than
    ``shelf_percentage`` of its free units (the online rules claim too much of it)."""
    problems = []
    for location in locations:
        share = online_share(config, location)
        if share.accounts and share.shelf_percentage < shelf_percentage:
            problems.append(
                f"{location}: {', '.join(share.accounts)} may hold {share.percentage}% of it "
                f"together, leaving the shelf {share.shelf_percentage}% (wanted at least "
                f"{shelf_percentage}%); lower their [channels.allocation] percentage or feed "
                "them from other locations"
            )
    if problems:
        raise ConfigError("store stock over-allocated online: " + "; ".join(problems))


async def count_into_engine(
    engine: Engine, account: str, *, run: str, reason: str = "POS count"
) -> int:
    """Record the POS ``account``'s stock counts (per SKU and branch) as the engine's on-hand
    at each branch's location; how many counts were recorded.

    Run it once when the stores join (or after a full stock take): afterwards the POS's
    invoices and orders move the engine's figures, and counting again would be a stock
    take that overrides them. ``run`` names this stock take (e.g. its date): each count's
    idempotency key includes it, so repeating the same run changes nothing twice.
    """
    channel = engine.channel(account)
    recorded = 0
    async for level in channel.stream_stock():
        location = level.location or ""
        await engine.set_stock(
            level.sku,
            level.on_hand,
            location=location,
            reason=reason,
            key=f"pos-count:{account}:{run}:{level.sku}:{location}",
        )
        recorded += 1
    return recorded
