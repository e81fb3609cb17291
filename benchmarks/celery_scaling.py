"""Scale-out: orders/s of the embedded runtime and of 1, 2, 4 Celery workers; 1,000 accounts.

**Throughput.** The same workload for each runtime (the chaos kit, ``omnisdk.testing.chaos``,
with no faults and no kills): a sandbox of every installed online channel on loopback, a
catalog of ``--skus`` SKUs, buyers offering ``--orders`` orders as fast as the sandboxes take
them, on a fresh PostgreSQL database each (the embedded runtime gets a SQLite file, its own
default, unless ``--embedded-postgres``). Measured: the seconds from the first order until the
engine has converged (every order stored with its units held, every listing right, the outbox
empty), orders/s over that time, the CPU seconds the engine's processes used, and whether
anything was lost, doubled or oversold. Workers are ``omnisdk worker --pool solo`` processes
with beat and the webhook receiver, broker ``--broker``, rate budgets shared in Redis. Wall
times on a shared machine are noisy: the CPU column and ``os.cpu_count()`` are printed too,
with CPU ms per order, the orders offered, and for the workers the tasks they received per
order (their logs), the messages queued when the buyers stopped and the deepest queue seen
(sampled every second); stderr has them by task and by queue.

**Proof.** ``--proof`` runs the issue's proof instead: 5,000 orders over 200 SKUs, 4 workers,
with ``--kills`` SIGKILLs of a worker mid-task.

**1,000 accounts.** ``--accounts N`` builds a config of N accounts and measures what the
scale-out runtime costs beside the work itself: the beat schedule's size and build time; one
worker process's start (engine open) time and resident memory after it, then the mean time of
a first task for each account in turn (its channel and HTTP client built, the least recently
used closed past ``[celery] open_channels``, ``--open-channels``) and the resident memory once
every account was served; the dispatcher's query (accounts with due pushes) on PostgreSQL; and
a real ``omnisdk beat`` process's CPU and messages per second over ``--beat-seconds`` on the
default intervals.

    python benchmarks/celery_scaling.py                     # embedded, 1, 2, 4 workers
    python benchmarks/celery_scaling.py --proof
    python benchmarks/celery_scaling.py --accounts 1000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, make_url, text

from omnisdk.testing.chaos import ChaosOutcome, ChaosPlan, process_cpu_seconds, run_chaos

PG_ADMIN = os.environ.get(
    "OMNISDK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS = "redis://127.0.0.1:6379/0"


class Databases:
    """Throw-away PostgreSQL databases, dropped at the end."""

    def __init__(self) -> None:
        self.admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        self.names: list[str] = []

    def create(self) -> str:
        name = f"omnisdk_bench_{uuid.uuid4().hex[:10]}"
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        self.names.append(name)
        url = make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
        from omnisdk.store import open_store

        open_store(url).close()  # migrated once, before any worker starts
        return url

    def drop(self) -> None:
        with self.admin.connect() as connection:
            for name in self.names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


def _row(label: str, outcome: ChaosOutcome) -> dict[str, Any]:
    converged = outcome.converged_after
    seconds = outcome.buying_seconds + (converged or 0.0)
    orders = max(len(outcome.sales), 1)
    tasks = sum(outcome.tasks.values())
    return {
        "runtime": label,
        "orders": len(outcome.sales),
        "offered": outcome.attempts,
        "seconds": round(seconds, 1),
        "converge_s": None if converged is None else round(converged, 1),
        "orders_per_s": round(len(outcome.sales) / seconds, 1) if converged is not None else None,
        "engine_cpu_s": round(outcome.engine_cpu_seconds, 1),
        "cpu_ms_per_order": round(outcome.engine_cpu_seconds * 1000 / orders, 1),
        "tasks_per_order": round(tasks / orders, 2) if outcome.tasks else None,
        "queued_after_buying": sum(outcome.queue_after_buying.values())
        if outcome.queue_after_buying
        else None,
        "queue_peak": max(outcome.queue_peaks.values()) if outcome.queue_peaks else None,
        "lost": outcome.lost,
        "doubled": len(outcome.doubled),
        "oversold": outcome.oversold,
        "converged": converged is not None,
        "rate_exceeded": len(outcome.rate_exceeded),
    }


async def throughput(args: argparse.Namespace, databases: Databases) -> list[dict[str, Any]]:
    """One row per runtime: embedded, then each worker count."""
    rows = []
    for workers in [0, *args.workers]:
        store = None
        if workers or args.embedded_postgres:
            store = databases.create()
        plan = ChaosPlan(
            orders=args.orders,
            orders_per_second=args.rate,
            buyers=args.buyers,
            cancel_share=0.0,
            skus=args.skus,
            units=args.units,
            kills=0,
            token_expiries=0,
            faults={},
            converge_within=args.converge_within,
            seed=args.seed,
            workers=workers,
            store_url=store,
            broker_url=args.broker,
            rate_limit_url=REDIS,
        )
        with tempfile.TemporaryDirectory(prefix="omnisdk-scaling-") as directory:
            outcome = await run_chaos(plan, Path(directory))
        label = f"{workers} worker{'s' if workers > 1 else ''}" if workers else "embedded"
        rows.append(_row(label, outcome))
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
        _print_details(outcome)
    return rows


async def proof(args: argparse.Namespace, databases: Databases) -> list[dict[str, Any]]:
    """The issue's proof: 5,000 orders over 200 SKUs on 4 workers, with SIGKILLs."""
    plan = ChaosPlan(
        orders=args.orders,
        orders_per_second=args.rate,
        buyers=args.buyers,
        cancel_share=0.05,
        skus=args.skus,
        units=args.units,
        kills=args.kills,
        downtime=(0.5, 2.0),
        token_expiries=0,
        faults={},
        converge_within=args.converge_within,
        seed=args.seed,
        workers=4,
        store_url=databases.create(),
        broker_url=args.broker,
        rate_limit_url=REDIS,
        requests_per_second=args.rps,
    )
    with tempfile.TemporaryDirectory(prefix="omnisdk-proof-") as directory:
        outcome = await run_chaos(plan, Path(directory))
    print(outcome.explain(), file=sys.stderr)
    _print_details(outcome)
    print(f"rate peaks (requests in 2 s, allowed): {outcome.rate_peaks}", file=sys.stderr)
    row = _row(f"4 workers, {outcome.kills} kills", outcome)
    row["cancelled"] = len(outcome.cancellations)
    return [row]


