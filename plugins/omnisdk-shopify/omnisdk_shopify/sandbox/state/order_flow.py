"""The emulated shop's order lifecycle: checkout, fulfillment orders, fulfillments, cancelling.

It follows Shopify's model. At checkout the units of each line move from ``available`` to
``committed`` at the locations that hold them (primary location first), or all at the store
the buyer picks up from; Shopify then opens one *fulfillment order* per location, whose
delivery method is ``SHIPPING`` or ``PICK_UP``. A *fulfillment* is created from open
fulfillment orders of one location: its units leave (``committed`` and so ``on_hand`` go
down) and the fulfillment order closes once nothing remains. Cancelling releases whatever is
still committed, back to ``available`` when restocking, written off otherwise; an order with
successful fulfillments cannot be cancelled. Operations raise
:class:`~omnisdk_shopify.sandbox.state.ShopStateError` for what Shopify refuses.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from omnisdk.models import Phone
from omnisdk_shopify.sandbox.state.records import (
    Fulfillment,
    FulfillmentOrder,
    FulfillmentOrderLine,
    InventoryLevel,
    LineItem,
    Location,
    Order,
    Refund,
    ShopStateError,
    StockShort,
    TrackingInfo,
    Variant,
    gid,
)
from omnisdk_shopify.sandbox.state.shop import ShopState

__all__ = [
    "CANCEL_REASONS",
    "advance_order",
    "cancel_order",
    "check_cancellable",
    "checkout_details",
    "close_order",
    "create_fulfillment",
    "fulfil_everything",
    "order_status",
    "place_order",
    "refund_order",
]

CANCEL_REASONS = frozenset({"customer", "declined", "fraud", "inventory", "other", "staff"})
"""``OrderCancelReason`` values, in REST spelling (``cancel_reason``)."""

_PAID = ("paid", "partially_paid", "partially_refunded")
_DEFAULT_CARRIER = "Giao Hàng Nhanh"


# -- checkout ------------------------------------------------------------------------------


def checkout_details(details: dict[str, Any]) -> dict[str, Any]:
    """A buyer's free-form details the way Shopify's checkout stores them."""
    phone = details.get("phone")
    if phone:
        parsed = Phone.parse(str(phone))
        phone = parsed.e164 or str(phone)
    address = details.get("address") or {}
    name = details.get("name")
    shipping = None
    if address:
        shipping = {
            "name": name,
            "phone": phone,
            "address1": address.get("line1") or address.get("address1"),
            "address2": address.get("ward") or address.get("address2"),
            "city": address.get("district") or address.get("city"),
            "province": address.get("province"),
            "zip": address.get("postal_code") or address.get("zip"),
            "country_code": address.get("country_code", "VN"),
        }
    return {**details, "phone": phone, "address": shipping}


def place_order(
    state: ShopState,
    lines: list[tuple[str, int]],
    customer: dict[str, Any] | None = None,
    *,
    financial_status: str = "paid",
    pickup: Location | None = None,
) -> Order:
    """A buyer checks out: refuse if the listed stock is short, else commit the units.

    Shipped orders take units where they are, primary location first. A pick-up order takes
    every unit at ``pickup`` and is refused when that store holds too few (Shopify offers
    pick-up only where the goods are).
    """
    if pickup is not None and not pickup.active:
        raise ShopStateError(f"location {pickup.name!r} is not active", code="LOCATION_INACTIVE")
    wanted: dict[str, int] = {}
    for sku, quantity in lines:
        wanted[sku] = wanted.get(sku, 0) + quantity
    variants = {sku: state.variant_for_sku(sku) for sku in wanted}
    for sku, quantity in wanted.items():
        variant = variants[sku]
        item = state.inventory_items[variant.inventory_item_id]
        if pickup is None:
            available = state.variant_available(variant)
        else:
            level = item.levels.get(pickup.id)
            available = level.available if level else 0
        if item.tracked and variant.inventory_policy == "deny" and available < quantity:
            raise StockShort(sku, quantity, available, where=pickup.name if pickup else None)
    now = state.now()
    buyer = state.find_or_create_customer(customer) if customer else None
    items: list[LineItem] = []
    for sku, quantity in lines:
        variant = variants[sku]
        product = state.products[variant.product_id]
        for location_id, units in _commit_units(state, variant, quantity, pickup):
            items.append(
                LineItem(
                    id=state.next_id(),
                    variant_id=variant.id,
                    product_id=product.id,
                    sku=sku,
                    title=product.title,
                    variant_title=variant.title,
                    quantity=units,
                    price=variant.price,
                    vendor=product.vendor,
                    location_id=location_id,
                )
            )
    order = Order(
        id=state.next_id(),
        number=state.next_order_number(),
        email=buyer.email if buyer else None,
        phone=buyer.phone if buyer else None,
        customer_id=buyer.id if buyer else None,
        currency=state.shop.currency,
        line_items=_merge_lines(items),
        financial_status=financial_status,
        fulfillment_status=None,
        created_at=now,
        updated_at=now,
        processed_at=now,
        shipping_address=None if pickup else (customer or {}).get("address"),
        pickup_location_id=pickup.id if pickup else None,
        shipping_line_id=state.next_id(),
    )
    _open_fulfillment_orders(state, order)
    state.orders[order.id] = order
    return order


def record_order(
    state: ShopState,
    lines: list[tuple[Variant, int]],
    customer: dict[str, Any] | None,
    *,
    created_at: datetime,
    updated_at: datetime,
) -> Order:
    """An order of the shop's history (a bulk seed): paid, unfulfilled, its units at the
    primary location; it takes no stock (the seeded stock is what is left after it)."""
    buyer = state.find_or_create_customer(customer, at=created_at) if customer else None
    location = state.primary_location.id
    items: list[LineItem] = []
    for variant, quantity in lines:
        product = state.products[variant.product_id]
        items.append(
            LineItem(
                id=state.next_id(),
                variant_id=variant.id,
                product_id=product.id,
                sku=variant.sku,
                title=product.title,
                variant_title=variant.title,
                quantity=quantity,
                price=variant.price,
                vendor=product.vendor,
                location_id=location,
            )
        )
    order = Order(
        id=state.next_id(),
        number=state.next_order_number(),
        email=buyer.email if buyer else None,
        phone=buyer.phone if buyer else None,
        customer_id=buyer.id if buyer else None,
        currency=state.shop.currency,
        line_items=_merge_lines(items),
        financial_status="paid",
        fulfillment_status=None,
        created_at=created_at,
        updated_at=updated_at,
        processed_at=created_at,
        shipping_address=(customer or {}).get("address"),
        pickup_location_id=None,
        shipping_line_id=state.next_id(),
    )
    _open_fulfillment_orders(state, order)
    state.orders[order.id] = order
    return order


def _commit_units(
    state: ShopState, variant: Variant, quantity: int, pickup: Location | None
) -> Iterator[tuple[int, int]]:
    item = state.inventory_items[variant.inventory_item_id]
    if pickup is not None:
        level = state.connect(item, pickup)
        state.change_quantity(level, "available", -quantity)
        state.change_quantity(level, "committed", quantity)
        yield pickup.id, quantity
        return
    primary = state.primary_location.id
    levels = sorted(item.levels.values(), key=lambda lv: lv.location_id != primary)
    remaining = quantity
    for level in levels:
        take = min(max(level.available, 0), remaining)
        if take:
            state.change_quantity(level, "available", -take)
            state.change_quantity(level, "committed", take)
            remaining -= take
            yield level.location_id, take
        if not remaining:
            return
    if remaining:  # an untracked or "continue selling" variant oversells at the primary
        level = state.connect(item, state.primary_location)
        state.change_quantity(level, "available", -remaining)
        state.change_quantity(level, "committed", remaining)
        yield level.location_id, remaining


def _merge_lines(items: list[LineItem]) -> list[LineItem]:
    """One line per (variant, location): a SKU repeated by the buyer is one line on Shopify."""
    merged: dict[tuple[int | None, int | None], LineItem] = {}
    for item in items:
        key = (item.variant_id, item.location_id)
        if key in merged:
            merged[key].quantity += item.quantity
        else:
            merged[key] = item
    return list(merged.values())


def _open_fulfillment_orders(state: ShopState, order: Order) -> None:
    """One fulfillment order per location the order's units were committed at."""
    by_location: dict[int, list[LineItem]] = {}
    for line in order.line_items:
        by_location.setdefault(line.location_id or state.primary_location.id, []).append(line)
    method = "PICK_UP" if order.pickup_location_id is not None else "SHIPPING"
    for location_id, lines in by_location.items():
        order.fulfillment_orders.append(
            FulfillmentOrder(
                id=state.next_id(),
                order_id=order.id,
                location_id=location_id,
                delivery_method=method,
                lines=[
                    FulfillmentOrderLine(
                        id=state.next_id(),
                        line_item_id=line.id,
                        total_quantity=line.quantity,
                        remaining_quantity=line.quantity,
                    )
                    for line in lines
                ],
                created_at=order.created_at,
                updated_at=order.created_at,
            )
        )


