"""``omnisdk demo``: every installed channel's sandbox, one engine, buyers everywhere at once.

:func:`run_demo` shows the project's promise end to end, on loopback only:

1. every installed channel plugin that ships a sandbox is started on a loopback port
   (:class:`~omnisdk.testing.server.LoopbackServer`, in a process of its own: platforms are
   other machines, and their work must not slow the engine's interpreter down) and seeded
   through the control API with one catalogue — Vietnamese products priced in VND, the same
   SKUs everywhere, a few of them nearly sold out;
2. a temporary ``omnisdk.toml`` (SQLite in a temporary directory) points an engine at them;
   the master catalogue is imported from the first channel, the other channels' listings
   bind to it by SKU, and the starting stock is counted into the ledger;
3. the engine runs in-process (:class:`~omnisdk.runtime.local.LocalRuntime`: webhooks,
   pollers, pushers) while simulated buyers order on every channel concurrently. A channel
   refuses an order (HTTP 409) when its own listed stock is short — that is the system
   working: the engine told it the stock was gone;
4. afterwards the engine polls every channel once more, lets the pushers settle, runs a
   reconciliation (as the runtime does on its interval; what it repairs is reported), and
   the :class:`DemoSummary` checks the invariants: no SKU sold more units than it had, every
   order every channel took is in the one order book, the stock pool adds up, and every
   channel lists exactly what the engine says it may sell.

Buyers shop at a human pace (a pause of 0.6-1.6 s between orders, arriving one by one) and
every channel holds back a safety buffer of one unit: the engine closes the gap between a
sale and every other channel's listing in a fraction of a second (``benchmarks/
propagation.py``), but two buyers on two channels taking the last unit in the same instant
is a race no system can see coming; the buffer is how merchants cover it.

Nothing here is specific to a channel: channels whose sandbox needs special setup get it
through the Sandbox API (``channel_settings``/``client_credentials``).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import logging
import os
import random
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from omnisdk.errors import OmnisdkError, PluginError
from omnisdk.hookspecs import hookimpl
from omnisdk.models import Order

if TYPE_CHECKING:
    from omnisdk.plugins import Plugins
    from omnisdk.runtime.local import LocalRuntime
    from omnisdk.sync.engine import Engine
    from omnisdk.sync.reconcile import ReconcileReport
    from omnisdk.sync.stock import StockView
    from omnisdk.testing.control import SandboxControl

__all__ = [
    "DEMO_CATALOGUE",
    "BuyerTally",
    "ChannelSummary",
    "DemoChannel",
    "DemoItem",
    "DemoSnapshot",
    "DemoSummary",
    "SkuSnapshot",
    "SkuSummary",
    "demo_channel_types",
    "run_demo",
    "write_demo_config",
]

logger = logging.getLogger("omnisdk.demo")


class DemoItem(BaseModel):
    """One SKU of the demo catalogue, as seeded on every channel."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sku: str
    title: str
    price: Decimal
    stock: int
    product: str | None = None
    options: dict[str, str] = Field(default_factory=dict)

    def seed(self) -> dict[str, Any]:
        """The ``POST /_sandbox/seed`` entry for this SKU."""
        entry: dict[str, Any] = {
            "sku": self.sku,
            "title": self.title,
            "price": str(self.price),
            "currency": "VND",
            "stock": self.stock,
        }
        if self.product:
            entry["product"] = self.product
            entry["options"] = dict(self.options)
        return entry


