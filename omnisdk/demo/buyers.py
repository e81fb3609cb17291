"""The demo's buyers: each shops on one channel through its sandbox, at a human pace.

A buyer picks a SKU (the scarce ones three times as often: they are what sells out), one
unit or two, and orders through the sandbox's control API as a customer would on the
platform. A channel refuses an order (HTTP 409) when its listed stock is short: that is the
system working, the engine told it the stock was gone.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass, field

from omnisdk.demo.scenario import BUYERS, DemoItem
from omnisdk.demo.shops import DemoChannel
from omnisdk.errors import OmnisdkError

__all__ = ["SCARCE", "BuyerTally", "shop"]

logger = logging.getLogger("omnisdk.demo")

SCARCE = 5
"""An item starting with this many units or fewer is scarce: popular, bought one at a time."""


@dataclass
class BuyerTally:
    """What the buyers of one channel did: orders taken, refused (409) and failed."""

    accepted: int = 0
    refused: int = 0
    errors: int = 0
    units: dict[str, int] = field(default_factory=dict)


async def shop(
    channel: DemoChannel,
    catalog: list[DemoItem],
    tally: BuyerTally,
    *,
    rng: random.Random,
    deadline: float,
    pause: tuple[float, float],
) -> None:
    """One buyer ordering on ``channel`` until ``deadline`` (``time.monotonic``), counting
    into ``tally``; ``pause`` is the range of seconds between two orders."""
    from omnisdk.testing.control import SandboxRefused

    weights = [3.0 if item.stock <= SCARCE else 1.0 for item in catalog]
    await asyncio.sleep(rng.uniform(0, pause[1]))  # buyers arrive one by one, not in a burst
    while time.monotonic() < deadline:
        item = rng.choices(catalog, weights)[0]
        quantity = 1 if item.stock <= SCARCE or rng.random() < 0.7 else 2
        name, phone = rng.choice(BUYERS)
        try:
            await channel.control.place_order(
                [(item.sku, quantity)], customer={"name": name, "phone": phone}
            )
        except SandboxRefused as refusal:
            if refusal.status == 409:
                tally.refused += 1
            else:
                tally.errors += 1
                logger.warning("%s refused an order: %s", channel.account, refusal)
        except OmnisdkError as exc:  # pragma: no cover - the control client raises httpx errors
            tally.errors += 1
            logger.warning("%s: %s", channel.account, exc)
        except Exception as exc:
            tally.errors += 1
            logger.warning("%s: order failed: %s: %s", channel.account, type(exc).__name__, exc)
        else:
            logger.debug("%s: ordered %d x %s", channel.account, quantity, item.sku)
            tally.accepted += 1
            tally.units[item.sku] = tally.units.get(item.sku, 0) + quantity
        await asyncio.sleep(max(min(rng.uniform(*pause), deadline - time.monotonic()), 0))