def _print_details(outcome: ChaosOutcome) -> None:
    """Tasks by name and queue depths by kind (stderr: the log, beside the table)."""
    if outcome.tasks:
        print(f"tasks received: {outcome.tasks}", file=sys.stderr)
        print(f"queued when buying stopped: {outcome.queue_after_buying}", file=sys.stderr)
        print(f"queue peaks: {outcome.queue_peaks}", file=sys.stderr, flush=True)


def many_accounts(args: argparse.Namespace, databases: Databases) -> list[dict[str, Any]]:
    """What N accounts cost the scale-out runtime (see the module doc)."""
    store = databases.create()
    with tempfile.TemporaryDirectory(prefix="omnisdk-accounts-") as directory:
        workdir = Path(directory)
        config = workdir / "omnisdk.toml"
        lines = [
            f'[store]\nurl = "{store}"\n',
            f'[celery]\nbroker_url = "{REDIS}"\nqueue = "bench-{uuid.uuid4().hex[:8]}"\n'
            f"open_channels = {args.open_channels}\n",
        ]
        for index in range(args.accounts):
            lines.append(
                f'[[channels]]\nname = "cua-hang-{index:04d}"\ntype = "example"\n'
                '[channels.settings]\napi_token = "tok"\nbase_url = "http://127.0.0.1:9"\n'
            )
        config.write_text("\n".join(lines), encoding="utf-8")
        env = {**os.environ, "OMNISDK_CONFIG": str(config), "OMNISDK_LOAD_PLUGINS": "example"}
        probe = subprocess.run(
            [sys.executable, "-c", _PROBE],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        measured = json.loads(probe.stdout.strip().splitlines()[-1])
        beat = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "omnisdk",
                "beat",
                "--loglevel",
                "WARNING",
                "--schedule",
                str(workdir / "beat"),
            ],
            env=env,
            cwd=workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(args.beat_warmup)
            cpu_before, started = process_cpu_seconds(beat.pid), time.monotonic()
            sent_before = _queued(measured["queue"])
            time.sleep(args.beat_seconds)
            cpu = process_cpu_seconds(beat.pid) - cpu_before
            elapsed = time.monotonic() - started
            sent = _queued(measured["queue"]) - sent_before
        finally:
            beat.terminate()
            beat.wait(30)
            _purge(measured["queue"])
    return [
        {
            "accounts": args.accounts,
            "beat_entries": measured["entries"],
            "schedule_build_ms": measured["schedule_ms"],
            "worker_open_s": measured["open_s"],
            "rss_after_open_mb": measured["open_rss_mb"],
            "first_task_ms": measured["first_task_ms"],
            "channels_open": measured["open_channels"],
            "rss_all_served_mb": measured["served_rss_mb"],
            "peak_rss_mb": measured["peak_rss_mb"],
            "dispatch_query_ms": measured["dispatch_ms"],
            "beat_cpu_per_s": round(cpu / elapsed, 4),
            "beat_msgs_per_s": round(sent / elapsed, 1),
        }
    ]


