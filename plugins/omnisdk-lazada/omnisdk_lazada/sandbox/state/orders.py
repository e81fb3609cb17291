"""The sandbox seller's orders: one item per unit, each with its own status.

Lazada's order has no status of its own: ``statuses`` lists its items' statuses. Buyer data is
masked as Lazada masks it for apps without the "unmask" permission.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

__all__ = [
    "CANCELLABLE",
    "NEXT_STATUS",
    "OrderItem",
    "SandboxOrder",
    "lazada_time",
    "mask_name",
    "mask_phone",
]

NEXT_STATUS: dict[str, str] = {
    "unpaid": "pending",
    "pending": "packed",
    "packed": "ready_to_ship",
    "ready_to_ship": "shipped",
    "shipped": "delivered",
}
"""An item's usual life, one ``advance`` at a time."""

CANCELLABLE = frozenset({"unpaid", "pending", "packed", "repacked"})
"""Item statuses a buyer may still cancel from (the parcel is not handed over)."""

HOLDS_WITHHOLD = frozenset({"unpaid"})
HOLDS_OCCUPY = frozenset({"pending", "packed", "repacked"})


def lazada_time(stamp: float, offset_hours: int = 7) -> str:
    """A time as ``/orders/get`` writes it: ``"2024-01-01 10:00:00 +0700"`` (site time)."""
    zone = timezone(timedelta(hours=offset_hours))
    return datetime.fromtimestamp(int(stamp), zone).strftime("%Y-%m-%d %H:%M:%S %z")


