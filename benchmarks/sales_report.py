"""How fast is the sales report on a big order book, and how much memory does it take?

Seeds N orders (default 1,000,000; two lines each, six accounts, VND and one USD shop, a year
of orders, 5% cancelled, 3% returned, every fifth discounted) into a fresh store, then runs
each report (by channel, account, location, SKU and day, over the whole year and over one
month) in a fresh helper process and prints wall seconds, the helper's CPU seconds and its
peak RSS. On PostgreSQL the aggregation runs in the server, so the helper's CPU is only the
client's share: read the wall time there.

Seeding is set-based and bypasses intake: ``INSERT ... SELECT`` over a recursive counter
writes the order rows (with their report figures) and their lines straight into the store's
tables; the order documents are one small placeholder (the report never reads them). The
store is then ``ANALYZE``d.

    python benchmarks/sales_report.py                        # SQLite, 1,000,000 orders
    python benchmarks/sales_report.py --store both -n 200000 --json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, make_url, text

from omnisdk.store import Store
from omnisdk.store.schema import accounts
from omnisdk.sync.sales import iter_sales_lines

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_DATABASE = "omnisdk_bench_sales"
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
START = datetime(2025, 1, 1, tzinfo=UTC)
MONTH = (datetime(2025, 6, 1, tzinfo=ZONE), datetime(2025, 7, 1, tzinfo=ZONE))
# slot, account, channel, currency, location, first line's unit price, second line's (minor).
SLOTS = (
    (0, "shopee-hanoi", "shopee", "VND", None, 129000, 85000),
    (1, "lazada-main", "lazada", "VND", None, 149000, 85000),
    (2, "shopify-global", "shopify", "USD", None, 550, 399),
    (3, "pos-hcm-q1", "pos", "VND", "hcm-q1", 129000, 85000),
    (4, "pos-hn-1", "pos", "VND", "hn-1", 139000, 85000),
    (5, "facebook-shop", "facebook", "VND", None, 119000, 85000),
)
SUMMARY_S = 0.0
"""Seconds the last seeding spent building the per-(day, SKU) summary."""
REPORTS = ("channel", "account", "location", "sku", "sku-lines", "day")
# "sku-lines" is the by-SKU report read from the order lines, as before the summary: Bangkok
# counts Hanoi's days, but no summary is kept for it.
LINES_ZONE = ZoneInfo("Asia/Bangkok")


def _placed(dialect: str) -> str:
    """Order n's placing time: one every 31 s from 2025-01-01 (a year for 1M orders)."""
    if dialect == "postgresql":
        return "(TIMESTAMPTZ '2025-01-01 00:00:00+00' + g.n * INTERVAL '31 seconds')"
    return "(strftime('%Y-%m-%d %H:%M:%S', '2025-01-01', '+' || (g.n * 31) || ' seconds')"  \
        " || '.000000')"


def _seed(store: Store, count: int) -> None:
    dialect = store.dialect
    now = START.isoformat()
    for _slot, name, channel, *_ in SLOTS:
        store.ensure_account(name, channel)
    document = "CAST(:document AS JSONB)" if dialect == "postgresql" else ":document"
    stamp = "CAST(:now AS TIMESTAMPTZ)" if dialect == "postgresql" else ":now_text"
    placed = _placed(dialect)
    with store.session() as session:
        session.execute(
            text(
                "CREATE TABLE bench_slots (slot INTEGER PRIMARY KEY, account_id INTEGER, "
                "currency VARCHAR(3), location VARCHAR(64), unit_a BIGINT, unit_b BIGINT)"
            )
        )
        for slot, name, _channel, currency, location, unit_a, unit_b in SLOTS:
            account_id = session.execute(
                accounts.select().with_only_columns(accounts.c.id).where(accounts.c.name == name)
            ).scalar_one()
            session.execute(
                text("INSERT INTO bench_slots VALUES (:s, :a, :c, :l, :ua, :ub)"),
                {"s": slot, "a": account_id, "c": currency, "l": location, "ua": unit_a,
                 "ub": unit_b},
            )
        session.execute(
            text(
                "WITH RECURSIVE counter(n) AS "
                "(SELECT 1 UNION ALL SELECT n + 1 FROM counter WHERE n < :count) "
                "INSERT INTO omnisdk_orders (account_id, external_id, status, payment_status, "
                "currency, total_minor, units, gross_minor, discount_minor, refund_minor, "
                "location, placed_at, platform_updated_at, document, content_hash, "
                "created_at, updated_at) "
                "SELECT s.account_id, 'B' || CAST(g.n AS TEXT), g.status, 'paid', s.currency, "
                "g.gross - g.discount, 1 + g.q, g.gross, g.discount, "
                "CASE WHEN g.status = 'returned' THEN g.gross - g.discount ELSE 0 END, "
                f"s.location, {placed}, {placed}, {document}, 'bench', {stamp}, {stamp} "
                "FROM (SELECT c.n AS n, b.slot AS slot, 1 + c.n % 3 AS q, "
                "CASE WHEN c.n % 20 = 0 THEN 'cancelled' WHEN c.n % 33 = 0 THEN 'returned' "
                "ELSE 'completed' END AS status, "
                "b.unit_a + (c.n % 7) * b.unit_b / 10 + (1 + c.n % 3) * b.unit_b AS gross, "
                "CASE WHEN c.n % 5 = 0 THEN b.unit_a / 10 ELSE 0 END AS discount "
                "FROM counter AS c JOIN bench_slots AS b ON b.slot = c.n % 6) AS g "
                "JOIN bench_slots AS s ON s.slot = g.slot"
            ),
            {"count": count, "document": '{"bench": true}', "now": now,
             "now_text": START.replace(tzinfo=None).isoformat(" ", "microseconds")},
        )
        session.execute(
            text(
                "INSERT INTO omnisdk_order_lines (order_id, line_no, sku, quantity, "
                "unit_price_minor, total_minor, refund_minor) "
                "SELECT o.id, 1, 'SP-' || CAST(o.id % 5000 AS TEXT), 1, "
                "o.gross_minor - (o.units - 1) * s.unit_b, "
                "o.gross_minor - (o.units - 1) * s.unit_b - o.discount_minor, "
                "CASE WHEN o.status = 'returned' "
                "THEN o.gross_minor - (o.units - 1) * s.unit_b - o.discount_minor ELSE 0 END "
                "FROM omnisdk_orders AS o JOIN bench_slots AS s ON s.account_id = o.account_id "
                "UNION ALL "
                "SELECT o.id, 2, 'SP-' || CAST((o.id * 7 + 3) % 5000 AS TEXT), o.units - 1, "
                "s.unit_b, (o.units - 1) * s.unit_b, "
                "CASE WHEN o.status = 'returned' THEN (o.units - 1) * s.unit_b ELSE 0 END "
                "FROM omnisdk_orders AS o JOIN bench_slots AS s ON s.account_id = o.account_id"
            )
        )
        session.execute(text("DROP TABLE bench_slots"))
    global SUMMARY_S
    started = time.perf_counter()
    store.keep_sales_days(ZONE.key)
    SUMMARY_S = time.perf_counter() - started
    with store.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))