DEMO_CATALOGUE: tuple[DemoItem, ...] = (
    DemoItem(
        sku="AO-THUN-TRANG-M",
        title="Áo thun cổ tròn - Trắng / M",
        product="Áo thun cổ tròn",
        options={"Màu": "Trắng", "Size": "M"},
        price=Decimal(129000),
        stock=30,
    ),
    DemoItem(
        sku="AO-THUN-TRANG-L",
        title="Áo thun cổ tròn - Trắng / L",
        product="Áo thun cổ tròn",
        options={"Màu": "Trắng", "Size": "L"},
        price=Decimal(129000),
        stock=24,
    ),
    DemoItem(sku="NON-LA-HUE", title="Nón lá Huế", price=Decimal(85000), stock=40),
    DemoItem(
        sku="CA-PHE-BMT-500G",
        title="Cà phê rang xay Buôn Ma Thuột 500g",
        price=Decimal(165000),
        stock=50,
    ),
    DemoItem(
        sku="NUOC-MAM-PQ-500ML",
        title="Nước mắm Phú Quốc 40 độ đạm 500ml",
        price=Decimal(72000),
        stock=60,
    ),
    DemoItem(
        sku="AO-DAI-LUA-XANH", title="Áo dài lụa tơ tằm xanh ngọc", price=Decimal(1850000), stock=4
    ),
    DemoItem(sku="TRANH-SON-MAI", title="Tranh sơn mài Hội An", price=Decimal(2400000), stock=3),
    DemoItem(
        sku="GOM-BAT-TRANG", title="Bình gốm Bát Tràng men lam", price=Decimal(650000), stock=5
    ),
)
"""The demo's catalogue: Vietnamese goods priced in VND; the last three run out."""

_BUYERS = (
    ("Nguyễn Văn An", "+84912345601"),
    ("Trần Thị Bích", "+84912345602"),
    ("Lê Hoàng Cường", "+84912345603"),
    ("Phạm Thu Dung", "+84912345604"),
    ("Hoàng Minh Đức", "+84912345605"),
    ("Võ Thị Hạnh", "+84912345606"),
    ("Đặng Quốc Khánh", "+84912345607"),
    ("Bùi Ngọc Lan", "+84912345608"),
)

SANDBOX_START_TIMEOUT = 60.0
"""Seconds a sandbox process may take to import its plugin and start serving."""

_ACCOUNT_CITIES = ("hanoi", "saigon", "danang", "hue", "cantho", "haiphong", "nhatrang")


# -- the channels ----------------------------------------------------------------------------


@dataclass
class DemoChannel:
    """One channel of the demo: its sandbox, served on loopback by a process of its own.

    ``settings`` is what a ``[[channels]]`` entry needs to reach it; ``control`` drives it
    through the control API (seed, buyer orders, state), the same for every channel.
    """

    channel_type: str
    account: str
    base_url: str
    settings: dict[str, Any]
    control: SandboxControl

    async def listed(self) -> dict[str, int]:
        """Listed stock by SKU, as the platform shows it now."""
        return await self.control.listed_stock()


def demo_channel_types(plugins: Plugins) -> list[tuple[str, str]]:
    """Every installed channel type with a loadable sandbox: ``(type, "module:Class")``.

    A channel without a sandbox, or whose sandbox cannot be imported (the sandbox extra is
    missing), is left out with a warning.
    """
    from omnisdk.testing.sandbox import Sandbox

    found: list[tuple[str, str]] = []
    for name, channel_type in sorted(plugins.channel_types().items()):
        spec = channel_type.cls.sandbox
        if not spec:
            logger.info("channel type %s ships no sandbox; not in the demo", name)
            continue
        try:
            sandbox_class = _import_sandbox(spec)
        except (ImportError, AttributeError) as exc:
            logger.warning("the %s sandbox cannot be loaded (%s); not in the demo", name, exc)
            continue
        if not (isinstance(sandbox_class, type) and issubclass(sandbox_class, Sandbox)):
            logger.warning("the %s sandbox %r is not a Sandbox; not in the demo", name, spec)
            continue
        found.append((name, spec))
    return found


def _import_sandbox(spec: str) -> Any:
    module_name, _, class_name = spec.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def serve_sandbox_stdio(spec: str, seed: int) -> None:
    """Serve one sandbox on loopback until stdin closes (the body of a sandbox process).

    Prints one JSON line on stdout once serving: ``{"base_url", "settings"}``, or
    ``{"error"}`` when the sandbox cannot start. The parent closes the pipe to stop it; the
    pipe also closes when the parent dies, so no sandbox outlives its demo.
    """
    from pydantic_core import to_jsonable_python

    from omnisdk.testing.server import LoopbackServer

    try:
        sandbox = _import_sandbox(spec)(seed=seed)
        server = LoopbackServer(sandbox.app).start()
    except Exception as exc:
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
        return
    try:
        with sandbox.lock:
            settings = to_jsonable_python(sandbox.channel_settings(server.base_url))
        print(json.dumps({"base_url": server.base_url, "settings": settings}), flush=True)
        sys.stdin.read()
    finally:
        server.stop()
        sandbox.close()


