"""Orders: one canonical shape and status set for every channel's orders."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Self

from pydantic import Field, computed_field, field_validator, model_validator

from omnisdk.models.address import Address
from omnisdk.models.base import CanonicalModel
from omnisdk.models.bounds import MAX_QUANTITY
from omnisdk.models.customer import Customer
from omnisdk.models.money import Money, _in_range, minor_units
from omnisdk.models.product import Sku
from omnisdk.models.refs import ChannelRef

__all__ = [
    "Discount",
    "FulfilmentMode",
    "Order",
    "OrderLine",
    "OrderStatus",
    "PaymentStatus",
    "StockEffect",
]


class StockEffect(enum.StrEnum):
    """What an order in a status does to stock."""

    NONE = "none"
    """Nothing is held (not yet accepted)."""
    RESERVE = "reserve"
    """Units are held for the order but still on hand."""
    COMMIT = "commit"
    """Units have left: on hand went down."""
    RELEASE = "release"
    """The order is off: whatever it held is free again."""


class OrderStatus(enum.StrEnum):
    """The canonical order status every channel's statuses map onto."""

    PENDING = "pending"
    """Placed but not yet confirmed or paid (e.g. cash-on-delivery awaiting confirmation)."""
    CONFIRMED = "confirmed"
    """Accepted by the shop: paid, or confirmed for cash on delivery."""
    READY_TO_SHIP = "ready_to_ship"
    """Packed and waiting for the carrier, or waiting in store for pick-up."""
    SHIPPED = "shipped"
    """Handed to the carrier or collected by the buyer."""
    DELIVERED = "delivered"
    """The buyer has it."""
    COMPLETED = "completed"
    """Closed: nothing more will happen."""
    CANCELLED = "cancelled"
    """Cancelled before it shipped."""
    RETURNED = "returned"
    """Came back after shipping, or refunded in full."""

    @property
    def stock_effect(self) -> StockEffect:
        """What an order in this status does to stock."""
        return _STOCK_EFFECT[self]

    @property
    def is_final(self) -> bool:
        """True for statuses an order does not leave."""
        return self in (OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.RETURNED)


_STOCK_EFFECT = {
    OrderStatus.PENDING: StockEffect.RESERVE,
    OrderStatus.CONFIRMED: StockEffect.RESERVE,
    OrderStatus.READY_TO_SHIP: StockEffect.RESERVE,
    OrderStatus.SHIPPED: StockEffect.COMMIT,
    OrderStatus.DELIVERED: StockEffect.COMMIT,
    OrderStatus.COMPLETED: StockEffect.COMMIT,
    OrderStatus.CANCELLED: StockEffect.RELEASE,
    OrderStatus.RETURNED: StockEffect.RELEASE,
}


class PaymentStatus(enum.StrEnum):
    """Where the money of an order stands."""

    UNPAID = "unpaid"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


class FulfilmentMode(enum.StrEnum):
    """How the buyer gets the goods."""

    SHIP = "ship"
    PICKUP = "pickup"
    """Buy online, pick up in store at ``Order.pickup_location``."""


class Discount(CanonicalModel):
    """A discount applied to an order or a line (voucher, promotion, seller discount)."""

    code: str | None = None
    description: str | None = None
    amount: Money


class OrderLine(CanonicalModel):
    """One line of an order: ``quantity`` units of ``sku`` at ``unit_price``.

    ``discount`` is the total discount on the line (not per unit). ``quantity`` is 1 to
    :data:`~omnisdk.models.MAX_QUANTITY`, and the line's total must be Money in range too.
    ``returned`` is how many of the ``quantity`` units came back to the seller after the sale
    (the platform says so per unit): the order no longer holds them, so their stock is free
    again (:meth:`Order.quantities`), while the line still counts them as sold, and what was
    paid back for them is in the order's ``refund_total``. None (or 0): none came back.
    """

    sku: Sku
    title: str | None = None
    quantity: int = Field(gt=0, le=MAX_QUANTITY)
    unit_price: Money
    discount: Money | None = None
    channel_ref: ChannelRef | None = None
    returned: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _total_in_range(self) -> Self:
        # The total is computed when dumped: an overflow must be refused now, not then. The
        # same checks as computing it, without building the Money (lines are many).
        price, discount = self.unit_price, self.discount
        if self.returned and self.returned > self.quantity:
            raise ValueError(
                f"returned {self.returned} is more than the line's quantity {self.quantity}"
            )
        try:
            gross = price.amount * self.quantity
            _in_range(gross, price.currency)
            if discount:
                price._same_currency(discount, "subtract")
                _in_range(gross - discount.amount, price.currency)
        except ValueError as exc:
            raise ValueError(f"the line total (unit_price x {self.quantity}): {exc}") from None
        return self

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total(self) -> Money:
        """Unit price times quantity, less the line discount."""
        gross = self.unit_price * self.quantity
        return gross - self.discount if self.discount else gross


