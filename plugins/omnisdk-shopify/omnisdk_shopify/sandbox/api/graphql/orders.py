"""GraphQL order writes: ``fulfillmentCreate`` (and its deprecated ``V2``), ``orderCancel``,
``orderClose``, and the ``job``/``fulfillmentOrder`` lookups that go with them.

Business failures are ``userErrors`` and change nothing, as on Shopify. ``orderCancel`` is
asynchronous there: it answers with a job that is not ``done`` yet and the client polls
``job(id:)``. Here the job runs as soon as the answer is sent, so the first poll finds it
done. Each write queues the webhooks Shopify sends for it (``fulfillments/create``,
``orders/fulfilled`` or ``orders/partially_fulfilled``, ``orders/cancelled``,
``orders/updated``, ``inventory_levels/update`` for restocked units).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from omnisdk_shopify.sandbox.api.graphql.context import GraphQLContext, Resolver, context_of
from omnisdk_shopify.sandbox.api.rest_views import (
    fulfillment_json,
    inventory_level_json,
    order_json,
)
from omnisdk_shopify.sandbox.state.order_flow import (
    cancel_order,
    check_cancellable,
    close_order,
    create_fulfillment,
)
from omnisdk_shopify.sandbox.state.records import (
    FulfillmentOrder,
    Job,
    Order,
    ShopStateError,
    TrackingInfo,
    gid,
    gid_kind,
    parse_gid,
)
from omnisdk_shopify.sandbox.state.shop import LevelSnapshot

if TYPE_CHECKING:
    from omnisdk_shopify.sandbox.api.graphql.context import Info

__all__ = ["ORDER_MUTATION_RESOLVERS", "ORDER_QUERY_RESOLVERS", "STAFF_NOTE_LIMIT"]

STAFF_NOTE_LIMIT = 255
"""Longest ``staffNote`` ``orderCancel`` accepts."""


def _order(context: GraphQLContext, value: str) -> Order | None:
    if gid_kind(value) != "Order":
        return None
    found: Order | None = context.state.orders.get(parse_gid(value))
    return found


def _queue_order_events(context: GraphQLContext, order: Order, topics: list[str]) -> None:
    payload = order_json(context.state, order)
    for topic in topics:
        context.events.append((topic, payload))


def _queue_stock_events(context: GraphQLContext, before: LevelSnapshot) -> None:
    state = context.state
    for level in state.changed_levels(before):
        context.events.append(("inventory_levels/update", inventory_level_json(state, level)))


# -- fulfillmentCreate ---------------------------------------------------------------------


def _tracking(data: Mapping[str, Any] | None) -> list[TrackingInfo]:
    """``FulfillmentTrackingInput`` as tracking entries (one per number)."""
    if not data:
        return []
    company = data.get("company")
    numbers = [data["number"]] if data.get("number") else []
    numbers += list(data.get("numbers") or [])
    urls = [data["url"]] if data.get("url") else []
    urls += list(data.get("urls") or [])
    if not numbers:
        return [TrackingInfo(company, None, urls[0] if urls else None)] if company or urls else []
    return [
        TrackingInfo(company, number, urls[index] if index < len(urls) else None)
        for index, number in enumerate(numbers)
    ]


def _user_error(field: list[str], message: str) -> dict[str, Any]:
    return {"field": field, "message": message}


def _fulfillment_create(
    _: Any, info: Info, fulfillment: dict[str, Any], message: str | None = None
) -> dict[str, Any]:
    context = context_of(info)
    state = context.state
    groups = fulfillment["lineItemsByFulfillmentOrder"]
    context.notes.append(("orders.fulfil", len(groups)))
    requests: list[tuple[FulfillmentOrder, dict[int, int] | None]] = []
    errors: list[dict[str, Any]] = []
    for index, group in enumerate(groups):
        where = ["fulfillment", "lineItemsByFulfillmentOrder", str(index)]
        try:
            fulfillment_order = state.fulfillment_order(
                parse_gid(group["fulfillmentOrderId"], "FulfillmentOrder")
            )
        except ValueError:
            fulfillment_order = None
        if fulfillment_order is None:
            errors.append(
                _user_error([*where, "fulfillmentOrderId"], "Fulfillment order does not exist.")
            )
            continue
        quantities: dict[int, int] | None = None
        lines = group.get("fulfillmentOrderLineItems")
        if lines:
            quantities = {}
            for position, line in enumerate(lines):
                try:
                    number = parse_gid(line["id"], "FulfillmentOrderLineItem")
                except ValueError:
                    errors.append(
                        _user_error(
                            [*where, "fulfillmentOrderLineItems", str(position), "id"],
                            f"Invalid id: {line['id']}",
                        )
                    )
                    continue
                quantities[number] = quantities.get(number, 0) + int(line["quantity"])
        requests.append((fulfillment_order, quantities))
    if errors:
        return {"fulfillment": None, "userErrors": errors}
    if not requests:
        message = "Fulfillment must contain at least one fulfillment order."
        return {"fulfillment": None, "userErrors": [_user_error(["fulfillment"], message)]}
    order = state.orders[requests[0][0].order_id]
    try:
        created = create_fulfillment(
            state,
            order,
            requests,
            tracking=_tracking(fulfillment.get("trackingInfo")),
            notify_customer=bool(fulfillment.get("notifyCustomer")),
        )
    except ShopStateError as exc:
        return {"fulfillment": None, "userErrors": [_user_error(["fulfillment"], str(exc))]}
    context.events.append(("fulfillments/create", fulfillment_json(state, order, created)))
    fulfilled = order.fulfillment_status == "fulfilled"
    topic = "orders/fulfilled" if fulfilled else "orders/partially_fulfilled"
    _queue_order_events(context, order, [topic, "orders/updated"])
    return {"fulfillment": created, "userErrors": []}


# -- orderCancel ---------------------------------------------------------------------------


def _cancel_errors(code: str, field: list[str], message: str) -> dict[str, Any]:
    return {
        "job": None,
        "jobResult": None,
        "orderCancelUserErrors": [{"code": code, "field": field, "message": message}],
        "userErrors": [{"field": field, "message": message}],
    }


def _order_cancel(
    _: Any,
    info: Info,
    orderId: str,
    reason: str,
    restock: bool,
    refund: bool | None = None,
    refundMethod: dict[str, Any] | None = None,
    notifyCustomer: bool = False,
    staffNote: str | None = None,
) -> dict[str, Any]:
    context = context_of(info)
    context.notes.append(("orders.cancel", 1))
    state = context.state
    order = _order(context, orderId)
    if order is None:
        return _cancel_errors("NOT_FOUND", ["orderId"], "Order does not exist")
    if staffNote is not None and len(staffNote) > STAFF_NOTE_LIMIT:
        return _cancel_errors(
            "INVALID",
            ["staffNote"],
            f"Staff note is too long (maximum is {STAFF_NOTE_LIMIT} characters)",
        )
    try:
        check_cancellable(order)
    except ShopStateError as exc:
        return _cancel_errors("INVALID", ["orderId"], str(exc))
    if refundMethod is not None:
        refunding = bool(refundMethod.get("originalPaymentMethodsRefund"))
    else:
        refunding = bool(refund)
    before = state.levels_snapshot()
    cancel_order(state, order, reason=reason.lower(), restock=restock, refund=refunding)
    job = Job(id=state.next_id(), kind="OrderCancel", order_id=order.id, created_at=state.now())
    state.jobs[job.id] = job
    _queue_order_events(context, order, ["orders/cancelled", "orders/updated"])
    _queue_stock_events(context, before)
    return {
        # Shopify answers before its background job has run: not done yet.
        "job": dataclasses.replace(job, done=False),
        "jobResult": {
            "id": gid("Job", job.id),
            "done": False,
            "status": "STARTED",
            "errors": [],
            "order": order,
        },
        "orderCancelUserErrors": [],
        "userErrors": [],
    }


# -- orderClose ----------------------------------------------------------------------------


def _order_close(_: Any, info: Info, input: dict[str, Any]) -> dict[str, Any]:
    context = context_of(info)
    order = _order(context, input["id"])
    if order is None:
        return {"order": None, "userErrors": [_user_error(["input", "id"], "Order does not exist")]}
    was_open = order.closed_at is None
    close_order(context.state, order)
    context.notes.append(("orders.close", 1))
    if was_open:
        _queue_order_events(context, order, ["orders/updated"])
    return {"order": order, "userErrors": []}


# -- lookups -------------------------------------------------------------------------------


def _job(_: Any, info: Info, id: str) -> Job | None:
    if gid_kind(id) != "Job":
        return None
    job: Job | None = context_of(info).state.jobs.get(parse_gid(id))
    return job


def _fulfillment_order(_: Any, info: Info, id: str) -> FulfillmentOrder | None:
    if gid_kind(id) != "FulfillmentOrder":
        return None
    return context_of(info).state.fulfillment_order(parse_gid(id))


ORDER_MUTATION_RESOLVERS: dict[str, Resolver] = {
    "fulfillmentCreate": _fulfillment_create,
    "fulfillmentCreateV2": _fulfillment_create,
    "orderCancel": _order_cancel,
    "orderClose": _order_close,
}
"""``Mutation`` fields of the order writes."""

ORDER_QUERY_RESOLVERS: dict[str, Resolver] = {
    "job": _job,
    "fulfillmentOrder": _fulfillment_order,
}
"""``QueryRoot`` fields of the order writes."""
