"""Chat orders: what a merchant sells in Messenger, Page comments or Zalo, as omnisdk orders.

Meta gives no order API (the Commerce Order API was removed on 2026-10-27), so the app that
talks with the buyer records the order it agreed on: :func:`chat_order` builds the canonical
:class:`~omnisdk.models.Order` with this channel's account as its source, and
``Engine.record_order`` takes it through the same path as every channel's orders. Its units
are then reserved in the one stock ledger, so every other channel lists less at once, and the
catalog itself is pushed the lower figure like any other channel::

    order = chat_order(
        account="fb-page", conversation="m_AbC123", surface="messenger",
        lines=[ChatLine("AO-DAI-DO-M", 2, Money.of(450000, "VND"))],
        buyer="Nguyễn Thị Hoa", phone="0912 345 678", placed_at=message.sent_at,
    )
    await engine.record_order(order)

Recording the same conversation again changes nothing (the external id is the key); a later
version with another status (``CONFIRMED``, ``CANCELLED``...) moves the order on.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from omnisdk.models import (
    ChannelRef,
    Customer,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    PaymentStatus,
    Phone,
)

__all__ = ["CHANNEL", "SURFACES", "ChatLine", "chat_order"]

CHANNEL = "facebook"
"""The channel type chat orders of a Meta Page are recorded under."""
SURFACES = frozenset({"messenger", "comment", "instagram", "whatsapp", "zalo", "phone"})
"""Where a chat order may have been agreed (the first part of its external id)."""
_SAFE_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,200}$")


@dataclass(frozen=True)
class ChatLine:
    """One line of a chat order: ``quantity`` units of ``sku`` at ``unit_price``."""

    sku: str
    quantity: int
    unit_price: Money


def chat_order(
    *,
    account: str,
    conversation: str,
    lines: Sequence[ChatLine],
    placed_at: datetime,
    surface: str = "messenger",
    status: OrderStatus = OrderStatus.PENDING,
    buyer: str | None = None,
    phone: str | None = None,
    shipping: Money | None = None,
    note: str | None = None,
    updated_at: datetime | None = None,
    refunded: Money | None = None,
) -> Order:
    """The canonical order of a chat sale on ``account`` (a configured facebook account).

    ``refunded`` is what the shop has given back for the goods (a scarf returned, a part
    refunded by bank transfer): record the order again with it and a later ``updated_at``;
    the order is then ``partially_refunded`` (``refunded`` when all of it was given back).

    ``conversation`` identifies the sale within its ``surface`` (a Messenger ``mid``, a
    comment id, a Zalo message id): the external id is ``"<surface>:<conversation>"``, so
    recording it twice is a no-op. Raises :class:`ValueError` for an unknown surface, an id
    with spaces or odd characters, no lines, mixed currencies or a naive time.
    """
    if surface not in SURFACES:
        raise ValueError(f"surface must be one of {', '.join(sorted(SURFACES))}, not {surface!r}")
    if not _SAFE_ID.match(conversation):
        raise ValueError(f"conversation id {conversation!r} must be 1-200 of A-Z a-z 0-9 _ . : -")
    if not lines:
        raise ValueError("a chat order needs at least one line")
    if placed_at.tzinfo is None:
        raise ValueError("placed_at needs a time zone (a naive time is ambiguous)")
    currency = lines[0].unit_price.currency
    if any(line.unit_price.currency != currency for line in lines) or any(
        money is not None and money.currency != currency for money in (shipping, refunded)
    ):
        raise ValueError("every price of a chat order must be in one currency")
    order_lines = [
        OrderLine(sku=line.sku, quantity=line.quantity, unit_price=line.unit_price)
        for line in lines
    ]
    subtotal = Money.zero(currency)
    for line in lines:
        subtotal = subtotal + Money.of(line.unit_price.amount * line.quantity, currency)
    total = subtotal + shipping if shipping is not None else subtotal
    customer = None
    if buyer or phone:
        customer = Customer(
            full_name=buyer,
            phones=[Phone.parse(phone)] if phone else [],
        )
    external_id = f"{surface}:{conversation}"
    payment: dict[str, PaymentStatus] = {}
    if refunded is not None:
        whole = refunded >= total
        payment = {"payment_status": PaymentStatus.REFUNDED if whole
                   else PaymentStatus.PARTIALLY_REFUNDED}
    return Order(
        channel_ref=ChannelRef(channel=CHANNEL, account=account, external_id=external_id),
        number=external_id,
        status=status,
        channel_status=f"chat:{surface}",
        currency=currency,
        lines=order_lines,
        subtotal=subtotal,
        shipping_total=shipping,
        total=total,
        refund_total=refunded,
        **payment,
        customer=customer,
        note=note,
        created_at=placed_at,
        updated_at=updated_at or placed_at,
    )
