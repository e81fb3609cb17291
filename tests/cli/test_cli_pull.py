"""``omnisdk pull``: JSON lines, streaming, rejections, --since and --limit."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from _cli_testkit import GOOD_TOKEN, RAW_PRODUCTS, Invoke, memshop_config

from omnisdk.cli.pull import parse_since
from omnisdk.models import Location, Order, Product

ConfigFile = Callable[[str], Path]


@pytest.fixture(autouse=True)
def _config(config_file: ConfigFile) -> None:
    config_file(
        memshop_config(
            ("hanoi", "Hà Nội", GOOD_TOKEN),
            ("endless", "endless", GOOD_TOKEN),
            ("flaky", "flaky", GOOD_TOKEN),
        )
    )


def test_products_as_json_lines_exactly_the_model_json(invoke: Invoke) -> None:
    result = invoke("pull", "--channel", "hanoi", "products", "--json")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    products = [Product.model_validate_json(line) for line in lines]
    assert [p.title for p in products] == ["Áo thun cổ tròn", "Nón lá Huế", "Cà phê Buôn Ma Thuột"]
    assert lines == [p.model_dump_json() for p in products]
    first = json.loads(lines[0])
    assert first["channel_ref"] == {"channel": "memshop", "account": "hanoi", "external_id": "p1"}
    assert first["variants"][0]["price"] == {"amount": "129000", "currency": "VND"}
    assert first["raw"] == RAW_PRODUCTS[0]


def test_rejected_records_are_reported_and_the_stream_goes_on(invoke: Invoke) -> None:
    result = invoke("pull", "--channel", "hanoi", "products", "--json")
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == 3  # the product after the bad one still came
    stderr = result.stderr.splitlines()
    assert len(stderr) == 2, result.stderr  # the channel's own log line is not repeated
    assert stderr[0].startswith("warning: rejected product: memshop/hanoi product #bad-1: ")
    assert "SKU is empty" in stderr[0]
    assert stderr[1] == "3 products from hanoi, 1 record rejected"


def test_the_rejection_hook_is_removed_afterwards(invoke: Invoke, plugins: object) -> None:
    from omnisdk import Plugins

    assert isinstance(plugins, Plugins)
    before = set(plugins.pm.get_plugins())
    invoke("pull", "--channel", "hanoi", "products", "--json")
    assert set(plugins.pm.get_plugins()) == before


def test_limit_stops_an_endless_stream(invoke: Invoke) -> None:
    """An endless stream can only be printed if nothing is collected first."""
    result = invoke("pull", "--channel", "endless", "products", "--json", "--limit", "5")
    assert result.exit_code == 0, result.stderr
    ids = [
        Product.model_validate_json(line).channel_ref.external_id  # type: ignore[union-attr]
        for line in result.stdout.splitlines()
    ]
    assert ids == ["p0", "p1", "p2", "p3", "p4"]


def test_objects_are_written_as_they_arrive(invoke: Invoke) -> None:
    """The flaky shop fails after two products: both were already printed."""
    result = invoke("pull", "--channel", "flaky", "products", "--json")
    assert result.exit_code == 1
    assert len(result.stdout.splitlines()) == 2
    assert result.stderr.strip() == "error: memshop: connection dropped"


def test_since_filters(invoke: Invoke) -> None:
    result = invoke("pull", "--channel", "hanoi", "products", "--json", "--since", "2024-06-15")
    assert result.exit_code == 0, result.stderr
    titles = [Product.model_validate_json(line).title for line in result.stdout.splitlines()]
    assert titles == ["Cà phê Buôn Ma Thuột"]


def test_orders_and_locations(invoke: Invoke) -> None:
    orders = invoke("pull", "-C", "hanoi", "orders", "--json")
    assert orders.exit_code == 0, orders.stderr
    order = Order.model_validate_json(orders.stdout)
    assert order.number == "#1001" and order.total.amount == 258000
    locations = invoke("pull", "-C", "hanoi", "locations", "--json")
    assert Location.model_validate_json(locations.stdout).name == "Kho Hà Nội"


def test_human_lines(invoke: Invoke) -> None:
    result = invoke("pull", "--channel", "hanoi", "products")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert "Áo thun cổ tròn" in lines[0] and "AO-THUN-M, AO-THUN-L" in lines[0]
    assert "129,000 - 139,000 VND" in lines[0]
    orders = invoke("pull", "--channel", "hanoi", "orders")
    assert "#1001" in orders.stdout and "confirmed" in orders.stdout
    assert "258,000 VND" in orders.stdout


def test_unsupported_stream_is_one_clear_error(invoke: Invoke) -> None:
    result = invoke("pull", "--channel", "hanoi", "customers", "--json")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: channel 'memshop' does not support read_customers (not in its capabilities)"
    )


def test_unknown_channel_name_suggests(invoke: Invoke) -> None:
    result = invoke("pull", "--channel", "hanoy", "products")
    assert result.exit_code == 1
    assert "no channel named 'hanoy'" in result.stderr and "Did you mean 'hanoi'?" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "yesterday"], "'yesterday' is neither an ISO 8601 date"),
        (["--limit", "0"], "--limit"),
    ],
)
def test_bad_options_are_usage_errors(invoke: Invoke, args: list[str], message: str) -> None:
    result = invoke("pull", "--channel", "hanoi", "products", *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_since_does_not_apply_to_locations(invoke: Invoke) -> None:
    result = invoke("pull", "--channel", "hanoi", "locations", "--since", "2d")
    assert result.exit_code == 2
    assert "locations have no change time" in result.stderr


def test_unknown_stream_is_a_usage_error(invoke: Invoke) -> None:
    result = invoke("pull", "--channel", "hanoi", "prodcts")
    assert result.exit_code == 2


NOW = datetime(2024, 7, 10, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2d", NOW - timedelta(days=2)),
        ("6h", NOW - timedelta(hours=6)),
        ("90m", NOW - timedelta(minutes=90)),
        ("2024-05-01", datetime(2024, 5, 1, tzinfo=UTC)),
        ("2024-05-01T08:30:00", datetime(2024, 5, 1, 8, 30, tzinfo=UTC)),
        (
            "2024-05-01T08:30:00+07:00",
            datetime(2024, 5, 1, 8, 30, tzinfo=timezone(timedelta(hours=7))),
        ),
        ("2024-05-01T01:30:00Z", datetime(2024, 5, 1, 1, 30, tzinfo=UTC)),
    ],
)
def test_parse_since(text: str, expected: datetime) -> None:
    assert parse_since(text, now=NOW) == expected


def test_an_empty_account_says_so_with_a_count(
    invoke: Invoke, config_file: Callable[[str], Path]
) -> None:
    config_file(
        '[[channels]]\nname = "trống"\ntype = "memshop"\n'
        '[channels.settings]\nshop = "ok"\naccess_token = "shpat_ok"\n'
    )

    result = invoke("pull", "--channel", "trống", "products", "--since", "1d")

    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("0 products from trống (changed since ")
