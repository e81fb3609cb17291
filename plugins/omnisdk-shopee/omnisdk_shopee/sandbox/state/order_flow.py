"""How an order lives in the sandbox shop: a buyer checks out, it moves along Shopee's status
flow, or it is cancelled and its stock goes back on sale.

The functions change the catalog and the orders; the sandbox app sends the pushes
(code 3 for every status change, code 4 once a parcel has a tracking number).
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from omnisdk.testing.sandbox import (
    BuyerOrder,
    OutOfStock,
    SandboxError,
    SeedOrder,
    UnknownObject,
)
from omnisdk_shopee.sandbox.state.catalog import Catalog, Item, Model
from omnisdk_shopee.sandbox.state.orders import (
    CANCELLABLE,
    NEXT_STATUS,
    OrderLine,
    SandboxOrder,
    order_sn,
)

__all__ = ["DEFAULT_CUSTOMER", "advance", "cancel", "check_out", "record", "ship"]

DEFAULT_CUSTOMER: dict[str, Any] = {
    "name": "Trần Thị Mai",
    "phone": "0987 654 321",
    "address": {
        "line1": "45 Nguyễn Huệ",
        "ward": "Phường Bến Nghé",
        "district": "Quận 1",
        "province": "TP. Hồ Chí Minh",
    },
}
"""The buyer of an order placed without customer details."""


def check_out(
    catalog: Catalog,
    orders: dict[str, SandboxOrder],
    order: BuyerOrder,
    *,
    when: datetime,
    ids: random.Random,
    currency: str,
    region: str,
) -> SandboxOrder:
    """The buyer's ``order`` placed at ``when``: stock taken, the order added to ``orders``.

    Raises :class:`UnknownObject` for a SKU nobody lists and :class:`OutOfStock` when the
    listed stock is short (nothing is taken then).
    """
    located = _locate(catalog, order)
    stamp = int(when.timestamp())
    lines = [
        _take_line(*located[line.sku], sku=line.sku, quantity=line.quantity, stamp=stamp)
        for line in order.lines
    ]
    customer = order.customer or DEFAULT_CUSTOMER
    cod = str(customer.get("payment", "")).lower() == "cod"
    username = customer.get("username") or f"buyer{ids.randrange(10**6):06d}"
    number = order_sn(ids, when)
    while number in orders:
        number = order_sn(ids, when)
    status = "READY_TO_SHIP" if cod else "UNPAID"
    placed = SandboxOrder(
        order_sn=number,
        status=status,
        currency=currency,
        create_time=stamp,
        update_time=stamp,
        lines=lines,
        buyer_user_id=int(
            customer.get("buyer_user_id") or 100_000_000 + ids.randrange(900_000_000)
        ),
        buyer_username=str(username),
        recipient=_recipient(customer),
        region=region,
        cod=cod,
        note=str(customer.get("note") or ""),
        history=[(status, stamp)],
    )
    orders[number] = placed
    return placed


def record(
    catalog: Catalog,
    orders: dict[str, SandboxOrder],
    seed: SeedOrder,
    *,
    created: datetime,
    updated: datetime,
    buyer: tuple[int, str],
    ids: random.Random,
    currency: str,
    region: str,
) -> SandboxOrder:
    """An order of the shop's history (a bulk seed), paid and waiting to ship since
    ``created``: no stock taken (the seeded stock is what is left after it), nothing refused
    but an unknown SKU. ``buyer`` is the buyer's ``(user id, username)``."""
    create, update = int(created.timestamp()), int(updated.timestamp())
    lines = []
    for line in seed.lines:
        item, model = catalog.locate(line.sku)
        lines.append(_line(item, model, sku=line.sku, quantity=line.quantity))
    customer = seed.customer or DEFAULT_CUSTOMER
    cod = str(customer.get("payment", "")).lower() == "cod"
    number = order_sn(ids, created)
    while number in orders:
        number = order_sn(ids, created)
    placed = SandboxOrder(
        order_sn=number,
        status="READY_TO_SHIP",
        currency=currency,
        create_time=create,
        update_time=update,
        lines=lines,
        buyer_user_id=buyer[0],
        buyer_username=buyer[1],
        recipient=_recipient(customer),
        region=region,
        cod=cod,
        pay_time=None if cod else create,
        note=str(customer.get("note") or ""),
        history=[("UNPAID", create), ("READY_TO_SHIP", update)]
        if not cod
        else [("READY_TO_SHIP", create)],
    )
    orders[number] = placed
    return placed