_CHILD = (
    "import sys; from omnisdk.demo.run import serve_sandbox_stdio as serve; "
    "serve(sys.argv[1], int(sys.argv[2]))"
)


@dataclass
class _SandboxProcess:
    spec: str
    process: asyncio.subprocess.Process

    async def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 5)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


async def _start_sandbox_process(spec: str, seed: int) -> tuple[_SandboxProcess, dict[str, Any]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _CHILD,
        spec,
        str(seed),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env=env,
    )
    served = _SandboxProcess(spec, process)
    assert process.stdout is not None
    try:
        line = await asyncio.wait_for(process.stdout.readline(), SANDBOX_START_TIMEOUT)
        answer: dict[str, Any] = (
            json.loads(line)
            if line.strip()
            else {"error": f"exited with status {await process.wait()}"}
        )
    except (TimeoutError, ValueError) as exc:
        answer = {"error": f"no answer ({type(exc).__name__})"}
    if "error" in answer:
        await served.stop()
        raise OmnisdkError(f"the sandbox {spec} could not start: {answer['error']}")
    return served, answer


@contextlib.asynccontextmanager
async def serve_sandboxes(
    types: Iterable[tuple[str, str]], *, seed: int = 0
) -> AsyncIterator[list[DemoChannel]]:
    """Serve one sandbox per ``(type, "module:Class")``, each in a process of its own.

    The platforms are other machines in real life: a process each keeps their work off the
    engine's interpreter, as it would be. They start side by side and stop on exit.
    """
    from omnisdk.testing.control import SandboxControl

    chosen = list(types)
    processes: list[_SandboxProcess] = []
    channels: list[DemoChannel] = []
    started = await asyncio.gather(
        *(_start_sandbox_process(spec, seed + index) for index, (_, spec) in enumerate(chosen)),
        return_exceptions=True,
    )
    try:
        for served in started:
            if isinstance(served, tuple):
                processes.append(served[0])
        for index, ((name, _), served) in enumerate(zip(chosen, started, strict=True)):
            if isinstance(served, BaseException):
                raise served
            _, answer = served
            city = _ACCOUNT_CITIES[index % len(_ACCOUNT_CITIES)]
            channels.append(
                DemoChannel(
                    channel_type=name,
                    account=f"{name}-{city}",
                    base_url=answer["base_url"],
                    settings=dict(answer["settings"]),
                    control=SandboxControl(answer["base_url"], timeout=10.0),
                )
            )
        yield channels
    finally:
        for channel in channels:
            await channel.control.aclose()
        await asyncio.gather(*(process.stop() for process in processes))


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are valid TOML basic-string escapes
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    raise OmnisdkError(f"cannot write {type(value).__name__} into the demo config")


def write_demo_config(
    directory: Path,
    channels: Iterable[DemoChannel],
    *,
    safety_buffer: int,
    poll_orders: str = "2s",
    push_interval: str = "1s",
) -> Path:
    """Write the demo's ``omnisdk.toml`` in ``directory`` (SQLite beside it); returns its path.

    The receiver takes a free port (``webhook_port = 0``). Orders are polled every
    ``poll_orders`` so a missed webhook costs seconds, not minutes.
    """
    lines = [
        "# Written by `omnisdk demo`: the sandboxes it started, on loopback.",
        "[store]",
        'url = "sqlite:///omnisdk.db"',
        "",
        "[engine]",
        f"push_interval = {_toml_value(push_interval)}",
        'reconcile_interval = "1h"',
        'initial_backfill = "1d"',
        'webhook_host = "127.0.0.1"',
        "webhook_port = 0",
        "",
    ]
    for channel in channels:
        lines += [
            "[[channels]]",
            f"name = {_toml_value(channel.account)}",
            f"type = {_toml_value(channel.channel_type)}",
            "[channels.settings]",
        ]
        for key, value in channel.settings.items():
            if value is not None:
                lines.append(f"{key} = {_toml_value(value)}")
        lines += [
            "[channels.allocation]",
            f"safety_buffer = {safety_buffer}",
            "[channels.poll]",
            f"orders = {_toml_value(poll_orders)}",
            "",
        ]
    path = directory / "omnisdk.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