def _queued(prefix: str) -> int:
    import redis

    from omnisdk.runtime.celery.schedule import QUEUES

    client = redis.Redis.from_url(REDIS)
    try:
        return sum(int(client.llen(f"{prefix}.{kind}")) for kind in QUEUES)
    finally:
        client.close()


def _purge(prefix: str) -> None:
    import redis

    from omnisdk.runtime.celery.schedule import QUEUES

    client = redis.Redis.from_url(REDIS)
    try:
        client.delete(*(f"{prefix}.{kind}" for kind in QUEUES))
    finally:
        client.close()


_PROBE = """
import json, resource, time
from omnisdk.config import load_config
from omnisdk.plugins import Plugins
from omnisdk.runtime.celery.schedule import schedule_entries
from omnisdk.runtime.celery.worker import WorkerEngine

def rss_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0

async def first_task(engine, account):
    engine.channel(account).http  # what a task's first request builds: channel + client

plugins = Plugins()
config = load_config(plugins=plugins)
started = time.perf_counter()
entries = schedule_entries(config, plugins)
schedule_ms = (time.perf_counter() - started) * 1000
started = time.perf_counter()
worker = WorkerEngine(config, plugins=plugins)
store = worker.store
open_s = time.perf_counter() - started
open_rss = rss_mb()
names = [entry.name for entry in config.channels]
# A task for every account, one after the other, as a worker serving them all would get.
started = time.perf_counter()
for name in names:
    worker.run(lambda engine, name=name: first_task(engine, name))
serve_ms = (time.perf_counter() - started) * 1000 / len(names)
served_rss = rss_mb()
open_now = len(worker.engine.channels.open_accounts)
with store.session() as session:
    store.mark_dirty_many(session, [(name, "AO-DAI-01") for name in names[::10]])
store.accounts_with_due_pushes()
started = time.perf_counter()
for _ in range(20):
    due = store.accounts_with_due_pushes()
dispatch_ms = (time.perf_counter() - started) * 1000 / 20
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
worker.close()
print(json.dumps({"entries": len(entries), "schedule_ms": round(schedule_ms, 1),
                  "open_s": round(open_s, 2), "open_rss_mb": round(open_rss, 1),
                  "first_task_ms": round(serve_ms, 2), "served_rss_mb": round(served_rss, 1),
                  "open_channels": open_now, "peak_rss_mb": round(peak_mb, 1),
                  "dispatch_ms": round(dispatch_ms, 2), "due": len(due),
                  "queue": config.celery.queue}))
"""


def render(title: str, rows: list[dict[str, Any]], markdown: bool) -> None:
    """Print ``rows`` as a table."""
    if not rows:
        return
    keys = list(rows[0])
    cells = [["-" if row[key] is None else str(row[key]) for key in keys] for row in rows]
    if markdown:
        print("| " + " | ".join(keys) + " |")
        print("|" + "---|" * len(keys))
        for line in cells:
            print("| " + " | ".join(line) + " |")
        return
    table = Table(title=title)
    for key in keys:
        table.add_column(key)
    for line in cells:
        table.add_row(*line)
    Console().print(table)


def main() -> None:
    """Parse the arguments, run, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=400.0, help="orders offered per second")
    parser.add_argument("--buyers", type=int, default=4, help="buyers per channel")
    parser.add_argument("--skus", type=int, default=200)
    parser.add_argument("--units", type=int, default=40, help="units per SKU")
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2, 4])
    parser.add_argument("--broker", default=REDIS)
    parser.add_argument("--embedded-postgres", action="store_true")
    parser.add_argument("--converge-within", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=5150)
    parser.add_argument("--proof", action="store_true")
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--rps", type=float, default=20.0, help="budget of shops that set one")
    parser.add_argument("--accounts", type=int, default=0)
    parser.add_argument("--open-channels", type=int, default=100, help="[celery] open_channels")
    parser.add_argument("--beat-seconds", type=float, default=30.0)
    parser.add_argument("--beat-warmup", type=float, default=15.0)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    databases = Databases()
    cpus = f"{os.cpu_count()} CPUs (load {os.getloadavg()[0]:.1f})"
    try:
        if args.accounts:
            render(
                f"{args.accounts} accounts, {cpus}", many_accounts(args, databases), args.markdown
            )
        elif args.proof:
            if args.orders == 2000:
                args.orders = 5000
            rows = asyncio.run(proof(args, databases))
            render(f"proof, {cpus}", rows, args.markdown)
        else:
            rows = asyncio.run(throughput(args, databases))
            base = next((r["orders_per_s"] for r in rows if r["runtime"] == "1 worker"), None)
            for row in rows:
                rate = row["orders_per_s"]
                row["vs_1_worker"] = round(rate / base, 2) if rate and base else None
            render(f"orders/s, {cpus}", rows, args.markdown)
    finally:
        databases.drop()


if __name__ == "__main__":
    main()
