"""``omnisdk report sales``: a table per currency at 80 columns, JSON lines and CSV streamed."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from _database_testkit import copy_of
from typer.testing import CliRunner, Result

from omnisdk import ChannelRef, Money, Order, OrderLine, OrderStatus, Plugins
from omnisdk.cli import build_app
from omnisdk.store import open_store

PLACED = datetime(2024, 7, 1, 3, 0, tzinfo=UTC)  # 10:00 in Hanoi


def _order(
    account: str,
    external_id: str,
    price: str,
    currency: str = "VND",
    *,
    status: OrderStatus = OrderStatus.CONFIRMED,
    placed: datetime = PLACED,
) -> Order:
    unit = Money.of(price, currency)
    channel = account.split("-")[0]
    return Order(
        channel_ref=ChannelRef(channel=channel, account=account, external_id=external_id),
        status=status,
        currency=currency,
        lines=[OrderLine(sku="NÓN-LÁ-HUẾ", quantity=2, unit_price=unit)],
        subtotal=unit * 2,
        total=unit * 2,
        created_at=placed,
        updated_at=PLACED + timedelta(days=3),
    )


Invoke = Callable[..., Result]


@pytest.fixture
def run(tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """``omnisdk -c CONFIG ARGS`` over a store holding a few orders, at 80 columns."""
    url = copy_of(sqlite_template, tmp_path)
    config = tmp_path / "omnisdk.toml"
    config.write_text(f"[store]\nurl = {json.dumps(url)}\n", encoding="utf-8")
    store = open_store(url)
    try:
        store.upsert_order(_order("shopee-hanoi", "S1", "85000"))
        store.upsert_order(_order("shopee-hanoi", "S2", "95000", placed=PLACED + timedelta(days=1)))
        store.upsert_order(_order("lazada-main", "L1", "120000000"))
        store.upsert_order(_order("lazada-main", "L2", "99000", status=OrderStatus.CANCELLED))
        store.upsert_order(_order("shopify-global", "U1", "12.50", currency="USD"))
    finally:
        store.close()
    monkeypatch.delenv("OMNISDK_CONFIG", raising=False)

    def invoke(*args: str) -> Result:
        app = build_app(Plugins(entry_points=False))
        return CliRunner().invoke(app, ["-c", str(config), *args], env={"COLUMNS": "80"})

    return invoke


def test_the_table_has_one_section_per_currency_and_fits_80_columns(run: Invoke) -> None:
    result = run("report", "sales")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "Sales by channel, USD" in result.stdout and "Sales by channel, VND" in result.stdout
    assert any(line.split()[:2] == ["lazada", "1"] and "240,000,000" in line for line in lines)
    [vnd_total] = [line for line in lines if line.startswith("total") and "240,360,000" in line]
    assert vnd_total.split()[1:3] == ["3", "6"]  # the cancelled order is not a sale


def test_json_lines_and_csv_carry_exact_amounts(run: Invoke) -> None:
    lines = run("report", "sales", "--by", "account", "--json").stdout.splitlines()
    rows = [json.loads(line) for line in lines]
    assert [(row["key"], row["currency"]) for row in rows] == [
        ("lazada-main", "VND"),
        ("shopee-hanoi", "VND"),
        ("shopify-global", "USD"),
    ]
    assert rows[2]["net"] == {"amount": "25.00", "currency": "USD"}
    table = run("report", "sales", "--by", "day", "--csv").stdout
    parsed = list(csv.DictReader(io.StringIO(table)))
    assert [(row["day"], row["currency"], row["orders"], row["net"]) for row in parsed] == [
        ("2024-07-01", "USD", "1", "25.00"),
        ("2024-07-01", "VND", "2", "240170000"),
        ("2024-07-02", "VND", "1", "190000"),
    ]


def test_dates_are_days_in_the_shops_zone(run: Invoke) -> None:
    result = run("report", "sales", "--by", "day", "--since", "2024-07-02", "--json")
    assert [json.loads(line)["key"] for line in result.stdout.splitlines()] == ["2024-07-02"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--by", "week"), "'week' is not a grouping"),
        (("--since", "1/7/2024"), "is not a date"),
        (("--json", "--csv"), "one of --json and --csv"),
    ],
)
def test_bad_options_say_what_is_wrong(run: Invoke, args: tuple[str, ...], message: str) -> None:
    result = run("report", "sales", *args)
    assert result.exit_code != 0
    assert message in result.stderr