class Order(CanonicalModel):
    """An order from any channel (or recorded by the app for chat and phone orders).

    ``channel_status`` keeps the platform's own status text beside the canonical ``status``.
    Totals are Money in ``currency``; every amount in the order must use that currency.
    ``refund_total`` is what was given back to the buyer for the goods so far (every partial
    refund added up; refunded shipping left out where the platform tells it apart), None
    when the channel says nothing of refunds. It never exceeds ``total``.
    """

    channel_ref: ChannelRef
    number: str | None = None
    status: OrderStatus
    channel_status: str | None = None
    payment_status: PaymentStatus = PaymentStatus.UNPAID
    currency: str
    lines: list[OrderLine] = Field(min_length=1)
    subtotal: Money
    discount_total: Money | None = None
    shipping_total: Money | None = None
    tax_total: Money | None = None
    total: Money
    refund_total: Money | None = None
    discounts: list[Discount] = Field(default_factory=list)
    customer: Customer | None = None
    shipping_address: Address | None = None
    fulfilment: FulfilmentMode = FulfilmentMode.SHIP
    pickup_location: str | None = None
    tracking_number: str | None = None
    note: str | None = None
    created_at: datetime
    updated_at: datetime
    raw: dict[str, Any] | None = Field(default=None, repr=False)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        code = value.upper()
        minor_units(code)
        return code

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        currency = self.currency
        # Each place is spelled out only for an amount in another currency (lines are many).
        totals = (
            ("subtotal", self.subtotal), ("discount_total", self.discount_total),
            ("shipping_total", self.shipping_total), ("tax_total", self.tax_total),
            ("total", self.total), ("refund_total", self.refund_total),
        )
        for where, money in totals:
            if money is not None and money.currency != currency:
                raise ValueError(f"{where} is in {money.currency} but the order is in {currency}")
        for index, line in enumerate(self.lines):
            for part in ("unit_price", "discount"):
                money = getattr(line, part)
                if money is not None and money.currency != currency:
                    raise ValueError(
                        f"lines[{index}].{part} is in {money.currency} but the order is in "
                        f"{currency}"
                    )
        for index, discount in enumerate(self.discounts):
            if discount.amount.currency != currency:
                raise ValueError(
                    f"discounts[{index}].amount is in {discount.amount.currency} but the order "
                    f"is in {currency}"
                )
        for sku, units in self.quantities().items():
            if units > MAX_QUANTITY:
                raise ValueError(
                    f"the order's lines hold {units} units of {sku!r}: at most "
                    f"{MAX_QUANTITY:,} (MAX_QUANTITY) per SKU"
                )
        if self.refund_total is not None and not (
            Money.zero(currency) <= self.refund_total <= self.total
        ):
            raise ValueError(
                f"refund_total {self.refund_total} is not between 0 and the order's total "
                f"{self.total}"
            )
        if self.fulfilment is FulfilmentMode.PICKUP and not self.pickup_location:
            raise ValueError("a pick-up order needs pickup_location (the store's location code)")
        return self

    def quantities(self) -> dict[str, int]:
        """Units per SKU the order holds, over all lines (a SKU may appear on several lines):
        each line's quantity less the units that came back (``returned``)."""
        totals: dict[str, int] = {}
        for line in self.lines:
            totals[line.sku] = totals.get(line.sku, 0) + line.quantity - (line.returned or 0)
        return totals
