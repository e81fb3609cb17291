"""How an order lives in the sandbox seller: a buyer checks out (one item per unit), items move
along Lazada's status flow, are cancelled or returned one by one, and stock follows.

Stock (see :mod:`~omnisdk_lazada.sandbox.state.catalog`): an unpaid unit is *withheld*, a paid
(or cash-on-delivery) unit is *occupied* until it is ready to ship, when it leaves the total;
cancelling before that releases it to sellable again. A returned unit does not go back on sale
by itself (the seller restocks it).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from omnisdk.testing.sandbox import (
    BuyerOrder,
    OutOfStock,
    SandboxError,
    SeedOrder,
    UnknownObject,
)
from omnisdk_lazada.sandbox.state.catalog import Catalog, Item, Sku
from omnisdk_lazada.sandbox.state.orders import (
    CANCELLABLE,
    HOLDS_OCCUPY,
    HOLDS_WITHHOLD,
    NEXT_STATUS,
    OrderItem,
    SandboxOrder,
)

__all__ = ["DEFAULT_CUSTOMER", "OrderFlow"]

DEFAULT_CUSTOMER: dict[str, Any] = {
    "name": "Nguyễn Thị Lan",
    "phone": "0987 654 321",
    "payment": "COD",
    "address": {
        "line1": "12 Lê Lợi",
        "ward": "Phường Bến Nghé",
        "district": "Quận 1",
        "province": "Hồ Chí Minh",
    },
}
"""The buyer of an order placed without customer details (cash on delivery)."""


class OrderFlow:
    """Orders of one sandbox seller and the stock moves their items cause."""

    def __init__(self, catalog: Catalog, *, first_order_id: int = 303_147_148) -> None:
        self.catalog = catalog
        self.orders: dict[str, SandboxOrder] = {}
        self._order_ids: Iterator[int] = itertools.count(first_order_id, 17)
        self._item_ids: Iterator[int] = itertools.count(4_560_001)

    def check_out(self, order: BuyerOrder, *, when: datetime, currency: str) -> SandboxOrder:
        """The buyer's ``order`` at ``when``: one item per unit, stock held (all or nothing)."""
        wanted: dict[str, int] = {}
        for line in order.lines:
            wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity
        located: dict[str, tuple[Item, Sku]] = {}
        for seller_sku, quantity in wanted.items():
            found = self.catalog.find(seller_sku)
            if found is None:
                raise UnknownObject("SKU", seller_sku)
            if found[1].sellable < quantity:
                raise OutOfStock(seller_sku, available=found[1].sellable, requested=quantity)
            located[seller_sku] = found
        customer = order.customer or DEFAULT_CUSTOMER
        cod = str(customer.get("payment", "COD")).upper() == "COD"
        first = "pending" if cod else "unpaid"
        stamp = when.timestamp()
        items: list[OrderItem] = []
        for line in order.lines:
            item, sku = located[line.sku]
            for _ in range(line.quantity):
                items.append(
                    OrderItem(
                        order_item_id=next(self._item_ids),
                        item_id=item.item_id,
                        sku_id=sku.sku_id,
                        seller_sku=sku.seller_sku,
                        name=item.name,
                        variation=", ".join(f"{k}:{v}" for k, v in sku.sale_prop.items()),
                        price=sku.selling_price(when),
                        status=first,
                        created=stamp,
                        updated=stamp,
                    )
                )
                _hold(sku, first, +1)
            item.updated = max(item.updated, stamp)
        placed = SandboxOrder(
            order_id=next(self._order_ids),
            currency=currency,
            created=stamp,
            items=items,
            customer=dict(customer),
            payment_method="COD" if cod else "MIXEDCARD",
            remarks=str(customer.get("note") or ""),
            history=[(i.order_item_id, first, stamp) for i in items],
        )
        self.orders[str(placed.order_id)] = placed
        return placed

    def record(self, order: SeedOrder, *, now: datetime, currency: str) -> SandboxOrder:
        """An order of the seller's history: its units ``pending`` since ``created_at``
        (changed at ``updated_at``), no stock held or taken, nothing checked but the SKUs."""
        created = (order.created_at or now).timestamp()
        updated = (order.updated_at or order.created_at or now).timestamp()
        customer = dict(order.customer or DEFAULT_CUSTOMER)
        items: list[OrderItem] = []
        for line in order.lines:
            item, sku = self.catalog.locate(line.sku)
            for _ in range(line.quantity):
                items.append(
                    OrderItem(
                        order_item_id=next(self._item_ids),
                        item_id=item.item_id,
                        sku_id=sku.sku_id,
                        seller_sku=sku.seller_sku,
                        name=item.name,
                        variation=", ".join(f"{k}:{v}" for k, v in sku.sale_prop.items()),
                        price=sku.selling_price(order.created_at or now),
                        status="pending",
                        created=created,
                        updated=updated,
                    )
                )
        recorded = SandboxOrder(
            order_id=next(self._order_ids),
            currency=currency,
            created=created,
            items=items,
            customer=customer,
            payment_method="COD",
            history=[(i.order_item_id, "pending", created) for i in items],
        )
        self.orders[str(recorded.order_id)] = recorded
        return recorded

    def get(self, order_id: str) -> SandboxOrder:
        """The order ``order_id``; :class:`UnknownObject` if none."""
        found = self.orders.get(str(order_id))
        if found is None:
            raise UnknownObject("order", str(order_id))
        return found

    def move(self, order: SandboxOrder, item: OrderItem, status: str, now: float) -> None:
        """Set one item's status, moving its stock (hold released, or the unit gone)."""
        found = self.catalog.by_ids(item.item_id, item.sku_id)
        if found is not None:
            sku = found[1]
            _hold(sku, item.status, -1)
            _hold(sku, status, +1)
            if status in ("ready_to_ship", "shipped") and item.status in HOLDS_OCCUPY:
                sku.total -= 1
        item.status = status
        item.updated = max(now, item.updated + 1)
        order.updated = max(order.updated, item.updated)
        order.history.append((item.order_item_id, status, item.updated))

    def advance(self, order: SandboxOrder, now: float) -> list[OrderItem]:
        """Every live item one step on (unpaid -> pending -> packed -> ready_to_ship ->
        shipped -> delivered); returns the items moved."""
        moved = [item for item in order.items if item.status in NEXT_STATUS]
        if not moved:
            raise SandboxError(
                f"order {order.order_id} has no item that can move on", statuses=order.statuses
            )
        for item in moved:
            following = NEXT_STATUS[item.status]
            self.move(order, item, following, now)
            if following == "ready_to_ship":
                item.tracking_code = f"LZVN{item.order_item_id:010d}"
        return moved

    def cancel(
        self, order: SandboxOrder, now: float, *, item_ids: list[int] | None = None
    ) -> list[OrderItem]:
        """Cancel the order's cancellable items (or those of ``item_ids``)."""
        chosen = [
            item
            for item in order.items
            if (item_ids is None or item.order_item_id in item_ids) and item.status in CANCELLABLE
        ]
        if not chosen:
            raise SandboxError(
                f"order {order.order_id} has no item that can be cancelled",
                statuses=order.statuses,
            )
        for item in chosen:
            item.reason = "Thay đổi ý định"
            self.move(order, item, "canceled", now)
        return chosen

    def return_items(self, order: SandboxOrder, item_ids: list[int], now: float) -> list[OrderItem]:
        """Items that came back after delivery (or a failed delivery) are ``returned``."""
        chosen = [
            i
            for i in order.items
            if i.order_item_id in item_ids and i.status in ("shipped", "delivered")
        ]
        if not chosen:
            raise SandboxError(f"order {order.order_id}: nothing shipped to return")
        for item in chosen:
            self.move(order, item, "returned", now)
        return chosen


def _hold(sku: Sku, status: str, sign: int) -> None:
    if status in HOLDS_WITHHOLD:
        sku.withhold += sign
    elif status in HOLDS_OCCUPY:
        sku.occupy += sign
