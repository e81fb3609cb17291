"""A flash sale against sandboxes: many buyers on every channel at once, no pause between orders.

:func:`run_flash_sale` drives the buyers and watches the listings; whoever calls it runs the
engine meanwhile (the local runtime, as ``omnisdk run`` does) and judges the outcome. It
works on the sandboxes in this process (their listings are read directly, under their lock,
at the moment a buyer is refused) and places orders through each sandbox's control API.

Every buyer loops: pick a random SKU of the sale, order one or two units, record the answer.
A refusal (409, out of stock) also records whether, at that moment, units of the SKU
remained unsold and another channel listed some: units kept where this buyer was not. A
watcher samples every listing every few milliseconds and times each *starvation*: from an
order that sold a channel out of a SKU while units of it remained unsold elsewhere, until
the channel lists some again (the time to rebalance). The sale ends once no order was
accepted anywhere for a while.

The buyers run on a thread and an event loop of their own: on the engine's loop they would
leave it a turn in 25 and measure the test's scheduling, not the engine.

::

    outcome = await run_flash_sale(sandboxes, {"ÁO-DÀI-LỤA-TƠ-TẰM-01": 4, ...})
    assert outcome.oversold == 0, outcome.oversold_by_sku()
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from omnisdk.testing.control import SandboxControl, SandboxRefused
from omnisdk.testing.sandbox import Sandbox

if TYPE_CHECKING:
    from omnisdk.channel import Channel
    from omnisdk.plugins import Plugins
    from omnisdk.sync.engine import Engine

__all__ = [
    "MINIMUM_ACCOUNTS",
    "FlashSaleOutcome",
    "Sale",
    "Starvation",
    "converge",
    "describe",
    "flash_catalog",
    "listing_gaps",
    "missing_orders",
    "online_shops",
    "percentile",
    "run_flash_sale",
    "split_demand",
    "title_of",
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


_MOBILE_PREFIXES = (90, 91, 93, 94, 96, 97, 98)
"""Vietnamese mobile prefixes every phone-number database knows (Mobifone, Vinaphone,
Viettel): a buyer's phone must parse, or the check that it reached the customer means
nothing."""

MINIMUM_ACCOUNTS = 3
"""A sale has at least this many accounts: with fewer channel types installed, the types
take turns, so two accounts of one platform sell side by side too."""


def online_shops(
    seed: int, *, plugins: Plugins | None = None
) -> list[tuple[str, type[Channel], Sandbox]]:
    """A fresh, unthrottled sandbox per account of the sale, over every installed channel type
    whose sandbox refuses unlisted sales (see :attr:`Sandbox.refuses_unlisted_sales`).

    Returns (account name, channel class, sandbox) triples, the accounts named
    ``<type>-<n>``; the caller closes the sandboxes. Types are taken in name order, at least
    :data:`MINIMUM_ACCOUNTS` accounts in all; the ``index``-th account's sandbox is seeded
    with ``seed + index``. ``plugins`` defaults to the installed plugins (entry points).
    """
    from omnisdk.demo.shops import demo_channel_types, load_sandbox_class
    from omnisdk.plugins import Plugins

    plugins = plugins or Plugins()
    channel_types = plugins.channel_types()
    kinds: list[tuple[str, type[Channel], type[Sandbox]]] = []
    for name, spec in demo_channel_types(plugins):
        sandbox_class = load_sandbox_class(name, spec)
        if sandbox_class.refuses_unlisted_sales:
            kinds.append((name, channel_types[name].cls, sandbox_class))
    shops: list[tuple[str, type[Channel], Sandbox]] = []
    for index in range(max(len(kinds), MINIMUM_ACCOUNTS) if kinds else 0):
        name, channel_class, sandbox_class = kinds[index % len(kinds)]
        sandbox = sandbox_class(seed=seed + index)
        sandbox.lift_throttles()
        shops.append((f"{name}-{index // len(kinds) + 1}", channel_class, sandbox))
    return shops


def flash_catalog(skus: int = 10, units: tuple[int, ...] = (3, 4, 5)) -> dict[str, int]:
    """``skus`` SKUs with Vietnamese diacritics (``ÁO-DÀI-LỤA-TƠ-TẰM-01``), units cycling
    through ``units``: SKU -> units in stock."""
    catalog: dict[str, int] = {}
    for index in range(skus):
        title = PRODUCTS[index % len(PRODUCTS)]
        sku = "-".join(title.upper().split()) + f"-{index + 1:02d}"
        catalog[sku] = units[index % len(units)]
    return catalog


def split_demand(accounts: Sequence[str], skus: Sequence[str]) -> dict[str, list[str]]:
    """Each SKU wanted on one account only, in turn: account -> the SKUs its buyers ask for.

    Whatever the other accounts list of a SKU sells only once it is moved to the one account
    where it is wanted (for :func:`run_flash_sale`'s ``wants``).
    """
    return {
        account: [sku for index, sku in enumerate(skus) if index % len(accounts) == position]
        for position, account in enumerate(accounts)
    }


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
    """A channel sold out of a SKU while units of it remained unsold on other channels.

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
    """Refusals while units of the SKU asked for remained unsold and another channel listed
    more than 0 of it."""
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
    """Keeps the starvations (see :class:`Starvation`): opened by the buyer whose order
    sold a channel out, closed when sampling sees the channel list the SKU again (or when
    an order is accepted there before a sample did)."""

    def __init__(self, outcome: FlashSaleOutcome, sandboxes: Mapping[str, Sandbox]) -> None:
        self.outcome = outcome
        self.sandboxes = sandboxes
        self.open: dict[tuple[str, str], Starvation] = {}

    def remaining(self, sku: str) -> int:
        """Units of ``sku`` not sold yet on any channel."""
        return self.outcome.stock[sku] - self.outcome.sold(sku)

    def sold(self, account: str, sku: str) -> None:
        """An order of ``sku`` was just accepted on ``account``: did it sell the channel out?"""
        key = (account, sku)
        gap = self.open.pop(key, None)
        if gap is not None:  # it was listed again (and sold) before a sample saw it
            gap.refilled = time.monotonic()
        if self.remaining(sku) <= 0:
            return
        if _listed(self.sandboxes[account]).get(sku, 0) == 0:
            gap = Starvation(account=account, sku=sku, started=time.monotonic())
            self.open[key] = gap
            self.outcome.starvations.append(gap)

    def sample(self) -> None:
        """Close the starvations whose channel lists the SKU again, or whose units ran out."""
        if not self.open:
            return
        now = time.monotonic()
        listed = {account: _listed(sandbox) for account, sandbox in self.sandboxes.items()}
        for key, gap in list(self.open.items()):
            account, sku = key
            if listed[account].get(sku, 0) > 0:
                gap.refilled = now
                del self.open[key]
            elif self.remaining(sku) <= 0:
                gap.ran_out = True
                del self.open[key]

    async def run(self, every: float, stop: asyncio.Event) -> None:
        """Sample every ``every`` seconds until ``stop``."""
        while not stop.is_set():
            self.sample()
            await asyncio.sleep(every)
        self.sample()


async def run_flash_sale(
    sandboxes: Mapping[str, Sandbox],
    stock: Mapping[str, int],
    *,
    buyers: int | Mapping[str, int] = 8,
    wants: Mapping[str, Sequence[str]] | None = None,
    seed: int = 1111,
    quiet: float = 2.0,
    sold_out_quiet: float = 0.3,
    limit: float = 15.0,
    sample_every: float = 0.005,
    pause: float = 0.0,
) -> FlashSaleOutcome:
    """Run a flash sale of ``stock`` (SKU -> units, already listed) on every sandbox.

    ``buyers`` per account (a number for all, or per account) order one or two units of a
    random SKU (of ``wants[account]`` when given: the SKUs that account's buyers ask for),
    again and again, ``pause`` seconds apart (default: no pause), through each sandbox's
    control API. The sale
    ends once no order was accepted for ``quiet`` seconds (``sold_out_quiet`` once every unit
    is accounted for and every channel lists 0) or after ``limit`` seconds. Any refusal other
    than out of stock (409) is raised.

    The buyers run on an event loop of their own, in a thread of their own, as buyers are
    not in the engine's process: a loop shared with the engine would leave it a turn in 25.
    Meanwhile the caller's loop is free to run the engine.
    """
    sale = _Sale(
        sandboxes,
        stock,
        buyers,
        {a: list(wants[a]) if wants is not None else list(stock) for a in sandboxes},
        seed,
        (quiet, sold_out_quiet, limit),
        sample_every,
        pause,
    )
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
        wants: dict[str, list[str]],
        seed: int,
        ends: tuple[float, float, float],
        sample_every: float,
        pause: float = 0.0,
    ) -> None:
        self.sandboxes = dict(sandboxes)
        self.accounts = list(sandboxes)
        self.outcome = FlashSaleOutcome(stock=dict(stock), accounts=self.accounts)
        self.skus = list(stock)
        self.counts = (
            dict(buyers) if isinstance(buyers, Mapping) else dict.fromkeys(self.accounts, buyers)
        )
        self.wants = wants
        self.seed = seed
        self.quiet, self.sold_out_quiet, self.limit = ends
        self.sample_every = sample_every
        self.pause = pause
        self.halt = threading.Event()
        """Set from outside to end the sale early (the caller was cancelled)."""
        self.last_sale = 0.0

    def elsewhere(self, watcher: _Watcher, account: str, sku: str) -> bool:
        """True when units of ``sku`` remain unsold and a channel other than ``account``
        lists some now (a stale figure of units already sold elsewhere does not count)."""
        return watcher.remaining(sku) > 0 and any(
            _listed(sandbox).get(sku, 0) > 0
            for other, sandbox in self.sandboxes.items()
            if other != account
        )

    def sold_out(self, watcher: _Watcher) -> bool:
        """Every unit is accounted for and no channel lists anything."""
        return all(watcher.remaining(sku) <= 0 for sku in self.skus) and not any(
            any(_listed(sandbox).values()) for sandbox in self.sandboxes.values()
        )

    async def buyer(
        self, control: SandboxControl, watcher: _Watcher, account: str, index: int
    ) -> None:
        """One buyer on ``account``, ordering until told to stop."""
        outcome = self.outcome
        rng = random.Random(f"{self.seed}:{account}:{index}")
        number = self.accounts.index(account) * 1000 + index + 1
        customer = {
            "name": f"Khách {index + 1} của {account}",
            "phone": f"+84{rng.choice(_MOBILE_PREFIXES)}{rng.randrange(10**6, 10**7)}",
            "email": f"khach{index + 1}.{account}@example.vn",
            "username": f"khach{number:04d}",
            "buyer_user_id": str(700_000_000 + number),
        }
        """The buyer, the same for each of their orders (a platform that hides contact
        points tells buyers apart by their username and user id)."""
        wanted = self.wants[account]
        while not self.stop.is_set():
            sku = rng.choice(wanted)
            quantity = rng.choice((1, 2))
            outcome.attempts += 1
            try:
                order_id = await control.place_order([(sku, quantity)], customer=customer)
            except SandboxRefused as refused:
                if refused.status != 409:
                    raise
                outcome.refused += 1
                if self.elsewhere(watcher, account, sku):
                    outcome.refused_elsewhere += 1
            else:
                self.last_sale = time.monotonic()
                outcome.sales.append(
                    Sale(account, order_id, sku, quantity, dict(customer), self.last_sale)
                )
                watcher.sold(account, sku)
            await asyncio.sleep(self.pause)  # 0: no pause, but let the other buyers in

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
            asyncio.create_task(self.buyer(controls[account], watcher, account, index))
            for account in self.accounts
            for index in range(self.counts.get(account, 0) if self.wants[account] else 0)
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


