"""Sandbox handlers of Shopee's shop discount paths (``/api/v2/discount/*``).

``add_discount`` (a name, ``start_time`` and ``end_time`` in unix seconds), ``add_discount_item``
and ``update_discount_item`` (per item: ``model_list`` of ``model_id`` +
``model_promotion_price``, or ``item_promotion_price`` for an item without models; failures
listed per item in ``error_list``), ``delete_discount_item``, ``get_discount``,
``get_discount_list`` (``discount_status`` upcoming / ongoing / expired / all),
``end_discount`` (an ongoing one,
at once) and ``delete_discount`` (an upcoming one). While a discount is ongoing on the sandbox
clock, ``price_info.current_price`` of its models is the promotion price and buyers pay it.

Rules the sandbox enforces. Confirmed against the field docs a client library transcribes
(``add_discount``: the start "must be 1 hour later than current time", the end "1 hour later
than start time", the period under 180 days) and the error codes it lists for them
(``discount.discount_start_time_smaller_than_now``, ``discount.discount_period_too_short``,
``discount.discount_period_too_long``, ``discount.exceed_max_discount_count`` beyond 1000
upcoming and ongoing discounts). Not confirmed [?]: the 150-character name, the item-level
``fail_error`` codes (``discount.error_price``, ``discount.error_item_in_promotion``), and
one running or upcoming discount per model; a promotion price below the original price.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from omnisdk.models import minor_units
from omnisdk.testing.api import route
from omnisdk_shopee.sandbox.api.gateway import (
    ShopeeApi,
    ShopeeApiError,
    int_id,
    int_param,
    json_number,
    param_error,
    shopee_response,
)
from omnisdk_shopee.sandbox.state.catalog import Discount, Item, Offer

if TYPE_CHECKING:
    pass

__all__ = ["LEAD_TIME", "MAX_DISCOUNT_DAYS", "DiscountsApi"]

LEAD_TIME = 3600
"""Seconds a discount's start must be ahead of now."""
MIN_LENGTH = 3600
"""Seconds a discount must last at least."""
MAX_DISCOUNT_DAYS = 180
"""Days a discount may last at most."""
MAX_DISCOUNTS = 1000
"""Upcoming and ongoing discounts a shop may hold at once."""
_STATUSES = ("upcoming", "ongoing", "expired", "all")