# -- buyers ------------------------------------------------------------------------------


@dataclass
class BuyerTally:
    """What the buyers of one channel did: orders taken, refused (409) and failed."""

    accepted: int = 0
    refused: int = 0
    errors: int = 0
    units: dict[str, int] = field(default_factory=dict)


async def _buyer(
    channel: DemoChannel,
    catalogue: list[DemoItem],
    tally: BuyerTally,
    *,
    rng: random.Random,
    deadline: float,
    pause: tuple[float, float],
) -> None:
    from omnisdk.testing.control import SandboxRefused

    # Scarce goods are the popular ones: they are what sells out.
    weights = [3.0 if item.stock <= 5 else 1.0 for item in catalogue]
    await asyncio.sleep(rng.uniform(0, pause[1]))  # buyers arrive one by one, not in a burst
    while time.monotonic() < deadline:
        item = rng.choices(catalogue, weights)[0]
        quantity = 1 if item.stock <= 5 or rng.random() < 0.7 else 2
        name, phone = rng.choice(_BUYERS)
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


# -- what the live display and the summary show ---------------------------------------------


class SkuSnapshot(BaseModel):
    """One SKU at one moment: the pool, and what each channel lists."""

    sku: str
    title: str
    start: int
    sold: int
    on_hand: int
    reserved: int
    listed: dict[str, int]


class DemoSnapshot(BaseModel):
    """The demo at one moment, for the live display."""

    elapsed: float
    phase: str
    skus: list[SkuSnapshot]
    accepted: dict[str, int]
    refused: dict[str, int]
    in_book: dict[str, int]


class ChannelSummary(BaseModel):
    """One channel's outcome: orders it took and refused, and whether the book has them all.

    ``units_match`` is True when the book's units by SKU for this account equal what the
    buyers bought there.
    """

    account: str
    channel_type: str
    orders: int
    refused: int
    errors: int
    orders_in_book: int
    units_match: bool
    listed_matches_sellable: bool
    mismatches: dict[str, str] = Field(default_factory=dict)


class SkuSummary(BaseModel):
    """One SKU's outcome: units sold everywhere against the stock it started with."""

    sku: str
    title: str
    start: int
    sold: int
    oversold: int
    on_hand: int
    reserved: int
    listed: dict[str, int]
    sellable: dict[str, int]


class DemoSummary(BaseModel):
    """What ``omnisdk demo --json`` prints, and what decides its exit status (:attr:`ok`)."""

    ok: bool
    duration: float
    buyers: int
    safety_buffer: int
    channels: list[ChannelSummary]
    skus: list[SkuSummary]
    orders: int
    refused: int
    oversold_units: int
    orders_in_one_book: bool
    listed_converged: bool
    ledger_consistent: bool
    drift_repaired: list[str] = Field(default_factory=list)
    """Listings the final reconciliation set right: ``account/SKU: listed -> expected``."""
    oversells_in_book: int = 0
    """SKUs whose orders hold more than is on hand, as the reconciliation reports them."""
    problems: list[str]
    config: str | None = None


class _OrderCounter:
    """Counts new orders per account through ``omnisdk_order_received`` (for the live view)."""

    def __init__(self) -> None:
        self.new: dict[str, int] = {}

    @hookimpl
    def omnisdk_order_received(self, order: Order, is_new: bool) -> None:
        """Count one order the engine took into the book."""
        if is_new:
            account = order.channel_ref.account
            self.new[account] = self.new.get(account, 0) + 1


# -- the demo ------------------------------------------------------------------------------