# -- fulfilment ----------------------------------------------------------------------------


def _level(
    state: ShopState, order: Order, line_item_id: int, location_id: int
) -> InventoryLevel | None:
    line = order.line_item(line_item_id)
    if line is None or line.variant_id is None or line.variant_id not in state.variants:
        return None
    item = state.inventory_items[state.variants[line.variant_id].inventory_item_id]
    return item.levels.get(location_id)


def create_fulfillment(
    state: ShopState,
    order: Order,
    requests: Sequence[tuple[FulfillmentOrder, Mapping[int, int] | None]],
    *,
    tracking: Sequence[TrackingInfo] = (),
    notify_customer: bool = False,
) -> Fulfillment:
    """Fulfil fulfillment orders of one location (``fulfillmentCreate``).

    Each request is a fulfillment order and the quantity per fulfillment order line id to
    fulfil, or None for everything it still holds. The units leave the location (its
    ``committed`` goes down); a fulfillment order with nothing left closes.
    """
    if not requests:
        raise ShopStateError("Fulfillment must contain at least one fulfillment order.")
    locations = {fulfillment_order.location_id for fulfillment_order, _ in requests}
    if len(locations) > 1:
        raise ShopStateError("All fulfillment orders must be assigned to the same location.")
    planned = _plan_fulfillment(order, requests)
    if not planned:
        raise ShopStateError("Fulfillment must contain at least one line item to fulfill.")
    (location_id,) = locations
    now = state.now()
    for fulfillment_order, line, quantity in planned:
        level = _level(state, order, line.line_item_id, location_id)
        if level is not None:
            state.change_quantity(level, "committed", -quantity)
        line.remaining_quantity -= quantity
        line_item = order.line_item(line.line_item_id)
        if line_item is not None:
            line_item.fulfilled_quantity += quantity
        fulfillment_order.updated_at = now
    for fulfillment_order, _ in requests:
        done = all(line.remaining_quantity == 0 for line in fulfillment_order.lines)
        fulfillment_order.status = "CLOSED" if done else "IN_PROGRESS"
    fulfillment = Fulfillment(
        id=state.next_id(),
        order_id=order.id,
        location_id=location_id,
        name=f"{order.name}-F{len(order.fulfillments) + 1}",
        lines=[(line.line_item_id, quantity) for _, line, quantity in planned],
        tracking=list(tracking),
        created_at=now,
        updated_at=now,
        notify_customer=notify_customer,
    )
    order.fulfillments.append(fulfillment)
    order.fulfillment_status = _fulfilment_status(order)
    order.updated_at = now
    return fulfillment