def mask_name(name: str) -> str:
    """``"Nguyễn"`` -> ``"N****n"``: first and last letter kept."""
    name = name.strip()
    if len(name) <= 2:
        return "*" * len(name)
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_phone(phone: str) -> str:
    """``"0987654321"`` -> ``"84****21"``: the country code and the last two digits."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return f"84****{digits[-2:]}" if digits else ""


@dataclass
class OrderItem:
    """One unit of an order."""

    order_item_id: int
    item_id: int
    sku_id: int
    seller_sku: str
    name: str
    variation: str
    price: Decimal
    status: str
    created: float
    updated: float
    reason: str = ""
    tracking_code: str = ""


@dataclass
class SandboxOrder:
    """An order as the sandbox seller holds it."""

    order_id: int
    currency: str
    created: float
    items: list[OrderItem]
    customer: dict[str, Any]
    payment_method: str
    remarks: str = ""
    history: list[tuple[int, str, float]] = field(default_factory=list)
    updated: float = 0.0
    """The last change of any of its items (kept by the order flow)."""

    def __post_init__(self) -> None:
        self.updated = max([self.updated, self.created, *(item.updated for item in self.items)])

    @property
    def buyer_id(self) -> str:
        """The buyer's Lazada id: given, else stable per phone (or name) of the buyer."""
        given = self.customer.get("buyer_id")
        if given:
            return str(given)
        key = str(self.customer.get("phone") or self.customer.get("name") or "")
        return str(300_000_000 + int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % 10**8)

    @property
    def statuses(self) -> list[str]:
        """Its items' statuses, each once."""
        return list(dict.fromkeys(item.status for item in self.items))

    @property
    def price(self) -> Decimal:
        """The sum of its items' prices."""
        return sum((item.price for item in self.items), Decimal(0))

    def _address(self) -> dict[str, Any]:
        customer = self.customer
        address = customer.get("address") or {}
        if isinstance(address, str):
            address = {"line1": address}
        name = str(customer.get("name") or "")
        first, _, last = name.rpartition(" ") if " " in name else ("", "", name)
        return {
            "first_name": mask_name(last or first),
            "last_name": "",
            "phone": mask_phone(str(customer.get("phone") or "")),
            "phone2": "",
            "address1": "***" if address.get("line1") else "",
            "address2": "",
            "address3": str(address.get("province") or ""),
            "address4": str(address.get("district") or ""),
            "address5": str(address.get("ward") or ""),
            "city": str(address.get("district") or ""),
            "post_code": "",
            "country": "Vietnam",
        }

    def entry(self, money: Any) -> dict[str, Any]:
        """The order as ``/orders/get`` and ``/order/get`` describe it."""
        address = self._address()
        return {
            "order_id": self.order_id,
            "order_number": self.order_id,
            "created_at": lazada_time(self.created),
            "updated_at": lazada_time(self.updated),
            "statuses": self.statuses,
            "items_count": len(self.items),
            "price": f"{self.price:.2f}",
            "shipping_fee": money(Decimal(0)),
            "shipping_fee_original": money(Decimal(0)),
            "shipping_fee_discount_seller": money(Decimal(0)),
            "shipping_fee_discount_platform": money(Decimal(0)),
            "voucher": money(Decimal(0)),
            "voucher_platform": money(Decimal(0)),
            "voucher_seller": money(Decimal(0)),
            "voucher_code": "",
            "payment_method": self.payment_method,
            "customer_first_name": address["first_name"],
            "customer_last_name": "",
            "address_shipping": address,
            "address_billing": dict(address),
            "warehouse_code": "dropshipping",
            "remarks": self.remarks,
            "gift_option": False,
            "gift_message": "",
            "tax_code": "",
            "branch_number": "",
            "national_registration_number": "",
            "promised_shipping_times": "",
            "delivery_info": "",
            "extra_attributes": '{"TaxInvoiceRequested":false}',
        }

    def item_entries(self, money: Any) -> list[dict[str, Any]]:
        """The items as ``/order/items/get`` lists them (one per unit)."""
        return [
            {
                "order_id": self.order_id,
                "order_item_id": item.order_item_id,
                "buyer_id": self.buyer_id,
                "status": item.status,
                "name": item.name,
                "sku": item.seller_sku,
                "shop_sku": f"{item.item_id}_VN-{item.sku_id}",
                "sku_id": str(item.sku_id),
                "product_id": str(item.item_id),
                "variation": item.variation,
                "item_price": money(item.price),
                "paid_price": money(item.price),
                "currency": self.currency,
                "voucher_amount": money(Decimal(0)),
                "voucher_seller": money(Decimal(0)),
                "voucher_platform": money(Decimal(0)),
                "shipping_amount": money(Decimal(0)),
                "tax_amount": money(Decimal(0)),
                "wallet_credits": money(Decimal(0)),
                "shipping_type": "Dropshipping",
                "shipping_provider_type": "STANDARD",
                "shipment_provider": "LEX VN" if item.tracking_code else "",
                "tracking_code": item.tracking_code,
                "package_id": f"FP{item.order_item_id}" if item.tracking_code else "",
                "invoice_number": "",
                "reason": item.reason,
                "reason_detail": "",
                "return_status": "",
                "cancel_return_initiator": "buyer-cancel" if item.status == "canceled" else "",
                "is_digital": 0,
                "warehouse_code": "dropshipping",
                "created_at": lazada_time(item.created),
                "updated_at": lazada_time(item.updated),
                "sla_time_stamp": datetime.fromtimestamp(
                    int(item.created) + 2 * 86400, timezone(timedelta(hours=7))
                ).isoformat(),
            }
            for item in self.items
        ]

    def state(self) -> dict[str, Any]:
        """The order for the control API's state (unmasked)."""
        lines: dict[str, int] = {}
        for item in self.items:
            if item.status not in ("canceled", "returned"):
                lines[item.seller_sku] = lines.get(item.seller_sku, 0) + 1
        return {
            "id": str(self.order_id),
            "status": ",".join(self.statuses),
            "currency": self.currency,
            "created": self.created,
            "updated": self.updated,
            "total": str(self.price),
            "payment_method": self.payment_method,
            "lines": [{"sku": sku, "quantity": n} for sku, n in lines.items()],
            "items": [
                {"order_item_id": i.order_item_id, "sku": i.seller_sku, "status": i.status}
                for i in self.items
            ],
            "history": [
                {"order_item_id": item_id, "status": status, "at": at}
                for item_id, status, at in self.history
            ],
        }