@dataclass
class _Demo:
    engine: Engine
    runtime: LocalRuntime
    channels: list[DemoChannel]
    catalogue: list[DemoItem]
    tallies: dict[str, BuyerTally]
    counter: _OrderCounter
    started: float
    phase: str = "starting"
    reconcile: ReconcileReport | None = None

    async def snapshot(self) -> DemoSnapshot:
        listed = {channel.account: await channel.listed() for channel in self.channels}
        skus = []
        for item in self.catalogue:
            view = await self.engine.stock_view(item.sku)
            skus.append(
                SkuSnapshot(
                    sku=item.sku,
                    title=item.title,
                    start=item.stock,
                    sold=sum(t.units.get(item.sku, 0) for t in self.tallies.values()),
                    on_hand=view.on_hand,
                    reserved=view.reserved,
                    listed={a: stock.get(item.sku, 0) for a, stock in listed.items()},
                )
            )
        return DemoSnapshot(
            elapsed=time.monotonic() - self.started,
            phase=self.phase,
            skus=skus,
            accepted={a: t.accepted for a, t in self.tallies.items()},
            refused={a: t.refused for a, t in self.tallies.items()},
            in_book=dict(self.counter.new),
        )


async def _wait_converged(demo: _Demo, within: float) -> bool:
    """Wait until every channel lists what the engine says it may sell (at most ``within`` s)."""
    deadline = time.monotonic() + within
    while True:
        demo.runtime.wake_pushers()
        if not await _mismatches(demo) and demo.engine.store.outbox_depth() == 0:
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.1)


def _sellable(view: StockView) -> dict[str, int]:
    return {listing.account: listing.sellable for listing in view.listings}


async def _mismatches(demo: _Demo) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    listed_now = {channel.account: await channel.listed() for channel in demo.channels}
    for item in demo.catalogue:
        view = await demo.engine.stock_view(item.sku)
        for channel in demo.channels:
            listed = listed_now[channel.account].get(item.sku)
            sellable = _sellable(view).get(channel.account)
            if listed != sellable:
                known = next((v for v in view.listings if v.account == channel.account), None)
                detail = (
                    f" (engine: last pushed {known.last_pushed}, expects {known.expected_listed}"
                    f" listed, unseen {known.unseen}, pending {known.pending})"
                    if known is not None
                    else ""
                )
                found.setdefault(channel.account, {})[item.sku] = (
                    f"listed {listed}, sellable {sellable}{detail}"
                )
    return found


def _book_units(engine: Engine, account: str) -> tuple[int, dict[str, int]]:
    """How many orders of ``account`` the book holds, and their units by SKU."""
    count = 0
    units: dict[str, int] = {}
    for stored in engine.store.iter_orders(account=account):
        count += 1
        for line in stored.order.lines:
            units[line.sku] = units.get(line.sku, 0) + line.quantity
    return count, units