def _plan_fulfillment(
    order: Order, requests: Sequence[tuple[FulfillmentOrder, Mapping[int, int] | None]]
) -> list[tuple[FulfillmentOrder, FulfillmentOrderLine, int]]:
    """Check every request of :func:`create_fulfillment`; the units each line gives up."""
    planned: list[tuple[FulfillmentOrder, FulfillmentOrderLine, int]] = []
    for fulfillment_order, quantities in requests:
        reference = gid("FulfillmentOrder", fulfillment_order.id)
        if fulfillment_order.order_id != order.id:
            raise ShopStateError("All fulfillment orders must belong to the same order.")
        if not fulfillment_order.fulfillable:
            raise ShopStateError(
                f"Fulfillment order {reference} has an unfulfillable status= "
                f"{fulfillment_order.status.lower()}."
            )
        lines = {line.id: line for line in fulfillment_order.lines}
        chosen = (
            dict(quantities)
            if quantities is not None
            else {line.id: line.remaining_quantity for line in fulfillment_order.lines}
        )
        for line_id, quantity in chosen.items():
            line = lines.get(line_id)
            if line is None:
                raise ShopStateError(
                    f"Fulfillment order line item {gid('FulfillmentOrderLineItem', line_id)} "
                    f"does not belong to fulfillment order {reference}."
                )
            if quantity < 0 or quantity > line.remaining_quantity:
                raise ShopStateError("Invalid fulfillment order line item quantity requested.")
            if quantity:
                planned.append((fulfillment_order, line, quantity))
    return planned


def _fulfilment_status(order: Order) -> str | None:
    ordered = sum(line.quantity for line in order.line_items)
    fulfilled = sum(line.fulfilled_quantity for line in order.line_items)
    if fulfilled == 0:
        return None
    return "fulfilled" if fulfilled >= ordered else "partial"


def fulfil_everything(
    state: ShopState, order: Order, tracking: TrackingInfo | None = None
) -> list[Fulfillment]:
    """Fulfil every open fulfillment order, one fulfillment per location.

    ``tracking`` goes on shipped fulfillments (a buyer collecting in store has none).
    """
    by_location: dict[int, list[FulfillmentOrder]] = {}
    for fulfillment_order in order.fulfillment_orders:
        if fulfillment_order.fulfillable:
            by_location.setdefault(fulfillment_order.location_id, []).append(fulfillment_order)
    done = []
    for group in by_location.values():
        shipped = any(fo.delivery_method != "PICK_UP" for fo in group)
        done.append(
            create_fulfillment(
                state,
                order,
                [(fulfillment_order, None) for fulfillment_order in group],
                tracking=[tracking] if tracking and shipped else [],
            )
        )
    return done


