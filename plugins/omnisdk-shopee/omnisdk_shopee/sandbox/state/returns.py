"""The sandbox shop's returns and refunds (Shopee's Returns API, ``v2.returns``).

A buyer sends back some units of a shipped order; Shopee pays them back and the return
ends as ``REFUND_PAID``. The order itself keeps its status and lines: the return is its
own object, found by ``get_return_list`` (by create or update time) and
``get_return_detail`` (by ``return_sn``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from omnisdk.testing.sandbox import NotRefundable, RefundRequest, UnknownObject
from omnisdk_shopee.sandbox.state.orders import SandboxOrder

__all__ = ["RETURNABLE", "RETURN_STATUSES", "ReturnItem", "SandboxReturn", "open_return"]

RETURN_STATUSES = frozenset(
    {
        "REQUESTED",
        "ACCEPTED",
        "CANCELLED",
        "JUDGING",
        "REFUND_PAID",
        "CLOSED",
        "PROCESSING",
        "SELLER_DISPUTE",
    }
)
"""Shopee's return statuses (``status`` of a return, and the filter of get_return_list)."""

RETURNABLE = frozenset({"SHIPPED", "TO_CONFIRM_RECEIVE", "COMPLETED"})
"""Order statuses a buyer may ask for a return from (the parcel has left)."""


@dataclass
class ReturnItem:
    """One returned line: ``amount`` units of an order line."""

    item_id: int
    model_id: int
    name: str
    item_sku: str
    variation_sku: str
    amount: int
    item_price: Decimal
    refund_amount: Decimal


@dataclass
class SandboxReturn:
    """A return as the sandbox shop holds it."""

    return_sn: str
    order_sn: str
    currency: str
    items: list[ReturnItem]
    status: str
    create_time: int
    update_time: int
    username: str
    reason: str = "NOT_RECEIPT"
    text_reason: str = "Hàng không đúng mô tả"
    history: list[tuple[str, int]] = field(default_factory=list)

    @property
    def refund_amount(self) -> Decimal:
        """What the buyer is paid back: every item's refund."""
        return sum((item.refund_amount for item in self.items), Decimal(0))

    def detail(self, number: Any) -> dict[str, Any]:
        """The return as ``get_return_detail`` (and each entry of ``get_return_list``) has it."""
        return {
            "return_sn": self.return_sn,
            "order_sn": self.order_sn,
            "status": self.status,
            "currency": self.currency,
            "refund_amount": number(self.refund_amount),
            "amount_before_discount": number(
                sum((item.item_price * item.amount for item in self.items), Decimal(0))
            ),
            "create_time": self.create_time,
            "update_time": self.update_time,
            "due_date": self.create_time + 3 * 86400,
            "return_ship_due_date": self.create_time + 7 * 86400,
            "return_seller_due_date": self.create_time + 3 * 86400,
            "reason": self.reason,
            "text_reason": self.text_reason,
            "image": [],
            "tracking_number": "",
            "needs_logistics": True,
            "negotiation_status": "TERMINATED",
            "seller_proof_status": "NOT_NEEDED",
            "seller_compensation_status": "NOT_REQUIRED",
            "user": {"username": self.username, "email": "", "portrait": ""},
            "item": [
                {
                    "item_id": item.item_id,
                    "model_id": item.model_id,
                    "name": item.name,
                    "images": [],
                    "amount": item.amount,
                    "item_price": number(item.item_price),
                    "refund_amount": number(item.refund_amount),
                    "is_add_on_deal": False,
                    "is_main_item": False,
                    "add_on_deal_id": 0,
                    "item_sku": item.item_sku,
                    "variation_sku": item.variation_sku,
                }
                for item in self.items
            ],
        }


def returned_units(returns: list[SandboxReturn], order_sn: str) -> dict[str, int]:
    """Units of each SKU of ``order_sn`` already returned (cancelled returns left out)."""
    units: dict[str, int] = {}
    for entry in returns:
        if entry.order_sn != order_sn or entry.status == "CANCELLED":
            continue
        for item in entry.items:
            sku = item.variation_sku or item.item_sku
            units[sku] = units.get(sku, 0) + item.amount
    return units


def open_return(
    order: SandboxOrder,
    refund: RefundRequest,
    *,
    earlier: list[SandboxReturn],
    now: int,
    ids: random.Random,
) -> SandboxReturn:
    """The buyer returns ``refund.lines`` of ``order`` and is refunded at once (the return
    ends ``REFUND_PAID``), each unit at what it cost on the order.

    Raises :class:`NotRefundable` before the parcel left or beyond the units bought (less
    those already returned), :class:`UnknownObject` for a SKU not on the order.
    """
    if order.status not in RETURNABLE:
        raise NotRefundable(
            f"order {order.order_sn} is {order.status}: a return is asked for once it shipped",
            status=order.status,
        )
    back = returned_units(earlier, order.order_sn)
    items: list[ReturnItem] = []
    for wanted in refund.lines:
        line = next((line for line in order.lines if line.sku == wanted.sku), None)
        if line is None:
            raise UnknownObject("SKU on the order", wanted.sku)
        left = line.quantity - back.get(wanted.sku, 0)
        if wanted.quantity > left:
            raise NotRefundable(
                f"order {order.order_sn}: {left} unit(s) of {wanted.sku!r} left to return, "
                f"{wanted.quantity} asked for"
            )
        back[wanted.sku] = back.get(wanted.sku, 0) + wanted.quantity
        items.append(
            ReturnItem(
                item_id=line.item_id,
                model_id=line.model_id,
                name=line.item_name,
                item_sku="" if line.has_model else line.sku,
                variation_sku=line.sku if line.has_model else "",
                amount=wanted.quantity,
                item_price=line.price,
                refund_amount=line.price * wanted.quantity,
            )
        )
    number = now // 86400 % 10**6 * 10**9 + ids.randrange(10**9)
    return SandboxReturn(
        return_sn=f"{number:015d}",
        order_sn=order.order_sn,
        currency=order.currency,
        items=items,
        status="REFUND_PAID",
        create_time=now,
        update_time=now,
        username=order.buyer_username,
        history=[("REQUESTED", now), ("ACCEPTED", now), ("REFUND_PAID", now)],
    )