async def _summarise(demo: _Demo, *, duration: float, buyers: int, buffer: int) -> DemoSummary:
    problems: list[str] = []
    mismatches = await _mismatches(demo)
    channel_summaries = []
    for channel in demo.channels:
        tally = demo.tallies[channel.account]
        in_book, book_units = await demo.engine.db(_book_units, demo.engine, channel.account)
        if in_book != tally.accepted:
            problems.append(
                f"{channel.account}: took {tally.accepted} orders, the book holds {in_book}"
            )
        if book_units != tally.units:
            problems.append(f"{channel.account}: the book's units differ from what was sold")
        channel_summaries.append(
            ChannelSummary(
                account=channel.account,
                channel_type=channel.channel_type,
                orders=tally.accepted,
                refused=tally.refused,
                errors=tally.errors,
                orders_in_book=in_book,
                units_match=book_units == tally.units,
                listed_matches_sellable=channel.account not in mismatches,
                mismatches=mismatches.get(channel.account, {}),
            )
        )
    sku_summaries = []
    ledger_ok = True
    listed_now = {channel.account: await channel.listed() for channel in demo.channels}
    for item in demo.catalogue:
        view = await demo.engine.stock_view(item.sku)
        units = sum(t.units.get(item.sku, 0) for t in demo.tallies.values())
        oversold = max(units - item.stock, 0)
        if oversold:
            problems.append(f"{item.sku}: {units} sold of {item.stock} (oversold {oversold})")
        # Nothing shipped or was cancelled: every unit sold is still reserved on hand.
        if view.on_hand - view.reserved != item.stock - units:
            ledger_ok = False
            problems.append(
                f"{item.sku}: the pool holds {view.on_hand - view.reserved} free units, "
                f"expected {item.stock - units}"
            )
        sku_summaries.append(
            SkuSummary(
                sku=item.sku,
                title=item.title,
                start=item.stock,
                sold=units,
                oversold=oversold,
                on_hand=view.on_hand,
                reserved=view.reserved,
                listed={a: stock.get(item.sku, 0) for a, stock in listed_now.items()},
                sellable=_sellable(view),
            )
        )
    for account, skus in mismatches.items():
        problems.append(f"{account}: listed stock differs from sellable for {', '.join(skus)}")
    errors = sum(t.errors for t in demo.tallies.values())
    if errors:
        problems.append(f"{errors} buyer orders failed with an unexpected error")
    report = demo.reconcile
    repaired = [
        f"{d.account}/{d.sku}: {d.listed} -> {d.expected}"
        for d in (report.drift if report is not None else [])
        if d.repaired
    ]
    book_oversells = len(report.oversells) if report is not None else 0
    if book_oversells:
        problems.append(f"the reconciliation reports {book_oversells} oversold SKUs")
    return DemoSummary(
        drift_repaired=repaired,
        oversells_in_book=book_oversells,
        ok=not problems,
        duration=round(duration, 2),
        buyers=buyers,
        safety_buffer=buffer,
        channels=channel_summaries,
        skus=sku_summaries,
        orders=sum(c.orders for c in channel_summaries),
        refused=sum(c.refused for c in channel_summaries),
        oversold_units=sum(s.oversold for s in sku_summaries),
        orders_in_one_book=all(
            c.orders_in_book == c.orders and c.units_match for c in channel_summaries
        ),
        listed_converged=not mismatches,
        ledger_consistent=ledger_ok,
        problems=problems,
    )


async def run_demo(
    plugins: Plugins,
    *,
    duration: float = 8.0,
    buyers: int = 4,
    seed: int = 0,
    safety_buffer: int = 1,
    on_snapshot: Callable[[DemoSnapshot], None] | None = None,
    on_phase: Callable[[str], None] | None = None,
    refresh: float = 0.5,
    keep_dir: Path | None = None,
    rate_limits: bool = False,
) -> DemoSummary:
    """Run the whole demo (see the module doc) and return its summary.

    ``duration`` is how long buyers shop (seconds); ``buyers`` how many shop at once, spread
    over the channels. ``safety_buffer`` units of every SKU are held back from every channel
    — the usual guard against two channels selling the last unit in the same instant.
    ``on_snapshot`` is called every ``refresh`` seconds (the live display) and
    ``on_phase`` at each step. ``keep_dir`` keeps the config and database there instead of a
    temporary directory. The sandboxes do not enforce the platforms' request budgets, so the
    channels' declared rate limits are lifted unless ``rate_limits`` is True (at the buyers'
    pace — several orders a second — a real Shopee budget of 10 requests a second would be
    the bottleneck, not the engine).
    """
    from omnisdk.config import load_config
    from omnisdk.runtime.local import LocalRuntime
    from omnisdk.sync.engine import Engine
    from omnisdk.testing.registration import unthrottled

    def phase(text: str) -> None:
        logger.info("%s", text)
        if on_phase is not None:
            on_phase(text)

    if buyers < 1:
        raise OmnisdkError("the demo needs at least one buyer")
    types = demo_channel_types(plugins)
    if not types:
        raise PluginError(
            "no installed channel plugin ships a sandbox; install one "
            "(pip install 'omnisdk-shopify[sandbox]') or the example plugin"
        )
    catalogue = list(DEMO_CATALOGUE)
    rng = random.Random(seed)
    with contextlib.ExitStack() as stack:
        directory = keep_dir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        directory.mkdir(parents=True, exist_ok=True)
        phase(f"starting {len(types)} sandboxes: {', '.join(name for name, _ in types)}")
        async with serve_sandboxes(types, seed=seed) as channels:
            for channel in channels:
                await channel.control.seed([item.seed() for item in catalogue])
            config_path = write_demo_config(directory, channels, safety_buffer=safety_buffer)
            config = load_config(config_path, plugins=plugins)
            counter = _OrderCounter()
            plugins.register(counter, name=f"omnisdk.demo.counter.{id(counter)}")
            try:
                async with Engine(config, plugins=plugins) as engine:
                    if not rate_limits:
                        for account_channel in engine.channels.values():
                            unthrottled(account_channel)
                    runtime = LocalRuntime(engine, port=0, grace=5.0, initial_poll=False)
                    demo = _Demo(
                        engine=engine,
                        runtime=runtime,
                        channels=channels,
                        catalogue=catalogue,
                        tallies={c.account: BuyerTally() for c in channels},
                        counter=counter,
                        started=time.monotonic(),
                    )
                    summary = await _run(
                        demo,
                        rng,
                        duration=duration,
                        buyers=buyers,
                        buffer=safety_buffer,
                        phase=phase,
                        on_snapshot=on_snapshot,
                        refresh=refresh,
                    )
            finally:
                plugins.unregister(counter)
        summary.config = str(config_path) if keep_dir is not None else None
        return summary


