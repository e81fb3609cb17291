"""What does the status page cost the store, per read and with many viewers open?

A store with ``--accounts`` channel accounts each listing ``--skus`` SKUs (a third of the
listings held at 0 or moved by the quotas, some failed pushes and quarantined payloads) and
``--orders`` orders of 1-3 lines, Vietnamese product names. Then:

====================  =========================================================================
overview              one read of the overview's data (the ``omnisdk status`` queries, newest
                      orders, held-back listings, oversold levels) and its rendering
sku page              one SKU's stock view and title, and its rendering
viewers               ``--viewers`` live streams and as many page loads a second, for
                      ``--seconds``, through one StatusPage: how often the store is read
====================  =========================================================================

For the first two: the median over ``--repeat`` runs of the wall time and of this process's
CPU time (its threads included), in milliseconds. For the viewers: store reads per second
(the shared cache keeps it at about one per second per page, whatever the number of viewers)
and the CPU seconds the process spent per second of wall time.

    python benchmarks/status_page.py                         # SQLite
    python benchmarks/status_page.py --store postgresql      # a throw-away database
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text

from omnisdk.config import ChannelConfig, Config, StoreConfig
from omnisdk.models import ChannelRef, Money, Order, OrderLine, OrderStatus, Product, Variant
from omnisdk.statuspage import StatusPage, read_overview, read_sku
from omnisdk.statuspage.render import OVERVIEW_SECTIONS, SKU_SECTIONS, PageRenderer
from omnisdk.store import Store, open_store
from omnisdk.sync import Engine

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
NAMES = ("Áo thun cổ tròn", "Nón lá Huế", "Áo dài lụa Hà Đông", "Quần jean ống suông", "Túi cói")


def _fill(store: Store, accounts: int, skus: int, orders: int, rng: random.Random) -> list[str]:
    names = [f"shop-{n:02d}" for n in range(accounts)]
    codes = [f"SP-{n:05d}-ĐỎ" for n in range(skus)]
    with store.session() as session:
        for code in codes:
            store.upsert_product(
                Product(
                    title=f"{rng.choice(NAMES)} {code}",
                    variants=[Variant(sku=code, price=Money.of(129000, "VND"))],
                ),
                session=session,
            )
    for name in names:
        store.ensure_account(name, "example")
        with store.session() as session:
            for code in codes:
                store.ensure_listing(name, code, session=session)
                store.record_push(
                    name,
                    code,
                    quantity=rng.choice((0, 0, 3, 5, 8, 12)),
                    pending_unseen=0,
                    seen_accounted=0,
                    listed=None,
                    rebalanced=rng.random() < 0.1,
                    starved=rng.random() < 0.05,
                    session=session,
                )
        for n in range(3):
            store.quarantine(name, "order", f"{name}-bad-{n}", "giá không hợp lệ", {"n": n})
        store.record_push_failure(name, codes[0], "sản phẩm bị khoá", code="LOCKED")
    placed = datetime(2026, 12, 1, tzinfo=UTC)
    unit = Money.of(129000, "VND")
    batch: list[Order] = []
    for n in range(orders):
        lines = [
            OrderLine(sku=rng.choice(codes), quantity=rng.randint(1, 3), unit_price=unit)
            for _ in range(rng.randint(1, 3))
        ]
        total = unit * sum(line.quantity for line in lines)
        batch.append(
            Order(
                channel_ref=ChannelRef(
                    channel="example", account=rng.choice(names), external_id=f"DH{n:07d}"
                ),
                number=f"#{n}",
                status=OrderStatus.CONFIRMED,
                currency="VND",
                lines=lines,
                subtotal=total,
                total=total,
                created_at=placed + timedelta(seconds=n),
                updated_at=placed + timedelta(seconds=n),
            )
        )
        if len(batch) == 500 or n == orders - 1:
            with store.session() as session:
                refs = [(o.channel_ref.account, o.channel_ref.external_id) for o in batch]
                locked = store.lock_orders(session, refs)
                store.save_orders(session, [(o, None) for o in batch], locked)
            batch = []
    return codes


async def _median_ms(repeat: int, work: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        await work()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return statistics.median(walls), statistics.median(cpus)


async def _viewers(page: StatusPage, viewers: int, seconds: float) -> tuple[float, float]:
    transport = httpx.ASGITransport(app=page.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://status.bench") as http:

        async def watch() -> None:
            async with http.stream("GET", "/events") as response:
                async for _ in response.aiter_lines():
                    pass

        async def load_pages() -> None:
            while True:
                await asyncio.gather(*(http.get("/") for _ in range(viewers)))
                await asyncio.sleep(1)

        before = page.cache.loads
        wall, cpu = time.perf_counter(), time.process_time()
        tasks = [asyncio.create_task(watch()) for _ in range(viewers)]
        tasks.append(asyncio.create_task(load_pages()))
        await asyncio.sleep(seconds)
        page.close()
        await asyncio.sleep(page.interval * 2)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        elapsed = time.perf_counter() - wall
        return (page.cache.loads - before) / elapsed, (time.process_time() - cpu) / elapsed


async def run(args: argparse.Namespace) -> None:
    rng = random.Random(15)
    with tempfile.TemporaryDirectory() as directory:
        if args.store == "sqlite":
            url, drop = f"sqlite:///{Path(directory) / 'bench.db'}", None
        else:
            name = f"omnisdk_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            url, drop = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", (admin, name)
        try:
            store = open_store(url)
            codes = _fill(store, args.accounts, args.skus, args.orders, rng)
            renderer = PageRenderer()
            config = Config(
                store=StoreConfig(url=url),
                channels=[
                    ChannelConfig(
                        name=f"shop-{n:02d}",
                        type="example",
                        settings={"base_url": "http://127.0.0.1:9", "api_token": "bench-token"},
                    )
                    for n in range(args.accounts)
                ],
            )
            async with Engine(config, store=store) as engine:

                async def overview() -> None:
                    data = await read_overview(engine)
                    renderer.sections(OVERVIEW_SECTIONS, {"view": data, "base": ""})

                async def sku_page() -> None:
                    data = await read_sku(engine, rng.choice(codes))
                    renderer.sections(SKU_SECTIONS, {"stock": data, "base": ""})

                rows = [
                    ("overview", *await _median_ms(args.repeat, overview)),
                    ("sku page", *await _median_ms(args.repeat, sku_page)),
                ]
                reads, cpu_share = await _viewers(StatusPage(engine), args.viewers, args.seconds)
            store.close()
        finally:
            if drop is not None:
                admin, name = drop
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
    table = Table(
        title=(
            f"status page on {args.store}: {args.accounts} accounts x {args.skus} SKUs, "
            f"{args.orders} orders"
        ),
        title_justify="left",
    )
    for column in ("what", "wall ms (median)", "CPU ms (median)"):
        table.add_column(column, justify="left" if column == "what" else "right")
    for name, wall, cpu in rows:
        table.add_row(name, f"{wall:.1f}", f"{cpu:.1f}")
    console = Console()
    console.print(table)
    console.print(
        f"{args.viewers} live viewers + {args.viewers} page loads/s for {args.seconds:.0f} s: "
        f"{reads:.2f} store reads/s, {cpu_share:.2f} CPU s per s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--accounts", type=int, default=4)
    parser.add_argument("--skus", type=int, default=2000)
    parser.add_argument("--orders", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--viewers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=5.0)
    asyncio.run(run(parser.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