def cancel(catalog: Catalog, order: SandboxOrder, *, now: int, location: str) -> None:
    """The buyer cancels ``order``: its units go back on sale (at ``location`` when the
    listing has no stock row), the order becomes CANCELLED."""
    if order.status not in CANCELLABLE:
        raise SandboxError(
            f"order {order.order_sn} is {order.status} and cannot be cancelled",
            status=order.status,
        )
    for line in order.lines:
        found = catalog.find(line.sku)
        if found is not None:
            stock = Catalog.stock_of(*found)
            first = next(iter(stock), location)
            stock[first] = stock.get(first, 0) + line.quantity
    order.cancel_by = "buyer"
    order.cancel_reason = "Đổi ý, không muốn mua nữa"
    _move(order, "CANCELLED", now)


def advance(order: SandboxOrder, *, now: int) -> str:
    """One step along UNPAID -> READY_TO_SHIP -> PROCESSED -> SHIPPED -> ... COMPLETED.

    Payment is recorded when a prepaid order is ready to ship (a COD order when it is
    completed); a PROCESSED order gets its package and tracking numbers.
    """
    following = NEXT_STATUS.get(order.status)
    if following is None:
        raise SandboxError(
            f"order {order.order_sn} is {order.status}: nothing comes next", status=order.status
        )
    _move(order, following, now)
    if following == "READY_TO_SHIP" and not order.cod:
        order.pay_time = order.update_time
    if following == "COMPLETED" and order.cod:
        order.pay_time = order.update_time
    return following


def ship(order: SandboxOrder, ids: random.Random) -> None:
    """Give a PROCESSED order its package and tracking numbers."""
    order.package_number = f"OFG{ids.randrange(10**15):015d}"
    order.tracking_number = f"SPXVN{ids.randrange(10**11):011d}"


def _locate(catalog: Catalog, order: BuyerOrder) -> dict[str, tuple[Item, Model | None]]:
    wanted: dict[str, int] = {}
    for line in order.lines:
        wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity
    located = {}
    for sku, quantity in wanted.items():
        found = catalog.find(sku)
        if found is None:
            raise UnknownObject("SKU", sku)
        listed = sum(Catalog.stock_of(*found).values())
        if listed < quantity:
            raise OutOfStock(sku, available=listed, requested=quantity)
        located[sku] = found
    return located


def _take_line(
    item: Item, model: Model | None, *, sku: str, quantity: int, stamp: int
) -> OrderLine:
    _take(Catalog.stock_of(item, model), quantity)
    item.updated = max(item.updated, stamp)
    return _line(item, model, sku=sku, quantity=quantity, now=stamp)


def _line(
    item: Item, model: Model | None, *, sku: str, quantity: int, now: int | None = None
) -> OrderLine:
    """One order line; bought at ``now``, a running discount's price is paid."""
    option_names = [item.tiers[i][1][j] for i, j in enumerate(model.tier_index)] if model else []
    return OrderLine(
        item_id=item.item_id,
        model_id=model.model_id if model else 0,
        sku=sku,
        item_name=item.name,
        model_name=",".join(option_names),
        quantity=quantity,
        price=(
            item.current_price(model.model_id if model else 0, now)
            if now is not None
            else (model.price if model else item.price)
        ),
        has_model=model is not None,
    )


def _move(order: SandboxOrder, status: str, now: int) -> None:
    stamp = max(now, order.update_time + 1)
    order.status = status
    order.update_time = stamp
    order.history.append((status, stamp))


def _take(stock: dict[str, int], quantity: int) -> None:
    for location in list(stock):
        taken = min(stock[location], quantity)
        stock[location] -= taken
        quantity -= taken
        if not quantity:
            return


def _recipient(customer: dict[str, Any]) -> dict[str, str]:
    address = customer.get("address") or {}
    if isinstance(address, str):
        address = {"line1": address}
    parts = [address.get(key, "") for key in ("line1", "ward", "district", "province")]
    return {
        "name": str(customer.get("name") or ""),
        "phone": str(customer.get("phone") or ""),
        "full_address": ", ".join(part for part in parts if part),
        "town": str(address.get("ward") or ""),
        "district": str(address.get("district") or ""),
        "city": str(address.get("city") or address.get("province") or ""),
        "state": str(address.get("province") or ""),
    }
