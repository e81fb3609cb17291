"""The Example mapping, record by record: raw platform payloads in, canonical objects out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from omnisdk_example import mapping
from omnisdk_example.sandbox.state import ORDER_FLOW

from omnisdk import OrderStatus, PaymentStatus


def ref(external_id: str | int) -> dict[str, str]:
    """References of the account ``shop`` of the ``example`` channel."""
    return {"channel": "example", "account": "shop", "external_id": str(external_id)}


def raw_product() -> dict[str, Any]:
    """A product with two variants, as ``GET /products`` shows it."""
    variant = {"price": "129000", "currency": "VND", "stock": 5}
    return {
        "id": "prd_00001",
        "title": "Áo thun cổ tròn",
        "created_at": "2024-05-01T08:00:00+07:00",
        "updated_at": "2024-05-02T08:00:00+07:00",
        "variants": [
            {**variant, "id": "var_00001", "sku": "AO-DO-M", "options": {"Màu": "Đỏ", "Cỡ": "M"}},
            {**variant, "id": "var_00002", "sku": "AO-DO-L", "options": {"Màu": "Đỏ", "Cỡ": "L"}},
        ],
    }


def raw_order(status: str = "paid") -> dict[str, Any]:
    """An order of two T-shirts with its buyer, as ``GET /orders/{id}`` shows it."""
    return {
        "id": "ord_00001",
        "number": "#1001",
        "status": status,
        "currency": "VND",
        "lines": [
            {"sku": "AO-DO-M", "title": "Áo thun cổ tròn", "quantity": 2, "unit_price": "129000"}
        ],
        "subtotal": "258000",
        "shipping_fee": "0",
        "total": "258000",
        "customer": {"id": "cus_00001", "name": "Trần Thị Mai", "phone": "0987 654 321"},
        "created_at": "2024-05-03T09:00:00+07:00",
        "updated_at": "2024-05-03T09:05:00+07:00",
    }


def test_a_product_keeps_its_variants_options_and_prices() -> None:
    product = mapping.parse_product(raw_product(), ref)
    assert [v.sku for v in product.variants] == ["AO-DO-M", "AO-DO-L"]
    assert product.option_names == ["Màu", "Cỡ"]
    assert product.variants[0].title == "Đỏ / M"
    assert product.variants[0].price.amount == Decimal(129000)
    assert product.channel_ref.external_id == "prd_00001"


def test_an_order_maps_status_payment_totals_and_buyer() -> None:
    order = mapping.parse_order(raw_order("packed"), ref)
    assert order.status is OrderStatus.READY_TO_SHIP
    assert order.payment_status is PaymentStatus.PAID
    assert order.total.amount == Decimal(258000)
    assert order.lines[0].quantity == 2
    assert order.customer is not None
    assert order.customer.phones[0].e164 == "+84987654321"


def test_a_pending_order_is_unpaid() -> None:
    assert mapping.parse_order(raw_order("pending"), ref).payment_status is PaymentStatus.UNPAID


def test_every_status_the_platform_uses_has_a_canonical_one() -> None:
    assert set(mapping.STATUSES) == {*ORDER_FLOW, "cancelled"}


def test_an_unknown_status_is_refused() -> None:
    with pytest.raises(KeyError):
        mapping.parse_order(raw_order("lost-in-transit"), ref)


def test_a_record_is_changed_since_a_moment_at_or_before_its_last_change() -> None:
    last_change = datetime.fromisoformat(raw_product()["updated_at"])
    assert mapping.changed_since(raw_product(), last_change)
    assert not mapping.changed_since(raw_product(), last_change + timedelta(seconds=1))


def test_a_record_that_does_not_say_when_it_changed_counts_as_changed() -> None:
    moment = datetime(2030, 1, 1, tzinfo=UTC)
    assert mapping.changed_since({"id": "prd_00001"}, moment)
    assert mapping.changed_since({"id": "prd_00001", "updated_at": "yesterday"}, moment)
