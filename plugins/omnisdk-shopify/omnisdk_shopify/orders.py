"""Order writes: move a Shopify order along as the engine asks (``Channel.update_order``).

What Shopify can be told, and how (GraphQL Admin API):

``shipped``
    ``fulfillmentCreate`` over the order's open fulfillment orders (``OPEN`` or
    ``IN_PROGRESS``), one call per assigned location (Shopify takes fulfillment orders of one
    location per fulfillment), with ``trackingInfo {number, company}``. With
    ``OrderUpdate.location`` only the fulfillment orders of that location are fulfilled
    (a pick-up order's store). For a pick-up order this records the buyer collecting it.
``cancelled``
    ``orderCancel`` with reason ``OTHER``, the update's note as staff note, restock and
    refund as the settings say. Shopify cancels in a background job: the job is polled until
    done and the order read back to confirm.
``completed``
    ``orderClose`` (archive) of a fulfilled order.

Any other status has no Shopify write and fails with ``UNSUPPORTED_TRANSITION``. A write
already true on Shopify (a cancelled order cancelled again, a fulfilled order shipped again
with the same or no tracking number) succeeds without calling it again, so retries are
harmless. The three mutations are never repeated blind (``retry=False``): when one goes
unanswered (a time-out, a lost connection) the order is read back, and the write succeeds if
it took effect, else fails retryably, to be read again before the next attempt.
Shopify's ``userErrors`` become failed results carrying Shopify's code and message; no order
write raises except for lost authorisation.

Beyond the plugin shape: order writes are a subject of their own, too long to sit in
channel.py.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from omnisdk.channel import OrderUpdate, WriteResult
from omnisdk.errors import ChannelError, PlatformUnavailable, ReauthorisationRequired
from omnisdk.http import Lane
from omnisdk.models import OrderStatus
from omnisdk_shopify import queries
from omnisdk_shopify.client import ShopifyClient
from omnisdk_shopify.locations import LocationCodes, legacy_id
from omnisdk_shopify.settings import ShopifySettings

__all__ = ["FULFILLABLE", "UNSUPPORTED", "OrderWriter"]

logger = logging.getLogger("omnisdk_shopify.orders")

FULFILLABLE = frozenset({"OPEN", "IN_PROGRESS"})
"""Fulfillment order statuses a fulfillment can be created from."""
_WAITING = frozenset({"ON_HOLD", "SCHEDULED", "INCOMPLETE"})
_STAFF_NOTE_LIMIT = 255

UNSUPPORTED: dict[OrderStatus, str] = {
    OrderStatus.PENDING: "Shopify orders cannot be moved back to pending",
    OrderStatus.CONFIRMED: "Shopify confirms an order when it is paid; an app cannot set it",
    OrderStatus.READY_TO_SHIP: (
        "Shopify has no packed/ready status an app sets on an order; ship it instead"
    ),
    OrderStatus.DELIVERED: (
        "Shopify learns of delivery from the carrier's tracking events, not from the app"
    ),
    OrderStatus.RETURNED: (
        "returns go through Shopify's returns and refunds, which omnisdk-shopify does not drive"
    ),
}
"""Statuses Shopify has no order write for, and why."""

LocationResolver = Callable[[str], Awaitable[str | None]]
"""Turns a merchant location code into a Shopify numeric location id (None: unknown)."""


def _messages(errors: Sequence[Mapping[str, Any]]) -> str:
    return "; ".join(str(error.get("message")) for error in errors) or "refused"


class OrderWriter:
    """Carries out :class:`~omnisdk.channel.OrderUpdate` s on one shop (module docstring)."""

    def __init__(
        self,
        client: ShopifyClient,
        settings: ShopifySettings,
        locations: LocationCodes,
        resolve_location: LocationResolver,
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self.client = client
        self.settings = settings
        self.locations = locations
        self._resolve_location = resolve_location
        self._sleep = sleep

    async def update(self, update: OrderUpdate) -> WriteResult:
        """Apply ``update``; one result, never an exception (but lost authorisation)."""
        key = update.external_id
        if update.status in UNSUPPORTED:
            return WriteResult.failure(
                key,
                f"cannot move Shopify order {key} to {update.status.value}: "
                f"{UNSUPPORTED[update.status]}",
                code="UNSUPPORTED_TRANSITION",
            )
        order_id = _order_gid(key)
        try:
            order = await self._read(order_id)
            if order is None:
                return WriteResult.failure(
                    key, f"Shopify has no order {order_id}", code="NOT_FOUND"
                )
            try:
                if update.status is OrderStatus.CANCELLED:
                    return await self._cancel(key, order, update)
                if update.status is OrderStatus.COMPLETED:
                    return await self._close(key, order)
                return await self._ship(key, order, update)
            except PlatformUnavailable as exc:
                # A mutation went unanswered and may have acted: look, never repeat it blind.
                return await self._after_lost_answer(key, order_id, update, exc)
        except ReauthorisationRequired:
            raise
        except ChannelError as exc:
            logger.warning("shopify: updating order %s to %s failed: %s", key, update.status, exc)
            return WriteResult.failure(key, exc)

    async def _after_lost_answer(
        self, key: str, order_id: str, update: OrderUpdate, lost: PlatformUnavailable
    ) -> WriteResult:
        """Read the order back after an unanswered mutation: success when the write took,
        else a retryable failure (the next attempt reads the order before acting again)."""
        after = await self._read(order_id)
        if after is not None and await self._reached(key, after, update):
            logger.info(
                "shopify: order %s: the %s write went unanswered (%s) but took effect",
                key,
                update.status.value,
                type(lost).__name__,
            )
            return WriteResult.success(key)
        return WriteResult.failure(key, lost)

    async def _reached(self, key: str, order: dict[str, Any], update: OrderUpdate) -> bool:
        if update.status is OrderStatus.CANCELLED:
            return bool(order.get("cancelledAt"))
        if update.status is OrderStatus.COMPLETED:
            return bool(order.get("closed"))
        nodes: list[dict[str, Any]] = order["fulfillmentOrders"]["nodes"]
        if update.location:
            location_id = await self._resolve_location(update.location)
            nodes = [fo for fo in nodes if _location_of(fo) == location_id]
        if any(fo["status"] in FULFILLABLE for fo in nodes):
            return False
        return self._nothing_to_fulfil(key, order, nodes, update).ok

    async def _read(self, order_id: str) -> dict[str, Any] | None:
        data = await self.client.graphql(
            queries.ORDER_FOR_UPDATE, {"id": order_id}, lane=Lane.ORDERS
        )
        order: dict[str, Any] | None = data.get("order")
        return order

    # -- shipping ------------------------------------------------------------------------

    async def _ship(self, key: str, order: dict[str, Any], update: OrderUpdate) -> WriteResult:
        if order.get("cancelledAt"):
            return WriteResult.failure(
                key, f"order {order['name']} is cancelled on Shopify", code="ORDER_CANCELLED"
            )
        nodes: list[dict[str, Any]] = order["fulfillmentOrders"]["nodes"]
        candidates = [fo for fo in nodes if fo["status"] in FULFILLABLE]
        if update.location:
            location_id = await self._resolve_location(update.location)
            if location_id is None:
                return WriteResult.failure(
                    key,
                    f"location {update.location!r} is not a location of this Shopify shop",
                    code="UNKNOWN_LOCATION",
                )
            candidates = [fo for fo in candidates if _location_of(fo) == location_id]
            nodes = [fo for fo in nodes if _location_of(fo) == location_id]
        if not candidates:
            return self._nothing_to_fulfil(key, order, nodes, update)
        groups: dict[str, list[dict[str, Any]]] = {}
        for fo in candidates:
            groups.setdefault(_location_of(fo), []).append(fo)
        created: list[str] = []
        for location_id, group in groups.items():
            answer = await self._fulfil(group, update)
            errors = answer.get("userErrors") or []
            if errors:
                done = f" ({len(created)} of {len(groups)} locations fulfilled)" if created else ""
                return WriteResult.failure(
                    key,
                    f"Shopify refused to fulfil order {order['name']} at location "
                    f"{self.locations.code_of(location_id)}: {_messages(errors)}{done}",
                    code=str(errors[0].get("code") or "FULFILLMENT_REFUSED"),
                )
            created.append(str(answer["fulfillment"]["id"]))
        return WriteResult.success(key, external_id=created[-1])

    async def _fulfil(self, group: list[dict[str, Any]], update: OrderUpdate) -> dict[str, Any]:
        fulfillment: dict[str, Any] = {
            "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo["id"]} for fo in group],
            "notifyCustomer": self.settings.notify_customer,
        }
        tracking = {
            name: value
            for name, value in (("number", update.tracking_number), ("company", update.carrier))
            if value
        }
        if tracking:
            fulfillment["trackingInfo"] = tracking
        data = await self.client.graphql(
            queries.FULFILLMENT_CREATE, {"fulfillment": fulfillment}, lane=Lane.ORDERS, retry=False
        )
        answer: dict[str, Any] = data["fulfillmentCreate"]
        return answer

    def _nothing_to_fulfil(
        self, key: str, order: dict[str, Any], nodes: list[dict[str, Any]], update: OrderUpdate
    ) -> WriteResult:
        waiting = sorted({fo["status"] for fo in nodes if fo["status"] in _WAITING})
        if waiting:
            return WriteResult.failure(
                key,
                f"order {order['name']} cannot be fulfilled now: its fulfillment orders are "
                f"{', '.join(s.lower() for s in waiting)}",
                code=f"FULFILLMENT_ORDER_{waiting[0]}",
                retryable=True,
            )
        shipped = [
            str(info["number"])
            for fulfillment in order.get("fulfillments") or []
            if fulfillment.get("status") == "SUCCESS"
            for info in fulfillment.get("trackingInfo") or []
            if info.get("number")
        ]
        fulfilled = (
            bool(nodes)
            and all(fo["status"] in ("CLOSED", "CANCELLED") for fo in nodes)
            and any(f.get("status") == "SUCCESS" for f in order.get("fulfillments") or [])
        )
        if fulfilled and (not update.tracking_number or update.tracking_number in shipped):
            return WriteResult.success(key)  # already shipped: a retry changes nothing
        if fulfilled:
            return WriteResult.failure(
                key,
                f"order {order['name']} is already fulfilled with tracking "
                f"{', '.join(shipped) or 'none'}, not {update.tracking_number}",
                code="ALREADY_FULFILLED",
            )
        where = f" at location {update.location}" if update.location else ""
        return WriteResult.failure(
            key,
            f"order {order['name']} has no open fulfillment order{where}",
            code="NO_FULFILLMENT_ORDER",
        )

    # -- cancelling ----------------------------------------------------------------------

    async def _cancel(self, key: str, order: dict[str, Any], update: OrderUpdate) -> WriteResult:
        if order.get("cancelledAt"):
            return WriteResult.success(key)  # already cancelled: a retry changes nothing
        version = self.client.api_version
        variables: dict[str, Any] = {
            "orderId": order["id"],
            "reason": "OTHER",
            "restock": self.settings.restock_on_cancel,
            "notifyCustomer": self.settings.notify_customer,
            "staffNote": (update.note or "Cancelled through omnisdk")[:_STAFF_NOTE_LIMIT],
        }
        if version >= queries.REFUND_METHOD_SINCE:
            variables["refundMethod"] = {
                "originalPaymentMethodsRefund": self.settings.refund_on_cancel
            }
        else:
            variables["refund"] = self.settings.refund_on_cancel
        data = await self.client.graphql(
            queries.order_cancel_mutation(version), variables, lane=Lane.ORDERS, retry=False
        )
        answer = data["orderCancel"]
        errors = answer.get("orderCancelUserErrors") or answer.get("userErrors") or []
        result = answer.get("jobResult") or {}
        errors = errors or result.get("errors") or []
        if errors or result.get("status") == "FAILED":
            code = str((errors[0] if errors else {}).get("code") or "CANCEL_FAILED")
            return WriteResult.failure(
                key,
                f"Shopify refused to cancel order {order['name']}: {_messages(errors)}",
                code=code,
                retryable=code == "INTERNAL_ERROR",
            )
        if result.get("status") == "SUCCEEDED":
            return WriteResult.success(key)
        job = answer.get("job") or {}
        pending = bool(job.get("id")) and not job.get("done")
        if pending and not await self._wait_for_job(str(job["id"])):
            return WriteResult.failure(
                key,
                f"Shopify accepted cancelling order {order['name']} (job {job['id']}) but "
                f"had not done it after {self.settings.job_timeout:g} s",
                code="JOB_PENDING",
                retryable=True,
            )
        after = await self._read(order["id"])
        if after is not None and after.get("cancelledAt"):
            return WriteResult.success(key)
        return WriteResult.failure(
            key,
            f"Shopify's cancellation job for order {order['name']} ended but the order is "
            "not cancelled",
            code="CANCEL_FAILED",
            retryable=True,
        )

    async def _wait_for_job(self, job_id: str) -> bool:
        """Poll ``job(id:)`` until it is done; False when it is not within the timeout."""
        deadline = time.monotonic() + self.settings.job_timeout
        while True:
            data = await self.client.graphql(queries.JOB_POLL, {"id": job_id}, lane=Lane.ORDERS)
            job = data.get("job")
            if job is None or job.get("done"):
                return True  # a finished job Shopify no longer keeps is done too
            if time.monotonic() >= deadline:
                return False
            await self._sleep(self.settings.job_poll_interval)

    # -- closing -------------------------------------------------------------------------

    async def _close(self, key: str, order: dict[str, Any]) -> WriteResult:
        if order.get("closed"):
            return WriteResult.success(key)
        if order.get("displayFulfillmentStatus") != "FULFILLED":
            return WriteResult.failure(
                key,
                f"order {order['name']} is not fulfilled; ship it before completing it",
                code="NOT_FULFILLED",
            )
        data = await self.client.graphql(
            queries.ORDER_CLOSE, {"input": {"id": order["id"]}}, lane=Lane.ORDERS, retry=False
        )
        errors = data["orderClose"].get("userErrors") or []
        if errors:
            return WriteResult.failure(
                key,
                f"Shopify refused to close order {order['name']}: {_messages(errors)}",
                code=str(errors[0].get("code") or "CLOSE_REFUSED"),
            )
        return WriteResult.success(key)


def _order_gid(external_id: str) -> str:
    text = external_id.strip()
    return text if text.startswith("gid://") else f"gid://shopify/Order/{text}"


def _location_of(fulfillment_order: Mapping[str, Any]) -> str:
    location = (fulfillment_order.get("assignedLocation") or {}).get("location") or {}
    return legacy_id(location["id"]) if location.get("id") else ""
