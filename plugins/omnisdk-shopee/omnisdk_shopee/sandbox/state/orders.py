"""The sandbox shop's orders: Shopee's status flow, order numbers and masked buyer data."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

__all__ = [
    "CANCELLABLE",
    "NEXT_STATUS",
    "OrderLine",
    "SandboxOrder",
    "mask_address",
    "mask_name",
    "mask_phone",
    "order_sn",
]

NEXT_STATUS: dict[str, str] = {
    "UNPAID": "READY_TO_SHIP",
    "READY_TO_SHIP": "PROCESSED",
    "PROCESSED": "SHIPPED",
    "SHIPPED": "TO_CONFIRM_RECEIVE",
    "TO_CONFIRM_RECEIVE": "COMPLETED",
}
"""Shopee's usual order life, one ``advance`` at a time."""

CANCELLABLE = frozenset({"UNPAID", "READY_TO_SHIP", "PROCESSED", "IN_CANCEL"})
"""Statuses a buyer may still cancel from (the parcel has not left)."""

DEFAULT_FIELDS = (
    "order_sn",
    "region",
    "currency",
    "cod",
    "order_status",
    "create_time",
    "update_time",
    "days_to_ship",
    "ship_by_date",
    "message_to_seller",
)
"""What ``get_order_detail`` returns without ``response_optional_fields``."""


def order_sn(rng: random.Random, when: datetime) -> str:
    """A Shopee-style order number: ``YYMMDD`` and eight upper-case letters and digits."""
    alphabet = string.ascii_uppercase + string.digits
    return when.strftime("%y%m%d") + "".join(rng.choice(alphabet) for _ in range(8))


def mask_name(name: str) -> str:
    """``"Nguyễn Văn An"`` -> ``"N***********n"``: first and last letter kept."""
    name = name.strip()
    if len(name) <= 2:
        return "*" * len(name)
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_phone(phone: str) -> str:
    """``"0912345678"`` -> ``"******78"``: only the last two digits shown."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return "******" + digits[-2:] if digits else ""


def mask_address(address: str) -> str:
    """``"12 Lê Lợi, Phường Bến Nghé"`` -> ``"12******"``: the start shown, the rest starred."""
    address = address.strip()
    return (address[:3].rstrip() + "******") if address else ""


@dataclass
class OrderLine:
    """One line of a sandbox order."""

    item_id: int
    model_id: int
    sku: str
    item_name: str
    model_name: str
    quantity: int
    price: Decimal
    has_model: bool


@dataclass
class SandboxOrder:
    """An order as the sandbox shop holds it."""

    order_sn: str
    status: str
    currency: str
    create_time: int
    update_time: int
    lines: list[OrderLine]
    buyer_user_id: int
    buyer_username: str
    recipient: dict[str, str]
    region: str = "VN"
    cod: bool = False
    pay_time: int | None = None
    tracking_number: str = ""
    package_number: str = ""
    note: str = ""
    cancel_by: str = ""
    cancel_reason: str = ""
    history: list[tuple[str, int]] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        """What the buyer pays (no shipping fee in the sandbox)."""
        return sum((line.price * line.quantity for line in self.lines), Decimal(0))

    def detail(self, optional: set[str], number: Any) -> dict[str, Any]:
        """The order as ``get_order_detail`` returns it, with the optional fields asked for."""
        ship_by = self.create_time + 2 * 86400
        data: dict[str, Any] = {
            "order_sn": self.order_sn,
            "region": self.region,
            "currency": self.currency,
            "cod": self.cod,
            "order_status": self.status,
            "create_time": self.create_time,
            "update_time": self.update_time,
            "days_to_ship": 2,
            "ship_by_date": ship_by,
            "message_to_seller": self.note,
        }
        extra: dict[str, Any] = {
            "buyer_user_id": self.buyer_user_id,
            "buyer_username": self.buyer_username,
            "recipient_address": self._masked_recipient(),
            "item_list": self._item_list(number),
            "package_list": self._package_list(),
            "pay_time": self.pay_time,
            "total_amount": number(self.total),
            "note": "",
            "cancel_by": self.cancel_by,
            "cancel_reason": self.cancel_reason,
            "payment_method": "Cash on Delivery" if self.cod else "ShopeePay",
            "shipping_carrier": "SPX Express",
            "split_up": False,
        }
        for name in optional:
            if name in extra:
                data[name] = extra[name]
        return data

    def _masked_recipient(self) -> dict[str, Any]:
        """``recipient_address`` with name, phone and street masked, as Shopee shows them."""
        return {
            "name": mask_name(self.recipient.get("name", "")),
            "phone": mask_phone(self.recipient.get("phone", "")),
            "full_address": mask_address(self.recipient.get("full_address", "")),
            "town": self.recipient.get("town", ""),
            "district": self.recipient.get("district", ""),
            "city": self.recipient.get("city", ""),
            "state": self.recipient.get("state", ""),
            "region": self.region,
            "zipcode": "",
        }

    def _item_list(self, number: Any) -> list[dict[str, Any]]:
        """``item_list``: one entry per line, money through ``number``."""
        return [
            {
                "item_id": line.item_id,
                "item_name": line.item_name,
                "item_sku": "" if line.has_model else line.sku,
                "model_id": line.model_id,
                "model_name": line.model_name,
                "model_sku": line.sku if line.has_model else "",
                "model_quantity_purchased": line.quantity,
                "model_original_price": number(line.price),
                "model_discounted_price": number(line.price),
                "order_item_id": line.item_id,
                "promotion_type": "",
                "product_location_id": [""],
                "weight": 0.3,
            }
            for line in self.lines
        ]

    def _package_list(self) -> list[dict[str, Any]]:
        """``package_list``: the one parcel of the order."""
        return [
            {
                "package_number": self.package_number,
                "logistics_status": _logistics_status(self.status),
                "logistics_channel_id": 50018,
                "shipping_carrier": "SPX Express",
                "item_list": [
                    {
                        "item_id": line.item_id,
                        "model_id": line.model_id,
                        "model_quantity": line.quantity,
                    }
                    for line in self.lines
                ],
            }
        ]

    def state(self) -> dict[str, Any]:
        """The order for the control API's state (unmasked, sandbox-side view)."""
        return {
            "id": self.order_sn,
            "status": self.status,
            "currency": self.currency,
            "create_time": self.create_time,
            "update_time": self.update_time,
            "created_at": datetime.fromtimestamp(self.create_time, UTC).isoformat(),
            "total": str(self.total),
            "cod": self.cod,
            "tracking_number": self.tracking_number,
            "lines": [
                {"sku": line.sku, "quantity": line.quantity, "price": str(line.price)}
                for line in self.lines
            ],
            "history": [{"status": status, "at": at} for status, at in self.history],
        }


def _logistics_status(status: str) -> str:
    return {
        "UNPAID": "LOGISTICS_NOT_START",
        "READY_TO_SHIP": "LOGISTICS_READY",
        "PROCESSED": "LOGISTICS_REQUEST_CREATED",
        "SHIPPED": "LOGISTICS_PICKUP_DONE",
        "TO_CONFIRM_RECEIVE": "LOGISTICS_DELIVERY_DONE",
        "COMPLETED": "LOGISTICS_DELIVERY_DONE",
        "CANCELLED": "LOGISTICS_REQUEST_CANCELED",
        "IN_CANCEL": "LOGISTICS_READY",
    }.get(status, "LOGISTICS_NOT_START")