# -- cancelling and closing ----------------------------------------------------------------


def check_cancellable(order: Order) -> None:
    """Raise ShopStateError when Shopify would refuse to cancel ``order``."""
    if order.cancelled_at is not None:
        raise ShopStateError("Order has already been cancelled.", code="ALREADY_CANCELLED")
    if any(fulfillment.status == "SUCCESS" for fulfillment in order.fulfillments):
        raise ShopStateError(
            "Cannot cancel an order that has fulfillments. Cancel the fulfillments first.",
            code="FULFILLED",
        )


def cancel_order(
    state: ShopState,
    order: Order,
    *,
    reason: str = "customer",
    restock: bool = True,
    refund: bool = True,
) -> Order:
    """Cancel an order that has not been fulfilled.

    Units still committed are released at their locations: back to ``available`` when
    ``restock``, otherwise written off (``on_hand`` goes down with them). Authorised or
    pending payments are voided; a paid order is refunded when ``refund``.
    """
    check_cancellable(order)
    if reason not in CANCEL_REASONS:
        raise ShopStateError(f"{reason!r} is not a cancel reason", code="INVALID")
    for fulfillment_order in order.fulfillment_orders:
        if fulfillment_order.status in ("CLOSED", "CANCELLED"):
            continue
        for line in fulfillment_order.lines:
            level = _level(state, order, line.line_item_id, fulfillment_order.location_id)
            if level is not None and line.remaining_quantity:
                state.change_quantity(level, "committed", -line.remaining_quantity)
                if restock:
                    state.change_quantity(level, "available", line.remaining_quantity)
        fulfillment_order.status = "CLOSED"
        fulfillment_order.updated_at = state.now()
    now = state.now()
    order.cancelled_at = now
    order.closed_at = now
    order.cancel_reason = reason
    if order.financial_status not in _PAID:
        order.financial_status = "voided"
    elif refund:
        order.financial_status = "refunded"
    order.updated_at = now
    return order


def refund_order(
    state: ShopState, order: Order, amount: Decimal, *, shipping: Decimal = Decimal(0)
) -> Refund:
    """Give ``amount`` back to the buyer (``shipping`` of it for shipping), as the admin's
    refund does: the order becomes ``partially_refunded``, or ``refunded`` once all it took
    has been given back. Refused beyond what is left to refund, and for an unpaid order."""
    if order.financial_status not in _PAID:
        raise ShopStateError(f"order {order.name} is {order.financial_status}: nothing to refund",
                             code="INVALID")
    given = sum((refund.amount for refund in order.refunds), Decimal(0))
    if not Decimal(0) < amount <= order.total - given or not Decimal(0) <= shipping <= amount:
        raise ShopStateError(
            f"cannot refund {amount} (shipping {shipping}) on {order.name}: "
            f"{order.total - given} is left to refund",
            code="INVALID",
        )
    refund = Refund(id=state.next_id(), created_at=state.now(), amount=amount, shipping=shipping)
    order.refunds.append(refund)
    order.financial_status = "refunded" if given + amount == order.total else "partially_refunded"
    order.updated_at = refund.created_at
    return refund


def close_order(state: ShopState, order: Order) -> Order:
    """Archive (close) an order; closing a closed order changes nothing."""
    if order.closed_at is None:
        order.closed_at = order.updated_at = state.now()
    return order


def advance_order(state: ShopState, order: Order) -> str:
    """Move an order one step along Shopify's flow; return its new status.

    pending -> paid -> fulfilled -> closed. A cancelled or closed order does not move.
    """
    if order.cancelled_at is not None:
        raise ShopStateError(f"order {order.id} is cancelled", code="CANCELLED")
    if order.financial_status in ("pending", "authorized"):
        order.financial_status = "paid"
        order.updated_at = state.now()
        return "paid"
    if any(fulfillment_order.fulfillable for fulfillment_order in order.fulfillment_orders):
        fulfil_everything(state, order, TrackingInfo(_DEFAULT_CARRIER, f"VN{order.number:010d}"))
        return "fulfilled"
    if order.closed_at is None:
        close_order(state, order)
        return "closed"
    raise ShopStateError(f"order {order.id} is closed: nothing left to do", code="CLOSED")


def order_status(order: Order) -> str:
    """One word for where an order stands (the sandbox state's ``status``)."""
    if order.cancelled_at is not None:
        return "cancelled"
    if order.closed_at is not None:
        return "closed"
    if order.fulfillment_status == "fulfilled":
        return "fulfilled"
    return order.financial_status