class DiscountsApi(ShopeeApi):
    """Shopee's shop discount endpoints, served for one sandbox."""

    @route("POST", "/api/v2/discount/add_discount")
    def add_discount(self, request: Request, body: dict[str, Any]) -> Response:
        """Create a discount (no items yet); answers its ``discount_id``."""
        self.sandbox.note_operation(request, "promotion.write")
        name = str(body.get("discount_name") or "").strip()
        if not name:
            raise param_error("discount_name is required.")
        if len(name) > 150:
            raise param_error("discount_name is longer than 150 characters.")
        start, end = _time(body, "start_time"), _time(body, "end_time")
        now = self.sandbox.now()
        if start < now + LEAD_TIME:
            raise ShopeeApiError(
                "discount.discount_start_time_smaller_than_now",
                "Start time must be at least 1 hour later than the current time.",
            )
        if end < start + MIN_LENGTH:
            raise ShopeeApiError(
                "discount.discount_period_too_short",
                "End time must be at least 1 hour after start time.",
            )
        if end - start > MAX_DISCOUNT_DAYS * 86400:
            raise ShopeeApiError(
                "discount.discount_period_too_long",
                f"The discount period cannot exceed {MAX_DISCOUNT_DAYS} days.",
            )
        held = [
            d
            for d in self.sandbox.catalog.discounts.values()
            if not d.deleted and d.status(now) in ("upcoming", "ongoing")
        ]
        if len(held) >= MAX_DISCOUNTS:
            raise ShopeeApiError(
                "discount.exceed_max_discount_count",
                f"A shop holds at most {MAX_DISCOUNTS} upcoming and ongoing discounts.",
            )
        discount = Discount(self.sandbox.new_discount_id(), name, start, end)
        self.sandbox.catalog.discounts[discount.discount_id] = discount
        return shopee_response(self.sandbox.request_id(), {"discount_id": discount.discount_id})

    @route("POST", "/api/v2/discount/add_discount_item")
    def add_discount_item(self, request: Request, body: dict[str, Any]) -> Response:
        """Put items (their models) in a discount at their promotion prices."""
        return self._items(request, body, update=False)

    @route("POST", "/api/v2/discount/update_discount_item")
    def update_discount_item(self, request: Request, body: dict[str, Any]) -> Response:
        """Change the promotion price of items already in a discount."""
        return self._items(request, body, update=True)

    def _items(self, request: Request, body: dict[str, Any], *, update: bool) -> Response:
        discount = self._discount(body.get("discount_id"))
        entries = body.get("item_list")
        if not isinstance(entries, list) or not 1 <= len(entries) <= 1000:
            raise param_error("item_list size should be in [1, 1000].")
        self.sandbox.note_operation(request, "promotion.write", items=len(entries))
        now = self.sandbox.now()
        if discount.status(now) == "expired":
            raise ShopeeApiError("discount.error_status", "The discount has ended.")
        errors: list[dict[str, Any]] = []
        count = 0
        for entry in entries:
            if not isinstance(entry, dict):
                raise param_error("every item_list entry must be an object.")
            item_id = int_id(entry.get("item_id"))
            item = self.sandbox.catalog.items.get(item_id)
            if item is None:
                errors.append(_error(item_id, 0, "error_item_not_found", "Item not found."))
                continue
            for model_id, raw in _prices(entry, item):
                problem = self._offer_problem(discount, item, model_id, raw, update=update)
                if problem is not None:
                    errors.append(_error(item_id, model_id, *problem))
                    continue
                price = Decimal(str(raw))
                discount.items[(item_id, model_id)] = price
                offer = next(
                    (o for o in item.offers if o.discount is discount and o.model_id == model_id),
                    None,
                )
                if offer is None:
                    item.offers.append(Offer(model_id, price, discount))
                else:
                    offer.price = price
                count += 1
        return shopee_response(
            self.sandbox.request_id(),
            {"discount_id": discount.discount_id, "count": count, "error_list": errors},
        )

    def _offer_problem(
        self, discount: Discount, item: Item, model_id: int, raw: Any, *, update: bool
    ) -> tuple[str, str] | None:
        if item.has_model and item.model(model_id) is None:
            return "error_model_not_found", f"model_id {model_id} is not a model of the item."
        if not item.has_model and model_id != 0:
            return "error_param", "the item has no models: give item_promotion_price."
        model = item.model(model_id)
        original = model.price if model is not None else item.price
        try:
            price = Decimal(str(raw))
        except ArithmeticError:
            return "error_param", "the promotion price must be a number."
        quantum = Decimal(1).scaleb(-minor_units(item.currency))
        if not price.is_finite() or price <= 0 or price != price.quantize(quantum):
            return "error_param", f"the promotion price must be a positive {item.currency} price."
        if price >= original:
            return (
                "discount.error_price",
                "The promotion price must be lower than the original price.",
            )
        known = (item.item_id, model_id) in discount.items
        if update and not known:
            return "discount.error_item_not_exist", "The item is not in this discount."
        if not update and not known:
            now = self.sandbox.now()
            for other in item.offers:
                if (
                    other.model_id == model_id
                    and other.discount is not discount
                    and other.discount.status(now) != "expired"
                    and other.discount.start < discount.end
                    and discount.start < other.discount.end
                ):
                    return (
                        "discount.error_item_in_promotion",
                        f"The item is already in discount {other.discount.discount_id}.",
                    )
        return None

    @route("GET", "/api/v2/discount/get_discount")
    def get_discount(self, request: Request, body: dict[str, Any]) -> Response:
        """One discount with its items (one page of them)."""
        discount = self._discount(int_param(request, "discount_id", required=True))
        now = self.sandbox.now()
        items: dict[int, list[dict[str, Any]]] = {}
        for (item_id, model_id), price in sorted(discount.items.items()):
            items.setdefault(item_id, []).append(
                {"model_id": model_id, "model_promotion_price": json_number(price)}
            )
        return shopee_response(
            self.sandbox.request_id(),
            {
                **_summary(discount, now),
                "item_list": [
                    {"item_id": item_id, "model_list": models}
                    for item_id, models in items.items()
                ],
                "more": False,
            },
        )

    @route("GET", "/api/v2/discount/get_discount_list")
    def get_discount_list(self, request: Request, body: dict[str, Any]) -> Response:
        """The shop's discounts of one status, newest first, paged by ``page_no``."""
        status = str(request.query_params.get("discount_status") or "")
        if status not in _STATUSES:
            raise param_error(f"discount_status must be one of {', '.join(_STATUSES)}.")
        page = int_param(request, "page_no", required=False) or 1
        size = int_param(request, "page_size", required=False) or 100
        if not 1 <= size <= 100 or page < 1:
            raise param_error("page_size should be in [1, 100] and page_no at least 1.")
        now = self.sandbox.now()
        chosen = [
            d
            for d in sorted(self.sandbox.catalog.discounts.values(), key=lambda d: -d.discount_id)
            if not d.deleted and (status == "all" or d.status(now) == status)
        ]
        window = chosen[(page - 1) * size : page * size]
        return shopee_response(
            self.sandbox.request_id(),
            {
                "discount_list": [_summary(d, now) for d in window],
                "more": page * size < len(chosen),
            },
        )

    @route("POST", "/api/v2/discount/delete_discount_item")
    def delete_discount_item(self, request: Request, body: dict[str, Any]) -> Response:
        """Take one item (or one of its models, ``model_id``) out of a discount."""
        self.sandbox.note_operation(request, "promotion.write")
        discount = self._discount(body.get("discount_id"))
        item_id = int_id(body.get("item_id"))
        model_id = int_id(body.get("model_id") or 0)
        if discount.status(self.sandbox.now()) == "expired":
            raise ShopeeApiError("discount.error_status", "The discount has ended.")
        taken = [key for key in discount.items if key[0] == item_id and key[1] == model_id]
        errors = (
            []
            if taken
            else [_error(item_id, model_id, "discount.error_item_not_exist", "Not in it.")]
        )
        for key in taken:
            del discount.items[key]
        item = self.sandbox.catalog.items.get(item_id)
        if item is not None:
            item.offers = [
                o for o in item.offers if not (o.discount is discount and o.model_id == model_id)
            ]
        return shopee_response(
            self.sandbox.request_id(),
            {"discount_id": discount.discount_id, "error_list": errors},
        )

    @route("POST", "/api/v2/discount/end_discount")
    def end_discount(self, request: Request, body: dict[str, Any]) -> Response:
        """End an ongoing discount now."""
        self.sandbox.note_operation(request, "promotion.write")
        discount = self._discount(body.get("discount_id"))
        now = self.sandbox.now()
        if discount.status(now) != "ongoing":
            raise ShopeeApiError(
                "discount.error_status", "Only an ongoing discount can be ended."
            )
        discount.ended_at = now
        return shopee_response(
            self.sandbox.request_id(),
            {"discount_id": discount.discount_id, "modify_time": now},
        )

    @route("POST", "/api/v2/discount/delete_discount")
    def delete_discount(self, request: Request, body: dict[str, Any]) -> Response:
        """Delete an upcoming discount."""
        self.sandbox.note_operation(request, "promotion.write")
        discount = self._discount(body.get("discount_id"))
        now = self.sandbox.now()
        if discount.status(now) != "upcoming":
            raise ShopeeApiError(
                "discount.error_status", "Only an upcoming discount can be deleted."
            )
        discount.deleted = True
        return shopee_response(
            self.sandbox.request_id(),
            {"discount_id": discount.discount_id, "modify_time": now},
        )

    def _discount(self, raw: Any) -> Discount:
        discount = self.sandbox.catalog.discounts.get(int_id(raw))
        if discount is None or discount.deleted:
            raise ShopeeApiError("discount.error_not_found", "Discount not found.")
        return discount


def _summary(discount: Discount, now: int) -> dict[str, Any]:
    return {
        "discount_id": discount.discount_id,
        "discount_name": discount.name,
        "status": discount.status(now),
        "start_time": discount.start,
        "end_time": discount.end
        if discount.ended_at is None
        else min(discount.end, discount.ended_at),
        "source": 0,
    }


def _prices(entry: dict[str, Any], item: Item) -> list[tuple[int, Any]]:
    models = entry.get("model_list")
    if isinstance(models, list) and models:
        return [
            (int_id(m.get("model_id")), m.get("model_promotion_price"))
            for m in models
            if isinstance(m, dict)
        ]
    return [(0, entry.get("item_promotion_price"))]


def _error(item_id: int, model_id: int, code: str, message: str) -> dict[str, Any]:
    return {"item_id": item_id, "model_id": model_id, "fail_error": code, "fail_message": message}


def _time(body: dict[str, Any], name: str) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise param_error(f"{name} must be a unix timestamp in seconds.")
    return value
