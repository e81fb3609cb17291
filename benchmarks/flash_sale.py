"""A flash sale (11.11) over every installed online channel: does any channel sell a unit
another channel already sold, and what does preventing it cost?

An account of every installed channel whose sandbox refuses what is not listed (in a
checkout: the example plugin, Lazada, Shopee and Shopify; at least three accounts, see
``omnisdk.testing.flash_sale.online_shops``) lists ``--skus`` SKUs of ``--units`` units.
``--buyers`` buyers per channel order one or two units of a random SKU, again and again
with no pause, through each sandbox's control API, while the engine runs in
the local runtime (as ``omnisdk run``: order pollers every ``--poll`` seconds, pushers woken
by every stock change, no webhooks). Once no order was accepted anywhere for a while the
buyers stop and the engine is left to converge. Each allocation (``[engine] allocation``)
runs the same sale, with the same buyers' random choices, on a fresh store and fresh shops.

Demand: ``uniform`` (every buyer wants every SKU, the colleague's 11.11 test) and ``split``
(each SKU is wanted on one channel only, so what the other channels list sells only once it
is moved there; a SKU of fewer units than channels reaches the one its buyers are on by a
quota turn, ``--rotate-after`` seconds, so give ``--quiet`` more than that).

The sandboxes run in this process (so their listings can be read at the moment a buyer is
refused); the buyers run on a thread and an event loop of their own, the engine on the main
loop. Channels are not rate limited (the channels' budgets and the Shopify sandbox's query
cost bucket are lifted), so this measures the engine, not the platforms.

    python benchmarks/flash_sale.py                       # quota and shared, on SQLite
    python benchmarks/flash_sale.py --postgresql          # and on PostgreSQL
    python benchmarks/flash_sale.py --faults 0.2 --json
    python benchmarks/flash_sale.py --modes quota --demand uniform --faults 0.4 \
        --units 40 --pause 1.5 --limit 60          # issue #10: ~16 orders/s, 40 % faults

Columns, per allocation: orders offered per second (accepted or refused), orders accepted,
units sold (of the units there were), units oversold, refusals while units of that SKU
remained unsold and another channel listed some (read from the sandboxes at the moment of
the refusal), sell-outs
(an order left a channel at 0 of a SKU whose units remained on other channels), how many of
them the channel listed the SKU again, the time until it did (p50, p99), the stock write
calls the platforms carried out (pushes), the platform calls answered with an injected fault,
and the seconds until every order was stored and every listing agreed with the engine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import secrets
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, make_url, text

from omnisdk import Channel
from omnisdk.config import ChannelConfig, Config, EngineConfig, PollIntervals, StoreConfig
from omnisdk.plugins import Plugins
from omnisdk.runtime import LocalRuntime
from omnisdk.store import Store
from omnisdk.sync import Engine
from omnisdk.testing import flash_sale
from omnisdk.testing.control import IN_PROCESS_URL, SandboxControl
from omnisdk.testing.flash_sale import (
    FlashSaleOutcome,
    converge,
    describe,
    flash_catalog,
    listing_gaps,
    run_flash_sale,
    split_demand,
    title_of,
)
from omnisdk.testing.registration import ContributeChannels, unthrottled
from omnisdk.testing.sandbox import Sandbox

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def online_shops(seed: int) -> list[tuple[str, type[Channel], Sandbox]]:
    """A fresh sandbox per account of every installed online channel."""
    shops = flash_sale.online_shops(seed)
    if len(shops) < 2:
        raise SystemExit("the flash sale needs at least two online channel plugins installed")
    return shops


@contextmanager
def sqlite_store() -> Iterator[str]:
    """A migrated SQLite store in a temporary directory."""
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'omnisdk.db'}"
        migrate(url)
        yield url


@contextmanager
def postgresql_store(admin_url: str) -> Iterator[str]:
    """A migrated throw-away database on the PostgreSQL server of ``admin_url``."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"omnisdk_bench_{secrets.token_hex(6)}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8'"))
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        migrate(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def migrate(url: str) -> None:
    """Bring the store at ``url`` to the newest schema."""
    store = Store(url)
    try:
        store.migrate()
    finally:
        store.close()


@asynccontextmanager
async def open_engine(
    url: str,
    shops: list[tuple[str, type[Channel], Sandbox]],
    allocation: str,
    poll: float,
    rotate_after: float,
) -> AsyncIterator[Engine]:
    """An engine over ``shops`` (reached in-process, unthrottled) in ``allocation``."""
    config = Config(
        store=StoreConfig(url=url),
        engine=EngineConfig(
            allocation=allocation,
            push_interval=timedelta(seconds=0.25),
            order_overlap=timedelta(seconds=2),
            rotate_after=timedelta(seconds=rotate_after),
        ),
        channels=[
            ChannelConfig(
                name=name,
                type=channel_class.name,
                settings=sandbox.channel_settings(IN_PROCESS_URL),
                poll=PollIntervals(orders=timedelta(seconds=poll)),
            )
            for name, channel_class, sandbox in shops
        ],
    )
    plugins = Plugins(entry_points=False)
    plugins.register(ContributeChannels(*dict.fromkeys(c for _, c, _ in shops)), name="online")
    transports = {name: httpx.ASGITransport(app=sandbox.app) for name, _, sandbox in shops}
    engine = Engine(config, plugins=plugins, transports=transports)
    await engine.open()
    try:
        for channel in engine.channels.values():
            unthrottled(channel)
        yield engine
    finally:
        await engine.aclose()


async def list_catalog(
    engine: Engine, shops: list[tuple[str, type[Channel], Sandbox]], catalog: dict[str, int]
) -> None:
    """List every SKU of ``catalog`` on every shop and push until the figures settle."""
    for name, _, sandbox in shops:
        async with SandboxControl.for_sandbox(sandbox) as control:
            await control.seed(
                [
                    {"sku": sku, "title": title_of(sku), "price": "199000", "currency": "VND"}
                    for sku in catalog
                ]
            )
        for sku in catalog:
            await engine.add_listing(name, sku)
    for sku, units in catalog.items():
        await engine.set_stock(sku, units)
    # The sale opens once every channel lists what the engine says (under quota the first
    # figures may take a few pushes), or after 5 s: then it opens on what is listed.
    sandboxes = {name: sandbox for name, _, sandbox in shops}
    for _ in range(100):
        await engine.push()
        if not await listing_gaps(engine, sandboxes, list(catalog)):
            return
        await asyncio.sleep(0.05)


async def one_sale(
    url: str, allocation: str, demand: str, options: argparse.Namespace
) -> dict[str, Any]:
    """One flash sale on a fresh store and fresh shops; its figures."""
    units = tuple(int(u) for u in options.units.split(","))
    catalog = flash_catalog(options.skus, units=units)
    shops = online_shops(options.seed)
    try:
        async with open_engine(
            url, shops, allocation, options.poll, options.rotate_after
        ) as engine:
            await list_catalog(engine, shops, catalog)
            sandboxes = {name: sandbox for name, _, sandbox in shops}
            if options.faults:
                for index, sandbox in enumerate(sandboxes.values()):
                    async with SandboxControl.for_sandbox(sandbox) as control:
                        await control.set_faults(
                            error_rate=options.faults, retry_after=0, seed=70 + index
                        )
            wants = split_demand(list(sandboxes), list(catalog)) if demand == "split" else None
            runtime = LocalRuntime(engine, webhooks=False)
            await runtime.start()
            try:
                outcome: FlashSaleOutcome = await run_flash_sale(
                    sandboxes,
                    catalog,
                    buyers=options.buyers,
                    wants=wants,
                    seed=options.seed,
                    quiet=options.quiet,
                    limit=options.limit,
                    pause=options.pause,
                )
                settled, problems = await converge(
                    engine, sandboxes, outcome, within=options.converge
                )
            finally:
                await runtime.stop()
            writes = sum(len(sandbox.operations("stock.write")) for sandbox in sandboxes.values())
            faulted = sum(
                1 for sandbox in sandboxes.values() for r in sandbox.requests if r.fault is not None
            )
    finally:
        for _, _, sandbox in shops:
            sandbox.close()
    figures = describe(outcome)
    figures.update(
        allocation=allocation,
        demand=demand,
        channels=list(sandboxes),
        oversold_timelines={sku: outcome.timeline(sku) for sku in outcome.oversold_by_sku()},
        stock_writes=writes,
        faulted_calls=faulted,
        converged_s=round(settled, 2) if not problems else None,
        not_converged=problems[:5],
    )
    return figures


async def measure(options: argparse.Namespace) -> list[dict[str, Any]]:
    """Every (database, demand, allocation) sale asked for; their figures."""
    rows = []
    databases = ["sqlite"] + (["postgresql"] if options.postgresql else [])
    for database in databases:
        for demand in options.demand.split(","):
            for allocation in options.modes.split(","):
                store = (
                    sqlite_store() if database == "sqlite" else postgresql_store(options.postgresql)
                )
                with store as url:
                    figures = await one_sale(url, allocation, demand, options)
                figures["database"] = database
                rows.append(figures)
    return rows


COLUMNS = (
    ("database", "database"),
    ("demand", "demand"),
    ("allocation", "allocation"),
    ("orders/s offered", "orders_per_s"),
    ("orders accepted", "orders_accepted"),
    ("units sold", "units_sold"),
    ("oversold", "oversold"),
    ("refused, listed elsewhere", "refused_elsewhere"),
    ("sell-outs", "starvations"),
    ("relisted", "rebalanced"),
    ("rebalance p50 ms", "rebalance_p50_ms"),
    ("rebalance p99 ms", "rebalance_p99_ms"),
    ("stock writes", "stock_writes"),
    ("faulted calls", "faulted_calls"),
    ("converged s", "converged_s"),
)


def cell(row: dict[str, Any], key: str) -> str:
    """One figure of ``row`` as shown in the table."""
    value = row.get(key)
    if key == "units_sold":
        return f"{value}/{row['units']}"
    return "-" if value is None else str(value)


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run, print the table (or JSON); exit 1 when ``quota`` oversold."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modes", default="quota,shared", help="allocations, comma-separated")
    parser.add_argument(
        "--demand", default="uniform,split", help="uniform and/or split, comma-separated"
    )
    parser.add_argument("--skus", type=int, default=10, help="SKUs on sale")
    parser.add_argument("--units", default="3,4,5", help="units per SKU, cycled")
    parser.add_argument("--buyers", type=int, default=8, help="buyers per channel")
    parser.add_argument("--poll", type=float, default=0.1, help="seconds between order polls")
    parser.add_argument("--faults", type=float, default=0.0, help="share of platform calls failing")
    parser.add_argument("--quiet", type=float, default=2.0, help="end after this long unsold")
    parser.add_argument(
        "--rotate-after",
        type=float,
        default=5.0,
        help="[engine] rotate_after in seconds: quota turns of scarce units (0: none)",
    )
    parser.add_argument(
        "--pause", type=float, default=0.0, help="seconds each buyer waits between orders"
    )
    parser.add_argument("--limit", type=float, default=15.0, help="longest sale in seconds")
    parser.add_argument("--converge", type=float, default=15.0, help="seconds to converge")
    parser.add_argument("--seed", type=int, default=1111, help="the buyers' random seed")
    parser.add_argument(
        "--postgresql",
        nargs="?",
        const=PG_ADMIN_URL,
        default=None,
        metavar="ADMIN_URL",
        help=f"also run on PostgreSQL, in a throw-away database (default server {PG_ADMIN_URL})",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--markdown", action="store_true", help="print the table as Markdown (docs/benchmarks.md)"
    )
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    rows = asyncio.run(measure(options))
    if options.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    elif options.markdown:
        print("| " + " | ".join(label for label, _ in COLUMNS) + " |")
        print("|" + "|".join("---" for _ in COLUMNS) + "|")
        for row in rows:
            print("| " + " | ".join(cell(row, key) for _, key in COLUMNS) + " |")
    else:
        first = rows[0]
        table = Table(
            title=f"Flash sale: {options.skus} SKUs, {first['units']} units, {options.buyers} "
            f"buyers per channel on {', '.join(first['channels'])}; "
            f"{options.faults:.0%} of platform calls failing"
        )
        for label, _ in COLUMNS:
            table.add_column(label, justify="left" if label in ("database", "demand") else "right")
        for row in rows:
            table.add_row(*(cell(row, key) for _, key in COLUMNS))
        Console(width=200).print(table)
        for row in rows:
            if row["not_converged"]:
                Console().print(
                    f"{row['database']} {row['demand']} {row['allocation']}: not converged "
                    f"within {options.converge:g} s: {row['not_converged']}"
                )
    return 1 if any(r["allocation"] == "quota" and r["oversold"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