# -- after the sale ---------------------------------------------------------------------------


async def listing_gaps(
    engine: Engine, sandboxes: Mapping[str, Sandbox], skus: Sequence[str]
) -> list[str]:
    """Where the listings disagree with the engine: a channel not listing what the engine
    says it should (``Engine.sellable``), the channels of a SKU listing more together than
    its free stock (on hand less reserved, over every location), or pushes of the SKU still
    waiting in the outbox (the engine has not settled)."""
    gaps = []
    for sku in skus:
        levels = engine.store.stock_levels(sku)
        free = max(sum(level.on_hand - level.reserved for level in levels), 0)
        listed = {account: _listed(sandbox).get(sku, 0) for account, sandbox in sandboxes.items()}
        for account, shown in listed.items():
            should = await engine.sellable(account, sku)
            if shown != should:
                gaps.append(f"{account} lists {shown} of {sku}, the engine says {should}")
        if sum(listed.values()) > free:
            gaps.append(f"{sku}: {listed} listed together, {free} free")
        queued = sorted({item.account for item in engine.store.pending_pushes(sku=sku)})
        if queued:
            gaps.append(f"{sku}: pushes still queued for {queued}")
    return gaps


def missing_orders(engine: Engine, outcome: FlashSaleOutcome) -> list[str]:
    """Accepted orders the engine's store does not hold (yet), as ``account:order id``."""
    held = {(stored.account, stored.external_id) for stored in engine.store.iter_orders()}
    return [
        f"{sale.account}:{sale.order_id}"
        for sale in outcome.sales
        if (sale.account, sale.order_id) not in held
    ]


async def converge(
    engine: Engine,
    sandboxes: Mapping[str, Sandbox],
    outcome: FlashSaleOutcome,
    *,
    within: float = 10.0,
    every: float = 0.1,
) -> tuple[float, list[str]]:
    """Wait (the engine running meanwhile) until every accepted order is stored and no
    :func:`listing_gaps` are left, for at most ``within`` seconds.

    Returns the seconds it took and what is still off (empty once converged).
    """
    started = time.monotonic()
    while True:
        missing = missing_orders(engine, outcome)
        gaps = [] if missing else await listing_gaps(engine, sandboxes, list(outcome.stock))
        problems = ([f"{len(missing)} orders not stored: {missing[:5]}"] if missing else []) + gaps
        elapsed = time.monotonic() - started
        if not problems or elapsed > within:
            return elapsed, problems
        await asyncio.sleep(every)


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