async def _run(
    demo: _Demo,
    rng: random.Random,
    *,
    duration: float,
    buyers: int,
    buffer: int,
    phase: Callable[[str], None],
    on_snapshot: Callable[[DemoSnapshot], None] | None,
    refresh: float,
) -> DemoSummary:
    engine, runtime = demo.engine, demo.runtime
    first = demo.channels[0]
    demo.phase = "importing the catalogue"
    phase(f"importing the master catalogue from {first.account}; binding the others by SKU")
    for channel in demo.channels:
        await engine.import_catalog(channel.account)
    for item in demo.catalogue:
        await engine.set_stock(item.sku, item.stock, reason="count")
    await runtime.start()
    stop_display = asyncio.Event()
    display = (
        asyncio.create_task(_display(demo, on_snapshot, refresh, stop_display))
        if on_snapshot is not None
        else None
    )
    try:
        for channel in demo.channels:
            await channel.control.set_webhook_url(runtime.webhook_url(channel.account))
        demo.phase = "listing sellable stock"
        phase("pushing sellable stock to every channel")
        if not await _wait_converged(demo, within=15.0):
            raise OmnisdkError("the channels did not reach the starting stock within 15 s")
        demo.phase = "buyers shopping"
        phase(f"{buyers} buyers shop on {len(demo.channels)} channels for {duration:g} s")
        deadline = time.monotonic() + duration
        shoppers = []
        for index in range(buyers):
            channel = demo.channels[index % len(demo.channels)]
            shoppers.append(
                _buyer(
                    channel,
                    demo.catalogue,
                    demo.tallies[channel.account],
                    rng=random.Random(rng.random()),
                    deadline=deadline,
                    pause=(0.6, 1.6),
                )
            )
        await asyncio.gather(*shoppers)
        demo.phase = "settling"
        phase("buyers done; polling every channel once more and letting the pushers settle")
        for channel in demo.channels:
            await channel.control.drain_webhooks(10.0)
        for channel in demo.channels:
            await engine.poll_orders(channel.account)
        await _wait_converged(demo, within=10.0)
        demo.phase = "reconciling"
        phase("reconciling: every channel's listed stock read back and compared")
        demo.reconcile = await engine.reconcile()
        if not await _wait_converged(demo, within=10.0):
            logger.warning("listed stock did not converge within 10 s of reconciling")
        demo.phase = "done"
    finally:
        stop_display.set()
        if display is not None:
            await display
        for channel in demo.channels:
            with contextlib.suppress(Exception):
                await channel.control.set_webhook_url(None)
        await runtime.stop()
    summary = await _summarise(demo, duration=duration, buyers=buyers, buffer=buffer)
    if on_snapshot is not None:
        on_snapshot(await demo.snapshot())
    return summary


async def _display(
    demo: _Demo,
    on_snapshot: Callable[[DemoSnapshot], None],
    refresh: float,
    stop: asyncio.Event,
) -> None:
    while not stop.is_set():
        try:
            on_snapshot(await demo.snapshot())
        except Exception:  # the display must never break the demo
            logger.debug("demo snapshot failed", exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), refresh)
