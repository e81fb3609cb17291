"""How many order events per second does intake take, and how many SQL statements each?

Two channel accounts (a marketplace and a social shop, both taking stock pushes) list the same
SKUs, with stock at the default location. Orders of 1-3 lines over those SKUs, bought by
Vietnamese buyers (names with diacritics, +84 phones; a buyer often orders again), go through
the engine's two entry points:

* ``poll_orders``: the channel streams the orders (already mapped: this measures intake,
  not a platform's mapping), as a poll does;
* ``record_order``: one order at a time, as an app records its own orders.

Phases, in this sequence, each on the store the previous ones left:

====================  =========================================================================
poll: new             N new orders, paid (a tenth cash on delivery, pending)
poll: mixed           N/2 exact duplicates, N/4 status changes (paid -> shipped, one in five
                      cancelled), N/4 new orders, shuffled
poll: duplicates      the N first orders again (what an overlapping poll re-reads)
poll: status          N/4 status changes of other first orders (paid -> shipped, cancelled)
record: new           N/4 new orders through ``record_order``
record: duplicates    those N/4 again
record: status        N/4 status changes (shipped -> delivered, paid -> shipped)
====================  =========================================================================

For each phase: events, events/s (wall clock; one process, one core), events per CPU second
of this process (its threads included: the client's cost, which a machine shared with other
jobs disturbs far less than the wall clock), on PostgreSQL also events per CPU second of
client *and* server (the backends serving the benchmark's database, read from
``pg_stat_activity`` and ``/proc/<pid>/stat`` when the server runs on this machine), SQL
statements per event and write statements (INSERT/UPDATE/DELETE) per event,
counted with a SQLAlchemy ``before_cursor_execute`` listener (an executemany counts as one).
A final line checks the outcome (orders, ledger entries, levels, outbox, customers, hooks
fired), so two versions of the code can be compared for results as well as speed.

SQLite runs on a file in a temporary directory; PostgreSQL on a throw-away database created
on ``--pg-url`` and dropped afterwards.

    python benchmarks/intake.py                       # both databases, N = 2000
    python benchmarks/intake.py --store sqlite -n 500
    python benchmarks/intake.py --profile intake.prof # cProfile of the first phase
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import logging
import os
import random
import secrets
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, event, make_url, text

from omnisdk import Capability, Channel, hookimpl
from omnisdk.config import ChannelConfig, Config, EngineConfig, StoreConfig
from omnisdk.models import (
    ChannelRef,
    Customer,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    PaymentStatus,
    Phone,
)
from omnisdk.plugins import Plugins
from omnisdk.store import Store
from omnisdk.sync.engine import Engine
from omnisdk.testing.registration import ContributeChannels

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ACCOUNTS = ("shopee-hcm", "tiktok-hn")
STOCK = 1_000_000
T0 = datetime(2026, 11, 11, 0, 0, tzinfo=UTC)

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ"]
MIDDLE = ["Văn", "Thị", "Hữu", "Minh", "Ngọc", "Đức", "Thu", "Quốc", "Thanh", "Hồng"]
GIVEN = ["An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Khánh", "Linh", "Mai", "Nhung", "Phúc"]
GIVEN += ["Quân", "Sơn", "Thảo", "Trâm", "Tuấn", "Uyên", "Việt", "Xuân", "Yến"]
PRODUCTS = ["ÁO-THUN", "QUẦN-JEAN", "NÓN-LÁ", "CÀ-PHÊ", "TRÀ-SEN", "DÉP-TỔ-ONG", "ÁO-DÀI"]
PRODUCTS += ["TÚI-CÓI"]


class BenchChannel(Channel):
    """A channel whose order stream is whatever the benchmark queued (no HTTP, no mapping)."""

    name: ClassVar[str] = "bench"
    title: ClassVar[str] = "Benchmark"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.READ_ORDERS, Capability.WRITE_STOCK}
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queued: list[Order] = []

    async def _queued(self) -> AsyncIterator[Order]:
        orders, self.queued = self.queued, []
        for order in orders:
            yield order

    def stream_orders(self, *, updated_since: datetime | None = None) -> AsyncIterator[Order]:
        """The queued orders, once (a benchmark's stand-in for fetching and mapping)."""
        return self._queued()


@dataclass
class HookCounter:
    """Counts the event hooks intake fires."""

    calls: Counter[str] = field(default_factory=Counter)

    @hookimpl
    def omnisdk_order_received(self, order: Order, is_new: bool) -> None:
        self.calls["order_received"] += 1

    @hookimpl
    def omnisdk_order_status_changed(self, order: Order, previous: OrderStatus | None) -> None:
        self.calls["status_changed"] += 1

    @hookimpl
    def omnisdk_stock_changed(
        self, sku: str, location: str, on_hand: int, reserved: int, reason: str
    ) -> None:
        self.calls["stock_changed"] += 1

    @hookimpl
    def omnisdk_customer_merged(self, customer: Customer, merged: Customer, reason: str) -> None:
        self.calls["customer_merged"] += 1


@dataclass
class StatementCounter:
    """SQL statements sent to the database (an executemany counts once), and how many wrote."""

    statements: int = 0
    writes: int = 0

    def __call__(
        self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        self.statements += 1
        if statement.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
            self.writes += 1


# -- the workload -----------------------------------------------------------------------------


class Workload:
    """Orders, buyers and their later versions, from a seeded random generator."""

    def __init__(self, skus: int, seed: int = 2026) -> None:
        self.random = random.Random(seed)
        self.skus = [f"{PRODUCTS[n % len(PRODUCTS)]}-{n:03d}" for n in range(skus)]
        self.prices = {sku: 50_000 + 1_000 * self.random.randrange(400) for sku in self.skus}
        self.buyers: list[Customer] = []
        self.serial = 0
        self.tick = 0

    def _buyer(self) -> Customer:
        # Two orders in five come from someone who ordered before.
        if self.buyers and self.random.random() < 0.4:
            return self.random.choice(self.buyers)
        pick = self.random.choice
        name = f"{pick(FAMILY)} {pick(MIDDLE)} {pick(GIVEN)}"
        phone = f"+849{self.random.randrange(10**8):08d}"
        customer = Customer(full_name=name, phones=[Phone.parse(phone)])
        self.buyers.append(customer)
        return customer

    def _stamp(self) -> datetime:
        self.tick += 1
        return T0 + timedelta(seconds=self.tick)

    def new_order(self) -> Order:
        """A new paid order (cash on delivery, pending, one time in ten) of 1-3 lines."""
        self.serial += 1
        account = ACCOUNTS[self.serial % len(ACCOUNTS)]
        lines = [
            OrderLine(
                sku=sku,
                title=f"{sku.split('-')[0].title()} mẫu {sku[-3:]}",
                quantity=self.random.randint(1, 3),
                unit_price=Money.of(self.prices[sku], "VND"),
            )
            for sku in self.random.sample(self.skus, self.random.randint(1, 3))
        ]
        total = sum((line.total.amount for line in lines), Decimal(0))
        cod = self.random.random() < 0.1
        stamp = self._stamp()
        return Order(
            channel_ref=ChannelRef(
                channel="bench", account=account, external_id=f"2611VN{self.serial:07d}"
            ),
            number=f"#{self.serial}",
            status=OrderStatus.PENDING if cod else OrderStatus.CONFIRMED,
            payment_status=PaymentStatus.UNPAID if cod else PaymentStatus.PAID,
            currency="VND",
            lines=lines,
            subtotal=Money.of(total, "VND"),
            total=Money.of(total, "VND"),
            customer=self._buyer(),
            created_at=stamp,
            updated_at=stamp,
        )

    def next_status(self, order: Order) -> Order:
        """The order's next version: paid -> shipped (one in five cancelled instead),
        shipped -> delivered."""
        if order.status is OrderStatus.SHIPPED:
            status = OrderStatus.DELIVERED
        elif self.random.random() < 0.2:
            status = OrderStatus.CANCELLED
        else:
            status = OrderStatus.SHIPPED
        return order.model_copy(update={"status": status, "updated_at": self._stamp()})


# -- running ----------------------------------------------------------------------------------


@dataclass
class PhaseResult:
    """One phase's figures."""

    name: str
    events: int
    seconds: float
    cpu_seconds: float
    statements: int
    writes: int
    server_cpu_seconds: float | None = None
    """CPU seconds of the PostgreSQL backends serving the run (None: not known)."""

    def row(self) -> dict[str, Any]:
        """The figures as the table and JSON show them."""
        both = (
            self.cpu_seconds + self.server_cpu_seconds
            if self.server_cpu_seconds is not None
            else None
        )
        return {
            "phase": self.name,
            "events": self.events,
            "events_per_s": round(self.events / self.seconds) if self.seconds else 0,
            "events_per_cpu_s": round(self.events / self.cpu_seconds) if self.cpu_seconds else 0,
            "events_per_total_cpu_s": round(self.events / both) if both else None,
            "statements_per_event": round(self.statements / self.events, 2),
            "writes_per_event": round(self.writes / self.events, 2),
        }


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A throw-away PostgreSQL database (its URL), dropped afterwards."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"omnisdk_bench_{secrets.token_hex(6)}"
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8'"))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class ServerCpu:
    """CPU seconds the PostgreSQL backends serving one database have used, when the server
    runs on this machine (``/proc/<pid>/stat`` of the pids ``pg_stat_activity`` names)."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url, isolation_level="AUTOCOMMIT", pool_size=1)
        self.tick = os.sysconf("SC_CLK_TCK")

    def _pids(self) -> list[int]:
        with self.engine.connect() as connection:
            query = text(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return [int(pid) for pid in connection.execute(query).scalars()]

    def sample(self) -> dict[int, float] | None:
        """CPU seconds per backend now (None: a backend's /proc entry cannot be read)."""
        figures = {}
        for pid in self._pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                return None
            figures[pid] = (int(fields[11]) + int(fields[12])) / self.tick  # utime + stime
        return figures

    @staticmethod
    def used(before: dict[int, float] | None, after: dict[int, float] | None) -> float | None:
        """CPU seconds used between two samples (a backend new since counts from 0)."""
        if before is None or after is None:
            return None
        return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())

    def close(self) -> None:
        self.engine.dispose()


def engine_for(url: str, hooks: HookCounter) -> Engine:
    """An engine over ``url`` with the two benchmark accounts."""
    plugins = Plugins(entry_points=False)
    plugins.register(ContributeChannels(BenchChannel), name="bench-channel")
    plugins.register(hooks, name="bench-hooks")
    config = Config(
        store=StoreConfig(url=url),
        engine=EngineConfig(),
        channels=[ChannelConfig(name=name, type="bench", settings={}) for name in ACCOUNTS],
    )
    return Engine(config, plugins=plugins)


async def _inline(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """``SyncContext.run`` without the worker thread (for the profiler)."""
    return fn(*args, **kwargs)


async def _poll(engine: Engine, orders: list[Order]) -> None:
    for account in ACCOUNTS:
        channel = engine.channels[account]
        assert isinstance(channel, BenchChannel)
        channel.queued = [o for o in orders if o.channel_ref.account == account]
        await engine.poll_orders(account)


async def _record(engine: Engine, orders: list[Order]) -> None:
    for order in orders:
        await engine.record_order(order)


def outcome(store: Store, hooks: HookCounter) -> dict[str, int]:
    """What the run left: counts to compare between two versions of the code."""
    levels = [
        lv
        for sku in sorted({e.sku for e in store.ledger_entries()})
        for lv in store.stock_levels(sku)
    ]
    return {
        "orders": sum(1 for _ in store.iter_orders()),
        "ledger_entries": sum(1 for _ in store.ledger_entries()),
        "on_hand": sum(lv.on_hand for lv in levels),
        "reserved": sum(lv.reserved for lv in levels),
        "outbox": len(store.pending_pushes(limit=100_000)),
        "customers": sum(1 for _ in store.iter_customers()),
        "seen_since_push": sum(s.seen_since_push for s in store.list_listings()),
        **{f"hook_{name}": count for name, count in sorted(hooks.calls.items())},
    }


async def run(url: str, orders: int, skus: int, profile: Path | None) -> dict[str, Any]:
    """Every phase on the store at ``url``; the figures and the outcome."""
    work = Workload(skus)
    hooks = HookCounter()
    async with engine_for(url, hooks) as engine:
        for sku in work.skus:
            for account in ACCOUNTS:
                await engine.add_listing(account, sku)
            await engine.set_stock(sku, STOCK)
        hooks.calls.clear()
        counter = StatementCounter()
        event.listen(engine.store.engine, "before_cursor_execute", counter)
        server = ServerCpu(url) if url.startswith("postgresql") else None

        first = [work.new_order() for _ in range(orders)]
        changed = [work.next_status(o) for o in work.random.sample(first, orders // 4)]
        mixed = (
            work.random.sample(first, orders // 2)
            + changed
            + [work.new_order() for _ in range(orders // 4)]
        )
        work.random.shuffle(mixed)
        recorded = [work.new_order() for _ in range(orders // 4)]
        taken = {o.channel_ref.external_id for o in changed}
        untouched = [o for o in first if o.channel_ref.external_id not in taken]
        moved = [work.next_status(o) for o in work.random.sample(untouched, orders // 4)]
        movers = [o for o in changed if o.status is OrderStatus.SHIPPED] + recorded
        later = [work.next_status(o) for o in movers[: orders // 4]]
        phases: list[tuple[str, Callable[[], Any], int]] = [
            ("poll: new", lambda: _poll(engine, first), len(first)),
            ("poll: mixed", lambda: _poll(engine, mixed), len(mixed)),
            ("poll: duplicates", lambda: _poll(engine, first), len(first)),
            ("poll: status", lambda: _poll(engine, moved), len(moved)),
            ("record: new", lambda: _record(engine, recorded), len(recorded)),
            ("record: duplicates", lambda: _record(engine, recorded), len(recorded)),
            ("record: status", lambda: _record(engine, later), len(later)),
        ]
        results = []
        for index, (name, phase, events) in enumerate(phases):
            counter.statements = counter.writes = 0
            profiler = cProfile.Profile() if profile is not None and index == 0 else None
            if profiler is not None:
                # cProfile sees one thread: run the store calls inline while profiling.
                engine._ctx.run = _inline  # type: ignore[method-assign]
            server_before = server.sample() if server is not None else None
            started = time.perf_counter()
            cpu_started = time.process_time()
            if profiler is not None:
                profiler.enable()
            await phase()
            if profiler is not None:
                profiler.disable()
            seconds = time.perf_counter() - started
            cpu_seconds = time.process_time() - cpu_started
            server_seconds = (
                ServerCpu.used(server_before, server.sample()) if server is not None else None
            )
            if profiler is not None and profile is not None:
                profiler.dump_stats(str(profile))
                del engine._ctx.run
            results.append(
                PhaseResult(
                    name,
                    events,
                    seconds,
                    cpu_seconds,
                    counter.statements,
                    counter.writes,
                    server_seconds,
                )
            )
        event.remove(engine.store.engine, "before_cursor_execute", counter)
        if server is not None:
            server.close()
        return {
            "phases": [r.row() for r in results],
            "outcome": await asyncio.to_thread(outcome, engine.store, hooks),
        }


def print_table(title: str, figures: dict[str, Any]) -> None:
    """One database's figures as a table, then its outcome line."""
    table = Table(title=title)
    columns = [
        ("phase", "phase"),
        ("events", "events"),
        ("events/s", "events_per_s"),
        ("events/cpu s", "events_per_cpu_s"),
        ("events/cpu s (client+server)", "events_per_total_cpu_s"),
        ("statements/event", "statements_per_event"),
        ("writes/event", "writes_per_event"),
    ]
    for label, _ in columns:
        table.add_column(label, justify="left" if label == "phase" else "right")
    for row in figures["phases"]:
        table.add_row(*(str(row[key]) if row[key] is not None else "-" for _, key in columns))
    console = Console()
    console.print(table)
    console.print("outcome: " + ", ".join(f"{k}={v}" for k, v in figures["outcome"].items()))


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run on each database asked for, print the tables (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--store",
        choices=("sqlite", "postgresql", "both"),
        default="both",
        help="which database to run on (default both)",
    )
    parser.add_argument("-n", "--orders", type=int, default=2000, help="orders of the first phase")
    parser.add_argument("--skus", type=int, default=200, help="SKUs the orders draw from")
    parser.add_argument(
        "--pg-url", default=PG_ADMIN_URL, help="PostgreSQL server to make the database on"
    )
    parser.add_argument(
        "--profile", type=Path, help="write a cProfile of the first phase (SQLite) to this file"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    found: dict[str, Any] = {}
    if options.store in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as directory:
            url = f"sqlite:///{Path(directory) / 'omnisdk.db'}"
            found["sqlite"] = asyncio.run(run(url, options.orders, options.skus, options.profile))
    if options.store in ("postgresql", "both"):
        with postgres_database(options.pg_url) as url:
            found["postgresql"] = asyncio.run(run(url, options.orders, options.skus, None))
    if options.json:
        print(json.dumps(found, indent=2))
    else:
        for database, figures in found.items():
            print_table(
                f"Order intake on {database} ({options.orders} orders, {options.skus} SKUs, "
                f"{len(ACCOUNTS)} accounts)",
                figures,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