def _measure_one(url: str, by: str, month: bool) -> dict[str, Any]:
    """Run one report in this (fresh) process: wall and CPU seconds, peak RSS, rows."""
    store = Store(url)
    zone = LINES_ZONE if by == "sku-lines" else ZONE
    group = "sku" if by == "sku-lines" else by
    try:
        since, until = MONTH if month else (None, None)
        backend = _backend_pid(store)
        server = _cpu_of(backend)
        wall, cpu = time.perf_counter(), time.process_time()
        rows = sum(1 for _ in iter_sales_lines(store, group, since=since, until=until, zone=zone))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        server = _cpu_of(backend) - server
    finally:
        store.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"by": by, "month": month, "rows": rows, "wall_s": wall, "cpu_s": cpu,
            "server_cpu_s": server, "peak_mib": peak}


def _backend_pid(store: Store) -> int | None:
    """The PostgreSQL server process of the store's one pooled connection (the report reuses
    it), so its CPU time can be read; None on SQLite (the helper's CPU is all of it)."""
    if store.dialect != "postgresql":
        return None
    with store.engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _cpu_of(pid: int | None) -> float:
    """User + system CPU seconds of process ``pid`` so far (the local server's /proc)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pg_url() -> str:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)'))
        connection.execute(text(f"CREATE DATABASE \"{PG_DATABASE}\" ENCODING 'UTF8'"))
    admin.dispose()
    return make_url(PG_ADMIN).set(database=PG_DATABASE).render_as_string(hide_password=False)


def _drop_pg() -> None:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)'))
    admin.dispose()


def run(backend: str, count: int, folder: Path) -> list[dict[str, Any]]:
    """Seed ``count`` orders on ``backend`` and measure every report there."""
    url = _pg_url() if backend == "postgresql" else f"sqlite:///{folder / 'sales.db'}"
    try:
        with Store(url) as store:
            store.migrate()
            started = time.perf_counter()
            _seed(store, count)
            seeded = time.perf_counter() - started
        results = []
        for month in (False, True):
            for by in REPORTS:
                flags = ["--month"] if month else []
                helper = [sys.executable, __file__, "--one", url, by, *flags]
                done = subprocess.run(helper, check=True, capture_output=True, text=True)
                results.append({"store": backend, "orders": count, "seed_s": seeded,
                                "summary_s": SUMMARY_S, **json.loads(done.stdout)})
        return results
    finally:
        if backend == "postgresql":
            _drop_pg()


def main() -> None:
    """Parse the options, run the measurements, print a table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--orders", type=int, default=1_000_000, help="orders to seed")
    parser.add_argument("--store", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--one", nargs=2, metavar=("URL", "BY"), help=argparse.SUPPRESS)
    parser.add_argument("--month", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(_measure_one(args.one[0], args.one[1], args.month)))
        return
    backends = ("sqlite", "postgresql") if args.store == "both" else (args.store,)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="omnisdk-sales-") as folder:
        for backend in backends:
            results += run(backend, args.orders, Path(folder))
    if args.json:
        print(json.dumps(results, indent=2))
        return
    table = Table(title=f"omnisdk sales report over {args.orders:,} orders")
    for heading in ("store", "by", "period", "rows", "wall s", "CPU s", "server CPU s",
                    "peak MiB"):
        table.add_column(heading, justify="right")
    for row in results:
        table.add_row(row["store"], row["by"], "June" if row["month"] else "year",
                      f"{row['rows']:,}", f"{row['wall_s']:.2f}", f"{row['cpu_s']:.2f}",
                      f"{row['server_cpu_s']:.2f}" if row["store"] == "postgresql" else "",
                      f"{row['peak_mib']:.0f}")
    Console().print(table)
    for backend in backends:
        seed = next(row["seed_s"] for row in results if row["store"] == backend)
        built = next(row["summary_s"] for row in results if row["store"] == backend)
        Console().print(f"{backend}: seeded {args.orders:,} orders in {seed:.1f} s (set-based "
                        f"SQL), of which {built:.1f} s building the per-(day, SKU) summary")


if __name__ == "__main__":
    main()
