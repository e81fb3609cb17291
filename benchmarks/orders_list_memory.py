"""How much memory does ``omnisdk orders list --json`` need as the order book grows?

For each N, seeds N orders (one line each, a customer each) into a fresh SQLite store in a
temporary directory, then runs ``omnisdk orders list --json`` on it as a subprocess, its
output thrown away, and reads the child's peak resident set size from the operating system
(``resource.getrusage(RUSAGE_CHILDREN)``; each N is measured in a fresh helper process so
one N's peak cannot hide the next one's). The command streams the store's cursor, so the peak
should stay flat as N grows.

Seeding is set-based: one order goes in through ``Store.upsert_order``; SQLite then copies
its row N-1 times in one ``INSERT ... SELECT`` over a recursive counter (each copy with its
own external id, number and ``channel_ref`` in the document), and its line the same way.

    python benchmarks/orders_list_memory.py                   # N = 1,000 / 10,000 / 40,000
    python benchmarks/orders_list_memory.py -n 500 -n 5000 --json
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import TextClause, text

from omnisdk.models import ChannelRef, Customer, Money, Order, OrderLine, OrderStatus, Phone
from omnisdk.store import Store
from omnisdk.store.schema import order_lines, orders

DEFAULT_COUNTS = (1_000, 10_000, 40_000)
ACCOUNT = "shopee-hanoi"
ORDER_ID = "printf('VN%08d', counter.n)"
COPIED_ORDER_COLUMNS = {
    "external_id": ORDER_ID,
    "number": f"'#' || {ORDER_ID}",
    "document": (
        f"json_set(o.document, '$.channel_ref.external_id', {ORDER_ID}, "
        f"'$.number', '#' || {ORDER_ID})"
    ),
}
"""What differs between copies of the template order (every other column is copied)."""


def _copy_orders() -> TextClause:
    """``INSERT ... SELECT``: the order ``:template`` copied for n = 2 .. ``:count``."""
    columns = [column.name for column in orders.c if column.name != "id"]
    values = [COPIED_ORDER_COLUMNS.get(name, f"o.{name}") for name in columns]
    return text(
        "WITH RECURSIVE counter(n) AS "
        "(SELECT 2 UNION ALL SELECT n + 1 FROM counter WHERE n < :count) "
        f"INSERT INTO {orders.name} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM counter, {orders.name} AS o "
        "WHERE o.id = :template ORDER BY counter.n"
    )


def _copy_lines() -> TextClause:
    """``INSERT ... SELECT``: the lines of order ``:template`` for every other order."""
    columns = [column.name for column in order_lines.c if column.name != "order_id"]
    return text(
        f"INSERT INTO {order_lines.name} (order_id, {', '.join(columns)}) "
        f"SELECT o.id, {', '.join(f'l.{name}' for name in columns)} "
        f"FROM {orders.name} AS o, {order_lines.name} AS l "
        "WHERE l.order_id = :template AND o.id != :template"
    )


def template_order() -> Order:
    """The order every seeded one copies: two T-shirts for Nguyễn Văn An, in dong."""
    placed = datetime(2024, 11, 11, 0, 0, tzinfo=UTC)
    unit = Money.of(129000, "VND")
    return Order(
        channel_ref=ChannelRef(channel="shopee", account=ACCOUNT, external_id="VN00000001"),
        number="#VN00000001",
        status=OrderStatus.CONFIRMED,
        currency="VND",
        lines=[
            OrderLine(sku="ÁO-THUN-ĐỎ-M", title="Áo thun - Đỏ / M", quantity=2, unit_price=unit)
        ],
        subtotal=unit * 2,
        total=unit * 2,
        customer=Customer(full_name="Nguyễn Văn An", phones=[Phone.parse("+84912345678")]),
        created_at=placed,
        updated_at=placed,
        raw={"order_sn": "VN00000001", "note": "giao giờ hành chính " * 8},
    )


def seed(store: Store, count: int) -> None:
    """``count`` orders in ``store``: one through the store's API, the rest copied by SQL."""
    with store.session() as session:
        saved = store.upsert_order(template_order(), session=session)
        if count > 1:
            session.execute(_copy_orders(), {"count": count, "template": saved.order_id})
            session.execute(_copy_lines(), {"template": saved.order_id})


def measure(count: int) -> dict[str, float]:
    """Seed ``count`` orders, list them; seconds to seed and to list, the child's peak MiB."""
    with tempfile.TemporaryDirectory(prefix="omnisdk-orders-") as folder:
        database = Path(folder) / "store.db"
        config = Path(folder) / "omnisdk.toml"
        config.write_text(f"[store]\nurl = {json.dumps(f'sqlite:///{database}')}\n")
        started = time.perf_counter()
        with Store(f"sqlite:///{database}") as store:
            store.migrate()
            seed(store, count)
        seeded = time.perf_counter()
        command = [sys.executable, "-m", "omnisdk", "-c", str(config), "orders", "list", "--json"]
        with subprocess.Popen(command, stdout=subprocess.PIPE) as child:
            assert child.stdout is not None
            lines = sum(1 for _ in child.stdout)
        if child.returncode != 0 or lines != count:
            raise SystemExit(f"orders list failed: exit {child.returncode}, {lines} lines")
        listed = time.perf_counter()
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "orders": count,
        "seed_s": seeded - started,
        "list_s": listed - seeded,
        "peak_mib": peak_kib / 1024,
    }


def main() -> None:
    """Measure each N in a helper process of its own and print a table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "-n", "--orders", type=int, action="append", help="orders to seed (repeatable)"
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # the helper process
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(measure(args.one)))
        return
    results = []
    for count in args.orders or DEFAULT_COUNTS:
        helper = [sys.executable, __file__, "--one", str(count)]
        results.append(json.loads(subprocess.run(helper, check=True, capture_output=True).stdout))
    if args.json:
        print(json.dumps(results, indent=2))
        return
    table = Table(title="Peak RSS of omnisdk orders list --json (SQLite)")
    for heading in ("orders", "seed s", "list s", "peak MiB"):
        table.add_column(heading, justify="right")
    for row in results:
        table.add_row(
            f"{row['orders']:,}",
            f"{row['seed_s']:.1f}",
            f"{row['list_s']:.1f}",
            f"{row['peak_mib']:.0f}",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
