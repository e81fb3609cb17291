"""KiotViet records -> canonical objects, with Vietnamese data (pure mapping, no I/O)."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from omnisdk_pos.mapping import (
    UNIT_OPTION,
    customer_from_kiotviet,
    group_products,
    is_marketplace_sale,
    location_from_branch,
    money,
    order_from_document,
    product_from_group,
    sale_id,
    stock_levels,
    units_index,
)
from omnisdk_pos.timefmt import format_local, parse_time

from omnisdk.models import FulfilmentMode, LocationKind, Money, Order, OrderStatus, Product

BRANCH = {
    "id": 20001,
    "branchName": "Chi nhánh Quận 1",
    "branchCode": "CN01",
    "address": "12 Lê Lợi",
    "locationName": "Hồ Chí Minh - Quận 1",
    "wardName": "Phường Bến Nghé",
    "contactNumber": "0901234567",
    "retailerId": 500123456,
    "createdDate": "2023-10-31T14:46:20.1000000",
}
CODES = {20001: "cn01", 20002: "cn02"}.__getitem__


def product(pid: int, code: str, **fields: Any) -> dict[str, Any]:
    """A KiotViet product as ``GET /products`` shows it."""
    return {
        "id": pid,
        "code": code,
        "name": "Áo thun basic",
        "fullName": f"Áo thun basic - {code}",
        "basePrice": Decimal("199000.0"),
        "unit": "Cái",
        "conversionValue": 1,
        "isActive": True,
        "createdDate": "2024-05-02T09:15:00.1230000",
        "modifiedDate": "2024-06-01T10:57:26.0730000",
        **fields,
    }


def invoice(**fields: Any) -> dict[str, Any]:
    """A counter-sale invoice at branch 20001."""
    return {
        "id": 61000015,
        "code": "HD000123",
        "purchaseDate": "2024-06-01T14:40:00.0000000",
        "branchId": 20001,
        "customerId": 42518443,
        "customerName": "Nguyễn Văn A",
        "total": Decimal("398000.0"),
        "totalPayment": Decimal("398000.0"),
        "discount": 0,
        "status": 1,
        "statusValue": "Hoàn thành",
        "createdDate": "2024-06-01T14:40:01.5300000",
        "modifiedDate": "2024-06-01T14:40:01.5300000",
        "invoiceDetails": [
            {
                "productId": 1000002,
                "productCode": "AT-TRANG-L",
                "productName": "Áo thun basic - Trắng - L",
                "quantity": 2,
                "price": Decimal("199000.0"),
                "discount": 0,
            }
        ],
        **fields,
    }


def to_order(raw: dict[str, Any], **kw: Any) -> Order:
    return order_from_document(raw, channel="pos", account="cua-hang", branch_code_of=CODES, **kw)


def test_dates_without_an_offset_are_vietnam_local_time() -> None:
    """``11:01:41.6630000`` in Hồ Chí Minh City is 04:01:41.663 UTC; 7 digits are read."""
    when = parse_time("2023-12-27T11:01:41.6630000")
    assert when == datetime(2023, 12, 27, 4, 1, 41, 663000, tzinfo=UTC)
    assert parse_time("2024-03-04T23:39:24.1470000+07:00") == datetime(
        2024, 3, 4, 16, 39, 24, 147000, tzinfo=UTC
    )
    assert format_local(when) == "2023-12-27T11:01:41.6630000"
    with pytest.raises(ValueError, match="not a KiotViet date"):
        parse_time("hôm qua")


def test_vnd_has_no_minor_unit() -> None:
    """``199000.0`` is 199000 đồng; half a đồng is refused, not rounded."""
    assert money(Decimal("199000.0")) == Money.of(199000, "VND")
    assert money("63936.0000") == Money.of(63936, "VND")
    with pytest.raises(ValueError, match="fraction of a đồng"):
        money(Decimal("1999.5"), "basePrice")


def test_a_branch_is_a_pickup_location_with_ward_district_province() -> None:
    """``locationName`` splits into province and district; the phone becomes E.164."""
    location = location_from_branch(BRANCH, code="cn01", channel="pos", account="cua-hang")
    assert (location.code, location.name, location.kind) == (
        "cn01",
        "Chi nhánh Quận 1",
        LocationKind.BRANCH,
    )
    assert location.pickup
    assert location.address is not None
    address = location.address
    assert (address.line1, address.ward, address.district, address.province) == (
        "12 Lê Lợi",
        "Phường Bến Nghé",
        "Quận 1",
        "Hồ Chí Minh",
    )
    assert address.phone is not None and address.phone.e164 == "+84901234567"
    assert location.channel_ref is not None and location.channel_ref.external_id == "20001"


def test_master_variants_and_units_become_one_product() -> None:
    """A master, its variants and a carton unit of a variant: one Product, four SKUs."""
    raws = [
        product(
            2000003,
            "AT-DEN-M",
            masterProductId=1000001,
            attributes=[{"attributeName": "MÀU SẮC", "attributeValue": "Đen"}],
        ),
        product(
            1000001,
            "AT-TRANG-M",
            attributes=[{"attributeName": "MÀU SẮC", "attributeValue": "Trắng"}],
        ),
        product(
            3000001,
            "AT-TRANG-M-HOP",
            masterUnitId=1000001,
            conversionValue=10,
            unit="Hộp",
            basePrice=Decimal("1900000.0"),
        ),
        product(4000001, "NON-LA", name="Nón lá Huế", basePrice=Decimal("85000.0")),
    ]
    groups = group_products(raws)
    assert [[r["code"] for r in g] for g in groups] == [
        ["AT-TRANG-M", "AT-DEN-M", "AT-TRANG-M-HOP"],
        ["NON-LA"],
    ]
    shirt = product_from_group(groups[0], channel="pos", account="cua-hang")
    assert shirt.title == "Áo thun basic"
    assert shirt.skus == ["AT-TRANG-M", "AT-DEN-M", "AT-TRANG-M-HOP"]
    assert shirt.option_names == ["MÀU SẮC", UNIT_OPTION]
    carton = shirt.variant("AT-TRANG-M-HOP")
    assert carton.options == {UNIT_OPTION: "Hộp"}
    assert carton.attributes["conversion_value"] == "10"
    assert carton.price == Money.of(1900000, "VND")
    assert shirt.variant("AT-DEN-M").options == {"MÀU SẮC": "Đen", UNIT_OPTION: "Cái"}
    assert Product.model_validate_json(shirt.model_dump_json()) == shirt
    assert units_index(raws) == {"AT-TRANG-M-HOP": units_index(raws)["AT-TRANG-M-HOP"]}
    assert units_index(raws)["AT-TRANG-M-HOP"].base_sku == "AT-TRANG-M"


def test_decomposed_vietnamese_arrives_composed() -> None:
    """A name typed in NFD (macOS) is stored in NFC, so it matches the one typed elsewhere."""
    decomposed = unicodedata.normalize("NFD", "Nón lá Huế")
    [group] = group_products([product(1, "NON-LA", name=decomposed)])
    mapped = product_from_group(group, channel="pos", account="cua-hang")
    assert mapped.title == "Nón lá Huế"
    assert mapped.title != decomposed


def test_stock_levels_per_branch() -> None:
    """``inventories[]`` -> one level per branch; ``onhand`` (the doc's spelling) too."""
    raw = {
        "id": 1000002,
        "code": "AT-TRANG-L",
        "inventories": [
            {"branchId": 20001, "onHand": 12, "reserved": 2},
            {"branchId": 20002, "onhand": 5, "reserved": 0},
        ],
    }
    levels = stock_levels(raw, code_of=CODES, channel="pos", account="cua-hang")
    assert [(lv.location, lv.on_hand, lv.reserved, lv.available) for lv in levels] == [
        ("cn01", 12, 2, 10),
        ("cn02", 5, 0, 5),
    ]


def test_a_counter_sale_is_a_completed_pickup_at_its_branch() -> None:
    """An invoice without delivery: stock left the shelf at CN01, paid."""
    order = to_order(invoice())
    assert order.channel_ref.external_id == "HD000123"
    assert order.status is OrderStatus.COMPLETED
    assert (order.fulfilment, order.pickup_location) == (FulfilmentMode.PICKUP, "cn01")
    assert order.total == Money.of(398000, "VND")
    assert order.quantities() == {"AT-TRANG-L": 2}
    assert order.customer is not None and order.customer.full_name == "Nguyễn Văn A"
    assert order.created_at == datetime(2024, 6, 1, 7, 40, 1, 530000, tzinfo=UTC)
    assert Order.model_validate_json(order.model_dump_json()) == order


def test_an_invoice_made_from_an_order_is_that_order() -> None:
    """Order DH000045 reserved; its invoice completes the same canonical order."""
    reservation = to_order(_order_doc())
    sale = to_order(invoice(orderId=18947766, orderCode="DH000045"))
    assert reservation.channel_ref == sale.channel_ref
    assert sale_id(invoice(orderCode="DH000045")) == "DH000045"
    assert (reservation.status, sale.status) == (OrderStatus.PENDING, OrderStatus.COMPLETED)
    assert sale.number == "DH000045 / HD000123"


def _order_doc(**fields: Any) -> dict[str, Any]:
    base = invoice(code="DH000045", statusValue="Phiếu tạm", totalPayment=0, **fields)
    base["orderDetails"] = base.pop("invoiceDetails")
    return base


@pytest.mark.parametrize(
    ("kind", "status", "expected"),
    [
        ("invoice", 1, OrderStatus.COMPLETED),
        ("invoice", 2, OrderStatus.CANCELLED),
        ("invoice", 3, OrderStatus.SHIPPED),
        ("invoice", 5, OrderStatus.RETURNED),
        ("order", 1, OrderStatus.PENDING),
        ("order", 2, OrderStatus.SHIPPED),
        ("order", 3, OrderStatus.COMPLETED),
        ("order", 4, OrderStatus.CANCELLED),
        ("order", 5, OrderStatus.CONFIRMED),
    ],
)
def test_status_numbers_map_never_the_localised_text(
    kind: str, status: int, expected: OrderStatus
) -> None:
    """The number decides; ``statusValue`` (localised) is ignored."""
    raw = (
        invoice(status=status, statusValue="bất kỳ")
        if kind == "invoice"
        else _order_doc(status=status)
    )
    assert to_order(raw).status is expected


def test_an_unknown_status_is_refused_with_its_value() -> None:
    """Status 9 is no status: a clear error (the core quarantines the record)."""
    with pytest.raises(ValueError, match="unknown invoice status 9"):
        to_order(invoice(status=9))


def test_a_carton_line_is_booked_on_the_base_unit() -> None:
    """1 Thùng (24 chai) at 96,000đ is 24 bottles at 4,000đ: one stock unit everywhere."""
    units = units_index(
        [
            product(2000001, "LAVIE-CHAI", name="Nước suối Lavie 500ml", unit="Chai"),
            product(2000002, "LAVIE-THUNG", masterUnitId=2000001, conversionValue=24, unit="Thùng"),
        ]
    )
    raw = invoice(
        invoiceDetails=[
            {
                "productCode": "LAVIE-THUNG",
                "quantity": 1,
                "price": Decimal("96000.0"),
                "discount": 0,
            }
        ],
        total=96000,
        totalPayment=96000,
    )
    order = to_order(raw, units=units)
    [line] = order.lines
    assert (line.sku, line.quantity, line.unit_price) == ("LAVIE-CHAI", 24, Money.of(4000, "VND"))
    assert order.total == Money.of(96000, "VND")
    odd = invoice(
        invoiceDetails=[{"productCode": "LAVIE-THUNG", "quantity": 1, "price": Decimal("100000.0")}]
    )
    [line] = to_order(odd, units=units).lines
    assert line.total == Money.of(100000, "VND")  # 24 x 4,167 less a 8đ line discount


def test_a_delivery_invoice_ships_to_the_receiver() -> None:
    """``invoiceDelivery``: shipped, to a Vietnamese address with its ward."""
    raw = invoice(
        status=3,
        invoiceDelivery={
            "receiver": "Trần Thị Bình",
            "contactNumber": "0987 654 321",
            "address": "45 Nguyễn Huệ",
            "wardName": "Phường Bến Thành",
            "locationName": "Hồ Chí Minh - Quận 1",
            "price": 30000,
        },
    )
    order = to_order(raw)
    assert order.status is OrderStatus.SHIPPED and order.fulfilment is FulfilmentMode.SHIP
    assert order.shipping_total == Money.of(30000, "VND")
    assert order.shipping_address is not None
    assert order.shipping_address.phone is not None
    assert order.shipping_address.phone.e164 == "+84987654321"
    assert order.shipping_address.ward == "Phường Bến Thành"


def test_marketplace_synced_sales_are_recognised() -> None:
    """By code infix (HDSPE_, DHLZD_) or by a marketplace's sale channel id."""
    markers = ("SPE", "LZD", "TTS")
    assert is_marketplace_sale({"code": "HDSPE_000123"}, markers=markers, channel_ids=())
    assert is_marketplace_sale({"code": "DHLZD_000007"}, markers=markers, channel_ids=())
    assert is_marketplace_sale(
        {"code": "HD000124", "saleChannelId": 1000000103},
        markers=markers,
        channel_ids={1000000103},
    )
    assert not is_marketplace_sale(
        {"code": "HD000125", "saleChannelId": 1}, markers=markers, channel_ids={1000000103}
    )


def test_customers_get_e164_phones_and_masked_ones_never_match() -> None:
    """``0901234567`` -> ``+84901234567``; a marketplace's masked buyer keeps its text."""
    customer = customer_from_kiotviet(
        {
            "id": 37285077,
            "code": "KH000341",
            "name": "Nguyễn Văn A",
            "contactNumber": "0901234567",
            "subNumber": "0283 822 1234",
            "email": "A.Nguyen@Example.vn",
            "address": "12 Lê Lợi",
            "locationName": "Hồ Chí Minh - Quận 1",
            "wardName": "Phường Bến Nghé",
            "createdDate": "2024-04-09T14:13:52.1670000",
        },
        channel="pos",
        account="cua-hang",
    )
    assert [p.e164 for p in customer.phones] == ["+84901234567", "+842838221234"]
    assert customer.emails[0].address == "a.nguyen@example.vn"
    assert customer.addresses[0].district == "Quận 1"
    assert "phone:+84901234567" in customer.match_keys()
    masked = customer_from_kiotviet(
        {"id": 1, "code": "KHSPE000001", "name": "Đ******h", "contactNumber": "84*****678"},
        channel="pos",
        account="cua-hang",
    )
    assert masked.phones[0].masked and masked.phones[0].match_key is None
    assert not [k for k in masked.match_keys() if k.startswith("phone:")]
