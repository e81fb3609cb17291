"""A flash sale against sandboxes: many buyers on every channel at once, no pause between orders.

:func:`run_flash_sale` drives the buyers and watches the listings; whoever calls it runs the
engine meanwhile (the local runtime, as ``omnisdk run`` does) and judges the outcome. It
works on the sandboxes in this process (their listings are read directly, under their lock,
at the moment a buyer is refused) and places orders through each sandbox's control API.

Every buyer loops: pick a random SKU of the sale, order one or two units, record the answer.
A refusal (409, out of stock) also records whether another channel listed that SKU at that
moment: a unit the engine kept on a channel where nobody bought it. A watcher samples every
listing every few milliseconds and times each *starvation*: a channel listing 0 of a SKU
while units of it remain unsold somewhere, until it lists some again (the time to
rebalance). The sale ends once no order was accepted anywhere for a while.

::

    outcome = await run_flash_sale(sandboxes, controls, {"ÁO-DÀI-LỤA-01": 4, ...})
    assert outcome.oversold == 0, outcome.oversold_by_sku()
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from omnisdk.testing.control import SandboxControl, SandboxRefused
from omnisdk.testing.sandbox import Sandbox

__all__ = [
    "FlashSaleOutcome",
    "Sale",
    "Starvation",
    "flash_catalog",
    "percentile",
    "run_flash_sale",
]

PRODUCTS = (
    "Áo dài lụa tơ tằm",
    "Nón lá Huế",
    "Cà phê Buôn Ma Thuột",
    "Nước mắm Phú Quốc",
    "Trà Shan tuyết",
    "Gốm Bát Tràng",
    "Khăn rằn Nam Bộ",
    "Túi cói Thái Bình",
    "Bánh pía Sóc Trăng",
    "Mật ong rừng U Minh",
    "Lụa Vạn Phúc",
    "Đũa tre Hội An",
)
"""Product titles of the sale (diacritics on purpose: SKUs are made from them)."""


def flash_catalog(skus: int = 10, units: tuple[int, ...] = (3, 4, 5)) -> dict[str, int]:
    """``skus`` SKUs with Vietnamese diacritics (``ÁO-DÀI-LỤA-TƠ-TẰM-01``), units cycling
    through ``units``: SKU -> units in stock."""
    catalog: dict[str, int] = {}
    for index in range(skus):
        title = PRODUCTS[index % len(PRODUCTS)]
        sku = "-".join(title.upper().split()) + f"-{index + 1:02d}"
        catalog[sku] = units[index % len(units)]
    return catalog


def title_of(sku: str) -> str:
    """The product title a :func:`flash_catalog` SKU was made from."""
    words = sku.split("-")[:-1]
    return " ".join(words).capitalize()


@dataclass(frozen=True)
class Sale:
    """An order a channel accepted: ``quantity`` units of ``sku`` for ``customer``."""

    account: str
    order_id: str
    sku: str
    quantity: int
    customer: Mapping[str, str]
    at: float
    """When the channel answered (``time.monotonic()``)."""


@dataclass
class Starvation:
    """A channel listing 0 of a SKU while units of it remained unsold somewhere.

    ``refilled`` is when it listed some again (None: it never did, or the units ran out
    first, see ``ran_out``).
    """

    account: str
    sku: str
    started: float
    refilled: float | None = None
    ran_out: bool = False

    @property
    def wait(self) -> float | None:
        """Seconds until the channel listed the SKU again (None when it never did)."""
        return None if self.refilled is None else self.refilled - self.started


@dataclass
class FlashSaleOutcome:
    """What happened in one flash sale (see the module doc)."""

    stock: dict[str, int]
    accounts: list[str]
    sales: list[Sale] = field(default_factory=list)
    attempts: int = 0
    refused: int = 0
    refused_elsewhere: int = 0
    """Refusals while another channel listed more than 0 of the SKU asked for."""
    starvations: list[Starvation] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0

    @property
    def duration(self) -> float:
        """Seconds the buyers were buying."""
        return self.ended - self.started

    def sold(self, sku: str) -> int:
        """Units of ``sku`` the channels accepted orders for, over every channel."""
        return sum(sale.quantity for sale in self.sales if sale.sku == sku)

    def oversold_by_sku(self) -> dict[str, int]:
        """Units accepted beyond the stock, per SKU that was oversold."""
        over = {sku: self.sold(sku) - units for sku, units in self.stock.items()}
        return {sku: extra for sku, extra in over.items() if extra > 0}

    @property
    def oversold(self) -> int:
        """Units accepted beyond the stock, over every SKU."""
        return sum(self.oversold_by_sku().values())

    @property
    def units_accepted(self) -> int:
        """Units of every accepted order (oversold ones included)."""
        return sum(sale.quantity for sale in self.sales)

    @property
    def units_sold(self) -> int:
        """Units sold that existed: per SKU, accepted units up to its stock."""
        return sum(min(self.sold(sku), units) for sku, units in self.stock.items())

    @property
    def units(self) -> int:
        """Units on sale at the start."""
        return sum(self.stock.values())

    @property
    def offered_rate(self) -> float:
        """Orders offered (accepted or refused) per second."""
        return self.attempts / self.duration if self.duration > 0 else 0.0

    def rebalance_waits(self) -> list[float]:
        """Seconds each starvation lasted until the channel listed the SKU again."""
        return [wait for s in self.starvations if (wait := s.wait) is not None]

    def timeline(self, sku: str) -> list[str]:
        """The sales and starvations of ``sku`` in time order, for failure messages."""
        events: list[tuple[float, str]] = [
            (s.at, f"+{s.at - self.started:.3f}s {s.account} sold {s.quantity} ({s.order_id})")
            for s in self.sales
            if s.sku == sku
        ]
        for gap in self.starvations:
            if gap.sku != sku:
                continue
            end = (
                f"refilled after {gap.wait:.3f}s"
                if gap.wait is not None
                else ("until the units ran out" if gap.ran_out else "until the end")
            )
            events.append(
                (gap.started, f"+{gap.started - self.started:.3f}s {gap.account} at 0, {end}")
            )
        return [text for _, text in sorted(events)]


def percentile(values: list[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) of ``values`` by linear interpolation (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _listed(sandbox: Sandbox) -> dict[str, int]:
    with sandbox.lock:
        return {str(entry["sku"]): int(entry["stock"]) for entry in sandbox.listings()}


class _Watcher:
    """Samples every listing and keeps the starvations (see :class:`Starvation`)."""

    def __init__(self, outcome: FlashSaleOutcome, sandboxes: Mapping[str, Sandbox]) -> None:
        self.outcome = outcome
        self.sandboxes = sandboxes
        self.open: dict[tuple[str, str], Starvation] = {}

    def remaining(self, sku: str) -> int:
        return self.outcome.stock[sku] - self.outcome.sold(sku)

    def sample(self) -> None:
        now = time.monotonic()
        remaining = {sku: self.remaining(sku) for sku in self.outcome.stock}
        for account, sandbox in self.sandboxes.items():
            listed = _listed(sandbox)
            for sku, left in remaining.items():
                key = (account, sku)
                gap = self.open.get(key)
                shown = listed.get(sku, 0)
                if gap is not None and shown > 0:
                    gap.refilled = now
                    del self.open[key]
                elif gap is not None and left <= 0:
                    gap.ran_out = True
                    del self.open[key]
                elif gap is None and shown == 0 and left > 0:
                    gap = Starvation(account=account, sku=sku, started=now)
                    self.open[key] = gap
                    self.outcome.starvations.append(gap)

    async def run(self, every: float, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.sample()
            await asyncio.sleep(every)
        self.sample()


async def run_flash_sale(
    sandboxes: Mapping[str, Sandbox],
    stock: Mapping[str, int],
    *,
    buyers: int | Mapping[str, int] = 8,
    seed: int = 1111,
    quiet: float = 2.0,
    sold_out_quiet: float = 0.3,
    limit: float = 15.0,
    sample_every: float = 0.005,
) -> FlashSaleOutcome:
    """Run a flash sale of ``stock`` (SKU -> units, already listed) on every sandbox.

    ``buyers`` per account (a number for all, or per account) order one or two units of a
    random SKU, again and again with no pause, through each sandbox's control API. The sale
    ends once no order was accepted for ``quiet`` seconds (``sold_out_quiet`` once every unit
    is accounted for and every channel lists 0) or after ``limit`` seconds. Any refusal other
    than out of stock (409) is raised.

    The buyers run on an event loop of their own, in a thread of their own, as buyers are
    not in the engine's process: a loop shared with the engine would leave it a turn in 25.
    Meanwhile the caller's loop is free to run the engine.
    """
    sale = _Sale(sandboxes, stock, buyers, seed, quiet, sold_out_quiet, limit, sample_every)
    loop = asyncio.get_running_loop()
    done: asyncio.Future[FlashSaleOutcome] = loop.create_future()

    def settle(result: FlashSaleOutcome | None, error: BaseException | None) -> None:
        if done.cancelled():
            return
        if error is not None:
            done.set_exception(error)
        else:
            assert result is not None
            done.set_result(result)

    def body() -> None:
        try:
            result = asyncio.run(sale.run())
        except BaseException as exc:  # handed to the awaiting loop
            loop.call_soon_threadsafe(settle, None, exc)
        else:
            loop.call_soon_threadsafe(settle, result, None)

    thread = threading.Thread(target=body, name="omnisdk-flash-sale-buyers", daemon=True)
    thread.start()
    try:
        return await done
    finally:
        sale.halt.set()
        await asyncio.to_thread(thread.join, limit + 10)


class _Sale:
    """One flash sale, run by :func:`run_flash_sale` on the buyers' own loop."""

    def __init__(
        self,
        sandboxes: Mapping[str, Sandbox],
        stock: Mapping[str, int],
        buyers: int | Mapping[str, int],
        seed: int,
        quiet: float,
        sold_out_quiet: float,
        limit: float,
        sample_every: float,
    ) -> None:
        self.sandboxes = dict(sandboxes)
        self.accounts = list(sandboxes)
        self.outcome = FlashSaleOutcome(stock=dict(stock), accounts=self.accounts)
        self.skus = list(stock)
        self.counts = (
            dict(buyers) if isinstance(buyers, Mapping) else dict.fromkeys(self.accounts, buyers)
        )
        self.seed = seed
        self.quiet = quiet
        self.sold_out_quiet = sold_out_quiet
        self.limit = limit
        self.sample_every = sample_every
        self.halt = threading.Event()
        """Set from outside to end the sale early (the caller was cancelled)."""
        self.last_sale = 0.0

    def elsewhere(self, account: str, sku: str) -> bool:
        """True when a channel other than ``account`` lists ``sku`` now."""
        return any(
            _listed(sandbox).get(sku, 0) > 0
            for other, sandbox in self.sandboxes.items()
            if other != account
        )

    def sold_out(self, watcher: _Watcher) -> bool:
        """Every unit is accounted for and no channel lists anything."""
        return all(watcher.remaining(sku) <= 0 for sku in self.skus) and not any(
            any(_listed(sandbox).values()) for sandbox in self.sandboxes.values()
        )

    async def buyer(self, control: SandboxControl, account: str, index: int) -> None:
        """One buyer on ``account``, ordering until told to stop."""
        outcome = self.outcome
        rng = random.Random(f"{self.seed}:{account}:{index}")
        customer = {
            "name": f"Khách {index + 1} của {account}",
            "phone": f"+849{rng.randrange(10**7, 10**8)}",
            "email": f"khach{index + 1}.{account}@example.vn",
        }
        while not self.stop.is_set():
            sku = rng.choice(self.skus)
            quantity = rng.choice((1, 2))
            outcome.attempts += 1
            try:
                order_id = await control.place_order([(sku, quantity)], customer=customer)
            except SandboxRefused as refused:
                if refused.status != 409:
                    raise
                outcome.refused += 1
                if self.elsewhere(account, sku):
                    outcome.refused_elsewhere += 1
            else:
                self.last_sale = time.monotonic()
                outcome.sales.append(
                    Sale(account, order_id, sku, quantity, dict(customer), self.last_sale)
                )
            await asyncio.sleep(0)  # no pause, but let the other buyers in

    async def referee(self, watcher: _Watcher) -> None:
        """Ends the sale (see :func:`run_flash_sale`)."""
        while not self.halt.is_set():
            await asyncio.sleep(0.05)
            now = time.monotonic()
            idle = now - self.last_sale
            if (
                now - self.outcome.started > self.limit
                or idle > self.quiet
                or (idle > self.sold_out_quiet and self.sold_out(watcher))
            ):
                break
        self.stop.set()

    async def run(self) -> FlashSaleOutcome:
        """Sell until the referee ends the sale; returns the outcome."""
        self.stop = asyncio.Event()
        watcher = _Watcher(self.outcome, self.sandboxes)
        controls = {a: SandboxControl.for_sandbox(s) for a, s in self.sandboxes.items()}
        self.outcome.started = self.last_sale = time.monotonic()
        watching = asyncio.create_task(watcher.run(self.sample_every, self.stop))
        tasks = [
            asyncio.create_task(self.buyer(controls[account], account, index))
            for account in self.accounts
            for index in range(self.counts.get(account, 0))
        ]
        try:
            refereeing = asyncio.create_task(self.referee(watcher))
            await asyncio.gather(refereeing, *tasks)
        finally:
            self.stop.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.outcome.ended = time.monotonic()
            await watching
            for control in controls.values():
                await control.aclose()
        return self.outcome


def describe(outcome: FlashSaleOutcome) -> dict[str, Any]:
    """The outcome's headline figures as plain data (for tables and failure messages)."""
    waits = outcome.rebalance_waits()
    p50 = percentile(waits, 0.5)
    p99 = percentile(waits, 0.99)
    return {
        "seconds": round(outcome.duration, 2),
        "orders_offered": outcome.attempts,
        "orders_per_s": round(outcome.offered_rate),
        "orders_accepted": len(outcome.sales),
        "units": outcome.units,
        "units_accepted": outcome.units_accepted,
        "units_sold": outcome.units_sold,
        "oversold": outcome.oversold,
        "refused": outcome.refused,
        "refused_elsewhere": outcome.refused_elsewhere,
        "starvations": len(outcome.starvations),
        "rebalanced": len(waits),
        "rebalance_p50_ms": None if p50 is None else round(p50 * 1000, 1),
        "rebalance_p99_ms": None if p99 is None else round(p99 * 1000, 1),
    }
