"""A chaos run: ``omnisdk run`` as a real process against faulty sandboxes, killed and restarted.

:func:`run_chaos` serves a sandbox of every installed online channel
(:func:`~omnisdk.testing.flash_sale.online_shops`) on loopback, lists a catalog on them with
a migrated SQLite store, then starts ``omnisdk run`` on a config file, as an operator would.
While buyers place orders (and cancel some) on every channel, it

- turns the sandboxes' faults on (:class:`~omnisdk.testing.faults.FaultSettings`: 429 with
  ``Retry-After``, 5xx, latency, dropped connections, duplicate, delayed and out-of-order
  webhook deliveries),
- ends every access token now and then (``POST /_sandbox/tokens/expire``),
- kills the engine with SIGKILL at random moments and starts it again a moment later.

Then the buyers stop, the faults are lifted, and it times how long the engine takes to
converge: every accepted order stored once with its status, the ledger holding exactly each
order's units (0 once cancelled), every listing what the engine says it should be, the
listings of a SKU together within its free stock, and the outbox empty.

What it reports (:class:`ChaosOutcome`): orders, faults injected, kills, **lost** (accepted
orders missing from the store, or cancellations it never saw), **doubled** (orders whose
units are held more than once), **oversold** (units on active orders beyond a SKU's stock,
at the worst moment) and the seconds to converge. ``benchmarks/chaos.py`` prints them as a
table; ``tests/e2e/test_chaos.py`` runs a reduced plan in CI.

The buyers call each sandbox's control API in-process (no socket, and the control API is
never faulted); the engine process reaches the same sandboxes over loopback sockets, where
the faults apply.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import selectors
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from omnisdk.testing.control import SandboxControl, SandboxRefused
from omnisdk.testing.flash_sale import Sale, flash_catalog, online_shops, title_of
from omnisdk.testing.sandbox import NotSupported, Sandbox
from omnisdk.testing.server import LoopbackServer
from omnisdk.testing.workers import (
    ChildProcess,
    WorkerFleet,
    process_cpu_seconds,
    traceback_tails,
)

if TYPE_CHECKING:
    from omnisdk.channel import Channel
    from omnisdk.store import Store
    from omnisdk.sync.engine import Engine

__all__ = [
    "DEFAULT_FAULTS",
    "RATE_WINDOW",
    "Cancellation",
    "ChaosOutcome",
    "ChaosPlan",
    "EngineProcess",
    "free_port",
    "process_cpu_seconds",
    "run_chaos",
    "write_config",
]

DEFAULT_FAULTS: dict[str, Any] = {
    "error_rate": 0.15,
    "error_statuses": [429, 500, 502, 503],
    "retry_after": 0.5,
    "drop_rate": 0.05,
    "latency": 0.02,
    "webhook_duplicate_rate": 0.3,
    "webhook_reorder": True,
    "webhook_delay": 0.2,
}
"""The faults of a chaos run (``POST /_sandbox/faults``), on every sandbox."""


@dataclass(frozen=True)
class ChaosPlan:
    """What a chaos run does.

    ``orders`` buyer orders (accepted or refused) are offered at ``orders_per_second`` over
    every channel, ``buyers`` per channel; a buyer cancels one of its own accepted orders
    instead of ordering with probability ``cancel_share``. The catalog is ``skus`` SKUs of
    ``units`` each (fewer units than the buyers want, so channels sell out and stock has to
    move). ``kills`` SIGKILLs and ``token_expiries`` token expiries land at random moments
    of the buying; each killed engine stays down ``downtime`` seconds (a range). ``faults``
    are the sandboxes' fault settings while buyers buy (``{}``: none). ``converge_within``
    is how long the engine has to converge once faults stop.
    """

    orders: int = 2000
    orders_per_second: float = 40.0
    buyers: int = 4
    cancel_share: float = 0.1
    skus: int = 12
    units: int = 60
    kills: int = 5
    downtime: tuple[float, float] = (0.2, 1.5)
    token_expiries: int = 2
    faults: Mapping[str, Any] = field(default_factory=lambda: dict(DEFAULT_FAULTS))
    converge_within: float = 10.0
    poll_every: str = "1s"
    push_interval: str = "0.5s"
    reconcile_interval: str = "5s"
    seed: int = 4242
    accounts: tuple[str, ...] | None = None
    """The accounts of :func:`~omnisdk.testing.flash_sale.online_shops` to run, by name
    (``shopee-1``, ...; None: all of them)."""
    client_credentials: tuple[str, ...] = ()
    """Accounts whose sandbox offers a ``client_id`` (:meth:`Sandbox.client_credentials`) and
    that get their token with it instead of the permanent one the sandbox's settings carry,
    so a token expiry hits them too."""
    workers: int = 0
    """0: the local runtime (``omnisdk run``) is the engine. More: the scale-out runtime,
    that many ``omnisdk worker`` processes with beat and the webhook receiver
    (:class:`~omnisdk.testing.workers.WorkerFleet`); a kill SIGKILLs one worker."""
    store_url: str | None = None
    """The store (None: a SQLite file in the run's directory; the workers need PostgreSQL)."""
    broker_url: str = "redis://127.0.0.1:6379/0"
    """The Celery broker of a run with workers (its rate budgets are shared in Redis there
    too, or in ``rate_limit_url``)."""
    rate_limit_url: str | None = None
    requests_per_second: float = 200.0
    """The rate budget of the accounts whose settings set one (the others keep their
    channel's own budget)."""

    @property
    def label(self) -> str:
        """``"none"`` for a calm run, else ``"all"`` (the table's faults column)."""
        return "none" if not self.faults and not self.kills and not self.token_expiries else "all"

    def describe(self) -> str:
        """The faults of the run in words."""
        if self.label == "none":
            return "no faults, no kills"
        faults = self.faults
        parts = [
            f"{faults.get('error_rate', 0):.0%} of calls answered "
            + "/".join(str(s) for s in faults.get("error_statuses", [429, 500, 502, 503]))
            + f" (Retry-After {faults.get('retry_after', 0):g} s)",
            f"{faults.get('drop_rate', 0):.0%} dropped",
            f"{faults.get('latency', 0) * 1000:g} ms latency",
            f"{faults.get('webhook_duplicate_rate', 0):.0%} of webhooks twice",
            f"webhooks {faults.get('webhook_delay', 0):g} s late"
            + (" and out of order" if faults.get("webhook_reorder") else ""),
            f"{self.kills} SIGKILLs",
            f"{self.token_expiries} token expiries",
        ]
        return ", ".join(parts)


@dataclass
class Cancellation:
    """A buyer cancelled ``order_id`` on ``account`` (the channel said yes)."""

    account: str
    order_id: str
    sku: str
    quantity: int
    at: float
    """When the channel answered (``time.monotonic()``)."""


@dataclass
class ChaosOutcome:
    """What one chaos run did and found (see the module doc)."""

    plan: ChaosPlan
    accounts: list[str]
    stock: dict[str, int]
    attempts: int = 0
    refused: int = 0
    sales: list[Sale] = field(default_factory=list)
    cancellations: list[Cancellation] = field(default_factory=list)
    kills: int = 0
    token_expiries: int = 0
    faults_injected: int = 0
    """Platform requests the sandboxes failed or dropped on purpose."""
    webhook_duplicates: int = 0
    lost_orders: list[str] = field(default_factory=list)
    lost_cancellations: list[str] = field(default_factory=list)
    doubled: list[str] = field(default_factory=list)
    held_short: list[str] = field(default_factory=list)
    """Orders whose units the ledger holds fewer of than they should (a lost movement)."""
    oversold_by_sku: dict[str, int] = field(default_factory=dict)
    """Per SKU, the most units on active orders beyond its stock at any moment."""
    oversold_on: dict[str, int] = field(default_factory=dict)
    """Per account, the oversold units its accepted orders added (each order that took a SKU
    beyond its worst deficit so far counts the units beyond it)."""
    converged_after: float | None = None
    problems: list[str] = field(default_factory=list)
    """What was still off when the run gave up converging (empty: converged)."""
    convergence: list[tuple[float, str]] = field(default_factory=list)
    """After faults stopped: seconds, and what was still off then (each change once), to
    see what a slow convergence waited on."""
    unqueued: list[tuple[float, str]] = field(default_factory=list)
    """After faults stopped: SKUs listed otherwise than the engine says with no push of
    theirs queued, with the stock and every account's listing state (each change once), to
    find what moved a figure without queueing its push."""
    buying_seconds: float = 0.0
    mid_task_kills: int = 0
    """Kills that hit a worker while it ran a task (runs with workers only)."""
    engine_cpu_seconds: float = 0.0
    """CPU time (user + system) the engine's processes had used when the run ended (of the
    processes running then, their children included)."""
    tasks: dict[str, int] = field(default_factory=dict)
    """Tasks the workers received, by name (runs with workers only)."""
    queue_peaks: dict[str, int] = field(default_factory=dict)
    """The most messages seen waiting in each queue kind, sampled every
    :data:`QUEUE_SAMPLE` s from the fleet's start to the end of the run (workers only)."""
    queue_after_buying: dict[str, int] = field(default_factory=dict)
    """The messages waiting in each queue kind when the buyers stopped (workers only)."""
    engine_errors: list[str] = field(default_factory=list)
    """Tracebacks the engine processes printed (a crash is a finding)."""
    sabotage: list[tuple[float, str]] = field(default_factory=list)
    """When (``time.monotonic()``) the engine was killed or started, or tokens expired."""
    faults_off_at: float | None = None
    """When (``time.monotonic()``) the faults were lifted."""
    reauthorised: list[tuple[float, str]] = field(default_factory=list)
    """Seconds after the faults stopped, and the account the run authorised again, as its
    operator would: a SIGKILL that lands between a platform spending a single-use refresh
    token and the engine storing the pair it issued leaves a dead refresh token, so the
    account stops as ``needs_reauth`` (announced, its orders kept waiting, not dropped)."""
    rate_peaks: dict[str, tuple[int, float]] = field(default_factory=dict)
    """Per account, the most platform requests its sandbox received in any
    :data:`RATE_WINDOW` seconds, and what the account's rate budget allows in that time
    (burst + rate x window): the sandboxes count, whichever processes sent them."""

    @property
    def rate_exceeded(self) -> dict[str, tuple[int, float]]:
        """The accounts whose sandbox received more than their budget allows (with
        :data:`RATE_SLACK` of jitter: a request reaches the sandbox a moment after it took
        its token)."""
        return {
            account: (peak, allowed)
            for account, (peak, allowed) in self.rate_peaks.items()
            if peak > allowed * (1 + RATE_SLACK) + 1
        }

    @property
    def lost(self) -> int:
        """Accepted orders not stored, cancellations not seen, units the ledger lost."""
        return len(self.lost_orders) + len(self.lost_cancellations) + len(self.held_short)

    @property
    def oversold(self) -> int:
        """Units sold beyond the stock, over every SKU (at each SKU's worst moment)."""
        return sum(self.oversold_by_sku.values())

    def timeline(self, sku: str) -> list[str]:
        """The accepted orders and cancellations of ``sku`` in time order, with the units on
        active orders after each (for oversell reports)."""
        events = [(s.at, s.account, s.order_id, s.quantity) for s in self.sales if s.sku == sku]
        events += [
            (c.at, c.account, c.order_id, -c.quantity) for c in self.cancellations if c.sku == sku
        ]
        events += [(at, "", what, 0) for at, what in self.sabotage]
        active, lines = 0, []
        start = self.sales[0].at if self.sales else 0.0
        for at, account, order_id, units in sorted(events):
            if not units:
                lines.append(f"+{at - start:7.3f}s {order_id}")
                continue
            active += units
            verb = "sold" if units > 0 else "cancelled"
            lines.append(
                f"+{at - start:7.3f}s {account:12} {verb} {abs(units)} ({order_id}) -> {active}"
                + (" OVERSOLD" if active > self.stock[sku] else "")
            )
        return lines

    def row(self) -> dict[str, Any]:
        """The table row of this run (plain data)."""
        return {
            "faults": self.plan.label,
            "orders": len(self.sales),
            "offered": self.attempts,
            "cancelled": len(self.cancellations),
            "faults_injected": self.faults_injected,
            "kills": self.kills,
            "reauthorised": len(self.reauthorised),
            "lost": self.lost,
            "doubled": len(self.doubled),
            "oversold": self.oversold,
            "converged_s": None if self.converged_after is None else round(self.converged_after, 2),
        }

    def explain(self) -> str:
        """Every finding, with examples, for failure messages and the benchmark's log."""
        lines = []
        for name, items in (
            ("lost orders", self.lost_orders),
            ("lost cancellations", self.lost_cancellations),
            ("held short", self.held_short),
            ("doubled", self.doubled),
            ("not converged", self.problems),
            ("engine errors", self.engine_errors),
            ("authorised again after a kill", self.reauthorised),
        ):
            if items:
                lines.append(f"{name} ({len(items)}): {items[:5]}")
        if self.oversold_by_sku:
            lines.append(f"oversold by SKU: {self.oversold_by_sku}; on {self.oversold_on}")
            for sku in list(self.oversold_by_sku)[:3]:
                lines.append(f"{sku} ({self.stock[sku]} units), up to its first oversell:")
                events = self.timeline(sku)
                first = next(i for i, text in enumerate(events) if text.endswith("OVERSOLD"))
                lines += [f"  {event}" for event in events[max(0, first - 12) : first + 3]]
        if self.converged_after is None or self.converged_after > 5:
            if self.faults_off_at is not None:
                lines.append("sabotage, seconds before the faults stopped:")
                off = self.faults_off_at
                lines += [f"  -{off - at:6.2f}s {what}" for at, what in self.sabotage]
            lines.append("after faults stopped:")
            lines += [f"  +{at:6.2f}s {what or 'converged'}" for at, what in self.convergence]
            if self.unqueued:
                lines.append("listed otherwise with no push queued:")
                lines += [f"  +{at:6.2f}s {what}" for at, what in self.unqueued]
        return "\n".join(lines) or "nothing to report"


# -- the engine process ----------------------------------------------------------------------


RATE_WINDOW = 2.0
"""Seconds of the sliding window over which each sandbox's request rate is judged."""
RATE_SLACK = 0.1
"""Share of a budget that arrival jitter may add to a window's count."""


async def _rate_peaks(
    config: Path, sandboxes: Mapping[str, Sandbox]
) -> dict[str, tuple[int, float]]:
    """Per account: the most requests in any :data:`RATE_WINDOW`, and the budget's allowance."""
    from omnisdk.config import build_channel, load_config
    from omnisdk.plugins import Plugins

    plugins = Plugins()
    loaded = load_config(config, plugins=plugins)
    peaks: dict[str, tuple[int, float]] = {}
    for entry in loaded.channels:
        channel = build_channel(entry, plugins)
        http = channel.create_http_client()
        budget = http.limiter.budget
        await http.aclose()
        with sandboxes[entry.name].lock:
            times = sorted(record.at for record in sandboxes[entry.name].requests)
        peak, first = 0, 0
        for last, at in enumerate(times):
            while at - times[first] > RATE_WINDOW:
                first += 1
            peak = max(peak, last - first + 1)
        allowed = budget.burst + budget.requests_per_second * RATE_WINDOW
        peaks[entry.name] = (peak, allowed)
    return peaks


def free_port() -> int:
    """A loopback port free now (the receiver must come back on the same one after a kill)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class EngineProcess(ChildProcess):
    """``omnisdk run --json`` in ``workdir`` (its ``omnisdk.toml``), started and killed at will.

    ``plugins`` are the entry points it loads (``OMNISDK_LOAD_PLUGINS``).
    """

    def __init__(self, workdir: Path, webhook_port: int, *, plugins: Sequence[str]):
        self.workdir = workdir
        self.webhook_port = webhook_port
        self.env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("OMNISDK_CONFIG", "OMNISDK_DISABLE_PLUGINS", "COLUMNS")
        }
        self.env.update({"OMNISDK_LOAD_PLUGINS": ",".join(plugins), "PYTHONUNBUFFERED": "1"})
        self.process: subprocess.Popen[str] | None = None
        self.logs: list[Path] = []
        self.starts = 0

    def start(self, within: float = 60.0) -> dict[str, Any]:
        """Start ``omnisdk run``; returns its ``started`` JSON line once the receiver listens."""
        self.starts += 1
        log = self.workdir / f"engine-{self.starts}.log"
        self.logs.append(log)
        stderr: IO[str] = log.open("w", encoding="utf-8")
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            [
                sys.executable,
                "-m",
                "omnisdk",
                "run",
                "--json",
                "--webhook-port",
                str(self.webhook_port),
            ],
            cwd=self.workdir,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            encoding="utf-8",
        )
        stderr.close()
        assert self.process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + within
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    break
                if selector.select(timeout=0.1):
                    line = self.process.stdout.readline()
                    if line.strip().startswith("{"):
                        started: dict[str, Any] = json.loads(line)
                        if started.get("event") == "started":
                            return started
        finally:
            selector.close()
        self.kill()
        raise RuntimeError(f"omnisdk run did not start: {log.read_text(encoding='utf-8')[-2000:]}")

    def cpu_seconds(self) -> float:
        """CPU seconds the running process has used (0 when it is not running)."""
        return process_cpu_seconds(self.process.pid) if self.running and self.process else 0.0

    def tracebacks(self) -> list[str]:
        """The last line of each traceback any of the processes printed on stderr."""
        return traceback_tails(self.logs)


def write_config(
    workdir: Path,
    plan: ChaosPlan,
    servers: Mapping[str, tuple[Sandbox, str]],
    channel_classes: Mapping[str, type[Channel]],
    webhook_port: int,
) -> Path:
    """The run's ``omnisdk.toml``: the plan's store (a SQLite file by default), quota
    allocation, every account; with workers, a ``[celery]`` table whose queue names are the
    run's own (messages of another run are never consumed)."""
    store = plan.store_url or f"sqlite:///{workdir / 'omnisdk.db'}"
    lines = [f'[store]\nurl = "{store}"\n']
    if plan.workers:
        lines += [
            "[celery]",
            f"broker_url = {json.dumps(plan.broker_url)}",
            f'queue = "chaos-{os.getpid()}-{random.Random().randrange(10**9)}"',
            'visibility_timeout = "10s"',
        ]
        if plan.rate_limit_url:
            lines.append(f"rate_limit_url = {json.dumps(plan.rate_limit_url)}")
        lines.append("")
    lines += [
        "[engine]",
        'allocation = "quota"',
        f'push_interval = "{plan.push_interval}"',
        f'reconcile_interval = "{plan.reconcile_interval}"',
        'order_overlap = "5s"',
        'push_lease = "2s"',
        f"webhook_port = {webhook_port}",
        "",
    ]
    for account, (sandbox, base_url) in servers.items():
        settings = dict(sandbox.channel_settings(base_url))
        credentials = sandbox.client_credentials(base_url)
        if account in plan.client_credentials and "client_id" in credentials:
            settings.pop("access_token", None)
            settings["client_id"] = credentials["client_id"]
        fields = channel_classes[account].settings_model.model_fields
        for name in fields:
            # A platform that signs webhooks over the URL they were registered at is told it;
            # a rate budget the settings can lift is lifted (the sandboxes are the limit).
            if name.endswith("callback_url"):
                settings[name] = f"http://127.0.0.1:{webhook_port}/webhooks/{account}"
            elif name == "requests_per_second":
                settings[name] = plan.requests_per_second
        lines.append(f'[[channels]]\nname = "{account}"\ntype = "{sandbox.channel_type}"')
        lines.append("[channels.settings]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
        lines.append(f'[channels.poll]\norders = "{plan.poll_every}"\n')
    path = workdir / "omnisdk.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


# -- the run ---------------------------------------------------------------------------------


async def _list_catalog(config: Path, catalog: Mapping[str, int], within: float = 30.0) -> None:
    """Import the catalog from every shop, count its stock in and push until it is listed."""
    from omnisdk.plugins import Plugins
    from omnisdk.sync import Engine

    plugins = Plugins()
    async with Engine.from_config_file(config, plugins=plugins) as engine:
        for account in engine.channels:
            await engine.import_catalog(account)
        for sku, units in catalog.items():
            await engine.set_stock(sku, units)
        deadline = time.monotonic() + within
        while engine.store.pending_pushes() and time.monotonic() < deadline:
            await engine.push()


class _Buyers:
    """The buyers of a run: each orders (or cancels one of its orders) at a steady pace."""

    def __init__(
        self, outcome: ChaosOutcome, controls: Mapping[str, SandboxControl], plan: ChaosPlan
    ) -> None:
        self.outcome = outcome
        self.controls = controls
        self.plan = plan
        self.skus = list(outcome.stock)
        self.active: dict[str, int] = dict.fromkeys(self.skus, 0)
        self.open_orders: dict[tuple[str, int], list[Sale]] = {}

    def accepted(self, sale: Sale) -> None:
        self.outcome.sales.append(sale)
        self.active[sale.sku] += sale.quantity
        over = self.active[sale.sku] - self.outcome.stock[sale.sku]
        worst = self.outcome.oversold_by_sku.get(sale.sku, 0)
        if over > worst:
            # Only a new worst counts: once a SKU is oversold, a cancellation elsewhere puts
            # units back on that platform's listing and their resale re-reaches the same
            # deficit, which is not a new unit sold twice.
            self.outcome.oversold_by_sku[sale.sku] = over
            self.outcome.oversold_on[sale.account] = (
                self.outcome.oversold_on.get(sale.account, 0) + over - worst
            )

    async def buyer(self, account: str, index: int, every: float, until: float) -> None:
        control = self.controls[account]
        rng = random.Random(f"{self.plan.seed}:{account}:{index}")
        number = self.outcome.accounts.index(account) * 1000 + index + 1
        customer = {
            "name": f"Khách {index + 1} của {account}",
            "phone": f"+849{rng.randrange(10**7, 10**8)}",
            "email": f"khach{index + 1}.{account}@example.vn",
            "username": f"khach{number:04d}",
            "buyer_user_id": str(700_000_000 + number),
        }
        mine = self.open_orders.setdefault((account, index), [])
        next_at = time.monotonic() + rng.uniform(0, every)
        while time.monotonic() < until and self.outcome.attempts < self.plan.orders:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            next_at += every
            if mine and rng.random() < self.plan.cancel_share:
                sale = mine.pop(rng.randrange(len(mine)))
                # Counted back before the call: the platform restocks the units at once, and
                # another buyer may take them before this call's answer is read.
                self.active[sale.sku] -= sale.quantity
                try:
                    await control.cancel_order(sale.order_id)
                except SandboxRefused:  # the platform would not cancel it
                    self.active[sale.sku] += sale.quantity
                    continue
                self.outcome.cancellations.append(
                    Cancellation(account, sale.order_id, sale.sku, sale.quantity, time.monotonic())
                )
                continue
            sku = rng.choice(self.skus)
            quantity = rng.choice((1, 2))
            self.outcome.attempts += 1
            try:
                order_id = await control.place_order([(sku, quantity)], customer=customer)
            except SandboxRefused as refused:
                if refused.status != 409:
                    raise
                self.outcome.refused += 1
                continue
            sale = Sale(account, order_id, sku, quantity, dict(customer), time.monotonic())
            self.accepted(sale)
            mine.append(sale)

    async def run(self, seconds: float) -> None:
        count = len(self.controls) * self.plan.buyers
        every = count / self.plan.orders_per_second
        until = time.monotonic() + seconds
        await asyncio.gather(
            *(
                self.buyer(account, index, every, until)
                for account in self.controls
                for index in range(self.plan.buyers)
            )
        )


async def _saboteur(
    outcome: ChaosOutcome,
    engine: EngineProcess | WorkerFleet,
    controls: Mapping[str, SandboxControl],
    plan: ChaosPlan,
    seconds: float,
) -> None:
    """Kill the engine and expire tokens at random moments of the buying."""
    rng = random.Random(f"{plan.seed}:chaos")
    events = [(rng.uniform(0.1, 0.9) * seconds, "kill") for _ in range(plan.kills)]
    events += [(rng.uniform(0.1, 0.9) * seconds, "expire") for _ in range(plan.token_expiries)]
    started = time.monotonic()
    for at, what in sorted(events):
        await asyncio.sleep(max(0.0, started + at - time.monotonic()))
        if what == "kill":
            await asyncio.to_thread(engine.kill)
            outcome.kills += 1
            outcome.sabotage.append((time.monotonic(), "-- engine SIGKILLed"))
            await asyncio.sleep(rng.uniform(*plan.downtime))
            await asyncio.to_thread(engine.start)
            outcome.sabotage.append((time.monotonic(), "-- engine started again"))
        else:
            outcome.token_expiries += 1
            outcome.sabotage.append((time.monotonic(), "-- every access token expired"))
            for control in controls.values():
                with contextlib.suppress(SandboxRefused):  # 501: that platform's never expire
                    await control.expire_tokens()


async def _check(
    outcome: ChaosOutcome, engine: Engine, sandboxes: Mapping[str, Sandbox]
) -> list[str]:
    """What still differs from a converged engine (see the module doc); fills the findings."""
    from omnisdk.models import OrderStatus
    from omnisdk.sync.stock import order_reference
    from omnisdk.testing.flash_sale import listing_gaps

    store = engine.store
    every = await asyncio.to_thread(lambda: list(store.iter_orders()))
    stored = {(o.account, o.external_id): o for o in every}
    cancelled = {(c.account, c.order_id) for c in outcome.cancellations}
    outcome.lost_orders = [
        f"{s.account}:{s.order_id}" for s in outcome.sales if (s.account, s.order_id) not in stored
    ]
    outcome.lost_cancellations = [
        f"{account}:{order_id}"
        for account, order_id in sorted(cancelled)
        if (account, order_id) in stored
        and stored[(account, order_id)].order.status is not OrderStatus.CANCELLED
    ]
    held: dict[str, int] = {}
    for sku in outcome.stock:
        for entry in await asyncio.to_thread(store.ledger_entries, sku=sku):
            if entry.reference is not None and entry.reference.startswith("order:"):
                held[entry.reference] = held.get(entry.reference, 0) + entry.reserved_delta
    outcome.doubled, outcome.held_short = [], []
    for sale in outcome.sales:
        key = (sale.account, sale.order_id)
        if key not in stored:
            continue
        if key in cancelled and stored[key].order.status is not OrderStatus.CANCELLED:
            continue  # a lost cancellation (counted above), not a second hold
        should = 0 if key in cancelled else sale.quantity
        has = held.get(order_reference(sale.account, sale.order_id), 0)
        if has > should:
            outcome.doubled.append(f"{sale.account}:{sale.order_id} holds {has} of {should}")
        elif has < should:
            outcome.held_short.append(f"{sale.account}:{sale.order_id} holds {has} of {should}")
    accepted = {(s.account, s.order_id) for s in outcome.sales}
    phantoms = [f"{a}:{i}" for (a, i) in stored if (a, i) not in accepted]
    problems = [f"{len(outcome.lost_orders)} orders not stored"] if outcome.lost_orders else []
    if outcome.lost_cancellations:
        problems.append(f"{len(outcome.lost_cancellations)} cancellations not seen")
    if phantoms:
        problems.append(f"orders stored that no buyer placed: {phantoms[:5]}")
    if outcome.doubled or outcome.held_short:
        problems.append(f"ledger off: {(outcome.doubled + outcome.held_short)[:5]}")
    if not problems:
        problems += await listing_gaps(engine, sandboxes, list(outcome.stock))
        if any(s.inflight_quantity is not None for s in store.list_listings()):
            problems.append("stock writes still in flight")
    return problems


QUEUE_SAMPLE = 1.0
"""Seconds between samples of a fleet's queue depths."""


async def _sample_queues(fleet: WorkerFleet, outcome: ChaosOutcome) -> None:
    """Keep :attr:`ChaosOutcome.queue_peaks` up to date until cancelled."""
    while True:
        try:
            depths = await asyncio.to_thread(fleet.queue_depths)
        except Exception:  # the broker is busy or gone for a moment: the next sample
            depths = {}
        for kind, depth in depths.items():
            outcome.queue_peaks[kind] = max(outcome.queue_peaks.get(kind, 0), depth)
        await asyncio.sleep(QUEUE_SAMPLE)


def unqueued_states(store: Store, problems: Sequence[str], skus: Sequence[str]) -> str:
    """The SKUs of ``problems`` listed otherwise than the engine says with no push queued,
    each with its stock and every account's listing state ("" when there are none)."""
    parts = []
    for sku in skus:
        off = any(f" of {sku}, the engine says" in p for p in problems)
        if not off or any(p.startswith(f"{sku}: pushes still queued") for p in problems):
            continue
        levels = store.stock_levels(sku)
        stock = "/".join(f"{level.on_hand}-{level.reserved}" for level in levels)
        states = [
            f"{s.account}(pushed {s.last_pushed} listed {s.last_listed} unseen "
            f"{s.pending_unseen} seen {s.seen_since_push} window {s.window_hold} "
            f"over {s.overwritten} inflight {s.inflight_quantity} recent {s.sold_recent})"
            for s in store.list_listings(sku=sku)
        ]
        parts.append(f"{sku} stock {stock}: " + ", ".join(states))
    return "; ".join(parts)


async def _authorise_stopped(
    observer: Engine, sandboxes: Mapping[str, Sandbox], rewrite: Callable[[], Path]
) -> list[str]:
    """Authorise every ``needs_reauth`` account again, as its operator would: the merchant
    approves the app anew, the config gets the new pair (``rewrite``), then
    ``omnisdk channels reauthorise``. The running engine takes the token from the store.
    Returns the accounts authorised (none when no sandbox can renew one)."""
    from omnisdk.plugins import Plugins
    from omnisdk.sync import Engine

    stopped = await asyncio.to_thread(observer.store.list_accounts, status="needs_reauth")
    renewed = []
    for row in stopped:
        sandbox = sandboxes.get(row.name)
        if sandbox is None:
            continue
        try:
            sandbox.authorise_again()
        except NotSupported:
            continue
        renewed.append(row.name)
    if renewed:
        config = await asyncio.to_thread(rewrite)
        async with Engine.from_config_file(config, plugins=Plugins()) as operator:
            for account in renewed:
                await operator.reauthorise(account)
    return renewed


async def run_chaos(plan: ChaosPlan, workdir: Path) -> ChaosOutcome:
    """Run ``plan`` in ``workdir`` (config, store and the engines' logs go there)."""
    from omnisdk.plugins import Plugins
    from omnisdk.sync import Engine
    from omnisdk.testing.sandbox import SeedProduct

    shops = online_shops(plan.seed)
    for name, _, sandbox in shops:
        if plan.accounts is not None and name not in plan.accounts:
            sandbox.close()
    shops = [shop for shop in shops if plan.accounts is None or shop[0] in plan.accounts]
    if len(shops) < 2:
        raise RuntimeError("a chaos run needs at least two online channel plugins installed")
    sandboxes = {name: sandbox for name, _, sandbox in shops}
    catalog = flash_catalog(plan.skus, units=(plan.units,))
    outcome = ChaosOutcome(plan=plan, accounts=list(sandboxes), stock=dict(catalog))
    servers: dict[str, LoopbackServer] = {}
    controls = {a: SandboxControl.for_sandbox(s) for a, s in sandboxes.items()}
    port = free_port()
    engine: EngineProcess | WorkerFleet
    sampler: asyncio.Task[None] | None = None
    entry_points = sorted({s.channel_type for s in sandboxes.values()})
    if plan.workers:
        engine = WorkerFleet(
            workdir, port, plugins=entry_points, workers=plan.workers, seed=plan.seed
        )
    else:
        engine = EngineProcess(workdir, port, plugins=entry_points)
    try:
        for account, sandbox in sandboxes.items():
            with sandbox.lock:
                sandbox.seed_products(
                    [
                        SeedProduct(sku=sku, title=title_of(sku), price="129000", stock=0)
                        for sku in catalog
                    ]
                )
            servers[account] = LoopbackServer(sandbox.app).start()

        def rewrite() -> Path:
            return write_config(
                workdir,
                plan,
                {a: (s, servers[a].base_url) for a, s in sandboxes.items()},
                {name: channel_class for name, channel_class, _ in shops},
                port,
            )

        config = rewrite()
        await _list_catalog(config, catalog)
        for account, control in controls.items():
            await control.set_webhook_url(f"http://127.0.0.1:{port}/webhooks/{account}")
        await asyncio.to_thread(engine.start)
        if isinstance(engine, WorkerFleet):
            sampler = asyncio.create_task(_sample_queues(engine, outcome))
        for index, control in enumerate(controls.values()):
            if plan.faults:
                await control.set_faults(**plan.faults, seed=plan.seed + index)
        seconds = plan.orders / plan.orders_per_second
        buyers = _Buyers(outcome, controls, plan)
        started = time.monotonic()
        sabotage = asyncio.create_task(_saboteur(outcome, engine, controls, plan, seconds))
        try:
            await buyers.run(seconds * 1.5)
        finally:
            await sabotage
        outcome.buying_seconds = time.monotonic() - started
        if isinstance(engine, WorkerFleet):
            with contextlib.suppress(Exception):
                outcome.queue_after_buying = await asyncio.to_thread(engine.queue_depths)
        for control in controls.values():
            await control.set_faults()
        faults_off = outcome.faults_off_at = time.monotonic()
        if not engine.running:
            await asyncio.to_thread(engine.start)
        for sandbox in sandboxes.values():
            with sandbox.lock:
                outcome.faults_injected += sum(1 for r in sandbox.requests if r.fault)
                outcome.webhook_duplicates += sum(
                    1 for w in sandbox.webhook_log if w.get("duplicate")
                )
        async with Engine.from_config_file(config, plugins=Plugins()) as observer:
            while True:
                outcome.problems = await _check(outcome, observer, sandboxes)
                elapsed = time.monotonic() - faults_off
                if outcome.problems and outcome.kills:
                    for account in await _authorise_stopped(observer, sandboxes, rewrite):
                        outcome.reauthorised.append((round(elapsed, 2), account))
                shown = "; ".join(outcome.problems[:3])
                if not outcome.convergence or outcome.convergence[-1][1] != shown:
                    outcome.convergence.append((round(elapsed, 2), shown))
                states = unqueued_states(observer.store, outcome.problems, list(outcome.stock))
                if states and (not outcome.unqueued or outcome.unqueued[-1][1] != states):
                    outcome.unqueued.append((round(elapsed, 2), states))
                if not outcome.problems:
                    outcome.converged_after = elapsed
                    break
                if elapsed > plan.converge_within:
                    break
                await asyncio.sleep(0.2)
        outcome.engine_cpu_seconds = engine.cpu_seconds()
        if isinstance(engine, WorkerFleet):
            outcome.mid_task_kills = engine.mid_task_kills
            outcome.tasks = engine.task_counts()
        exit_code = await asyncio.to_thread(engine.stop)
        if exit_code not in (0, 1):
            outcome.engine_errors.append(f"omnisdk run exited {exit_code} on SIGTERM")
        outcome.rate_peaks = await _rate_peaks(config, sandboxes)
    finally:
        if sampler is not None:
            sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sampler
        if isinstance(engine, WorkerFleet):
            await asyncio.to_thread(engine.kill_all)
            with contextlib.suppress(Exception):  # a broker gone: nothing left to delete
                await asyncio.to_thread(engine.delete_queues)
        else:
            await asyncio.to_thread(engine.kill)
        for control in controls.values():
            await control.aclose()
        for server in servers.values():
            server.stop()
        for sandbox in sandboxes.values():
            sandbox.close()
    outcome.engine_errors += engine.tracebacks()
    return outcome
