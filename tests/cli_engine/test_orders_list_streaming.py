"""``omnisdk orders list`` streams the order book: each order is printed as the store's cursor
yields it, never gathered into a list first (memory stays flat at any number of orders)."""

from __future__ import annotations

import json
from collections.abc import Generator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from omnisdk import Plugins
from omnisdk.cli import build_app
from omnisdk.cli import records as records_command
from omnisdk.cli.output import emit_json_line
from omnisdk.models import ChannelRef, Money, Order, OrderLine, OrderStatus
from omnisdk.store import Store, StoredOrder

ORDERS = 7


def _order(number: int) -> Order:
    placed = datetime(2024, 11, 11, tzinfo=UTC) + timedelta(minutes=number)
    price = Money.of(129000, "VND")
    return Order(
        channel_ref=ChannelRef(
            channel="shopee", account="shopee-hanoi", external_id=f"2411VN{number:04d}"
        ),
        status=OrderStatus.CONFIRMED,
        currency="VND",
        lines=[OrderLine(sku="NÓN-LÁ-HUẾ", title="Nón lá Huế", quantity=1, unit_price=price)],
        subtotal=price,
        total=price,
        created_at=placed,
        updated_at=placed,
    )


@pytest.fixture
def config_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config with only a SQLite store, holding ``ORDERS`` orders stored out of id order."""
    database = tmp_path / "omnisdk.db"
    with Store(f"sqlite:///{database}") as store:
        store.migrate()
        with store.session() as session:
            for number in (5, 1, 7, 2, 6, 3, 4):
                store.upsert_order(_order(number), session=session)
    path = tmp_path / "omnisdk.toml"
    path.write_text(f"[store]\nurl = {json.dumps(f'sqlite:///{database}')}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OMNISDK_CONFIG", raising=False)
    return path


def _orders_list(config_path: Path, *args: str) -> Result:
    argv = ["-c", str(config_path), "orders", "list", *args]
    return CliRunner().invoke(build_app(Plugins(entry_points=False)), argv)


@pytest.fixture
def printed_while_reading(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """For each order the store yields, how many orders had been printed before it."""
    seen: list[int] = []
    printed: list[Order] = []
    real_iter_orders = Store.iter_orders

    def iter_orders(self: Store, **filters: Any) -> Generator[StoredOrder, None, None]:
        for stored in real_iter_orders(self, **filters):
            seen.append(len(printed))
            yield stored

    def emit(order: Order) -> None:
        printed.append(order)
        emit_json_line(order)

    monkeypatch.setattr(Store, "iter_orders", iter_orders)
    monkeypatch.setattr(records_command, "emit_json_line", emit)
    return seen


def test_json_lines_are_one_order_each_in_the_order_they_came_in(config_path: Path) -> None:
    result = _orders_list(config_path, "--json")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    orders = [Order.model_validate(json.loads(line)) for line in lines]
    assert [o.channel_ref.external_id for o in orders] == [
        f"2411VN{number:04d}" for number in (5, 1, 7, 2, 6, 3, 4)
    ]


def test_each_order_is_printed_before_the_next_is_read(
    config_path: Path, printed_while_reading: list[int]
) -> None:
    result = _orders_list(config_path, "--json")

    assert result.exit_code == 0, result.output
    assert printed_while_reading == list(range(ORDERS))


def test_a_limit_stops_reading_at_the_limit(
    config_path: Path, printed_while_reading: list[int]
) -> None:
    result = _orders_list(config_path, "--json", "--limit", "3")

    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 3
    assert printed_while_reading == [0, 1, 2]


def test_the_table_lists_every_order(config_path: Path) -> None:
    result = _orders_list(config_path)

    assert result.exit_code == 0, result.output
    assert sum("2411VN" in line for line in result.stdout.splitlines()) == ORDERS
