"""A client for the sandbox control API (``/_sandbox/*``), the same for every channel.

::

    async with SandboxControl.for_sandbox(sandbox) as control:       # in-process
        await control.seed([{"sku": "AO-1", "title": "Áo thun", "price": "129000",
                             "currency": "VND", "stock": 5}])
        order_id = await control.place_order([("AO-1", 2)])
        history = await control.seed_orders([{"lines": [{"sku": "AO-1", "quantity": 1}],
                                              "created_at": "2026-01-05T09:00:00+07:00"}])

    async with SandboxControl("http://127.0.0.1:8081") as control:   # a served sandbox
        state = await control.state()
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import quote

import httpx

from omnisdk.errors import OmnisdkError

if TYPE_CHECKING:
    from omnisdk.testing.sandbox import Sandbox

__all__ = ["SandboxControl", "SandboxRefused"]

IN_PROCESS_URL = "http://sandbox.test"


class SandboxRefused(OmnisdkError):
    """The control API refused a call; ``status`` and ``body`` are its answer.

    A buyer order beyond the listed stock is refused with status 409 and
    ``body["error"] == "out_of_stock"``.
    """

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        self.status = status
        self.body = body
        error = body.get("error") if isinstance(body, dict) else None
        super().__init__(f"{method} {path} -> HTTP {status}" + (f" ({error})" if error else ""))


class SandboxControl:
    """Drives one sandbox through its control API."""

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = httpx.AsyncClient(
            base_url=self.base_url, transport=transport, timeout=timeout
        )

    @classmethod
    def for_sandbox(cls, sandbox: Sandbox, base_url: str = IN_PROCESS_URL) -> SandboxControl:
        """A control client that calls ``sandbox.app`` in-process (no socket)."""
        return cls(base_url, transport=httpx.ASGITransport(app=sandbox.app))

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def call(self, method: str, path: str, json: Any = None) -> Any:
        """Call ``/_sandbox{path}``; return the JSON answer or raise :class:`SandboxRefused`."""
        full = "/_sandbox" + path
        response = await self._client.request(method, full, json=json)
        try:
            body = response.json()
        except ValueError:
            body = response.text
        if response.is_error:
            raise SandboxRefused(method, full, response.status_code, body)
        return body

    async def reset(self) -> None:
        """Empty the sandbox."""
        await self.call("POST", "/reset")

    async def seed(self, products: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Create listings (``{"sku", "title", "price", "currency", "stock"}`` each)."""
        body = await self.call("POST", "/seed", {"products": [dict(p) for p in products]})
        return list(body["created"])

    async def seed_orders(self, orders: Iterable[Mapping[str, Any]]) -> list[str]:
        """Record orders as the shop's history in one call; returns their platform ids.

        Each is ``{"lines": [{"sku", "quantity"}], "customer"?, "created_at"?,
        "updated_at"?}`` (see :class:`~omnisdk.testing.sandbox.SeedOrder`); timestamps may be
        aware datetimes or ISO 8601 strings.
        """
        payload = [
            {k: v.isoformat() if isinstance(v, datetime) else v for k, v in order.items()}
            for order in orders
        ]
        body = await self.call("POST", "/seed/orders", {"orders": payload})
        return [str(order_id) for order_id in body["created"]]

    async def place_order(
        self, lines: Iterable[tuple[str, int]], customer: Mapping[str, Any] | None = None
    ) -> str:
        """A buyer orders ``(sku, quantity)`` lines; returns the platform's order id."""
        payload: dict[str, Any] = {"lines": [{"sku": s, "quantity": q} for s, q in lines]}
        if customer is not None:
            payload["customer"] = dict(customer)
        body = await self.call("POST", "/buyer/orders", payload)
        return str(body["id"])

    async def cancel_order(self, order_id: str) -> None:
        """The buyer cancels an order."""
        await self.call("POST", f"/buyer/orders/{quote(order_id, safe='')}/cancel")

    async def advance_order(self, order_id: str) -> str:
        """Move an order one step along the platform's flow; returns its new status."""
        body = await self.call("POST", f"/orders/{quote(order_id, safe='')}/advance")
        return str(body["status"])

    async def refund_order(self, order_id: str, lines: Iterable[tuple[str, int]]) -> Decimal:
        """The buyer returns ``(sku, units)`` of an order and is paid back the platform's way;
        returns the amount paid back. Raises :class:`SandboxRefused` with status 409
        (``not_refundable``) while the platform would not take the return yet, 501 when the
        sandbox does not emulate refunds."""
        payload = {"lines": [{"sku": s, "quantity": q} for s, q in lines]}
        body = await self.call("POST", f"/orders/{quote(order_id, safe='')}/refund", payload)
        return Decimal(str(body["refunded"]))

    async def refund_when_refundable(
        self, order_id: str, lines: Iterable[tuple[str, int]], *, attempts: int = 8
    ) -> Decimal:
        """:meth:`refund_order`, moving the order on (clock, then status) while the platform
        says 409 (not refundable yet, e.g. not shipped), at most ``attempts`` times."""
        wanted = list(lines)
        for _ in range(attempts):
            try:
                return await self.refund_order(order_id, wanted)
            except SandboxRefused as refused:
                if refused.status != 409:
                    raise
            await self.advance_clock(60)
            await self.advance_order(order_id)
        return await self.refund_order(order_id, wanted)

    async def state(self) -> dict[str, Any]:
        """``{"listings", "orders", "webhooks"}``."""
        body: dict[str, Any] = await self.call("GET", "/state")
        return body

    async def listed_stock(self) -> dict[str, int]:
        """Listed stock by SKU, from :meth:`state`."""
        return {entry["sku"]: int(entry["stock"]) for entry in (await self.state())["listings"]}

    async def set_faults(self, **settings: Any) -> dict[str, Any]:
        """Replace the fault settings (see :class:`~omnisdk.testing.faults.FaultSettings`)."""
        body = await self.call("POST", "/faults", settings)
        return dict(body["faults"])

    async def revoke_access(self) -> None:
        """The merchant withdraws the app: every token of the account stops working."""
        await self.call("POST", "/revoke")

    async def set_webhook_url(self, url: str | None) -> None:
        """Deliver webhooks to ``url`` (None: stop delivering)."""
        await self.call("POST", "/webhooks", {"url": url})

    async def drain_webhooks(self, timeout: float = 5.0) -> list[dict[str, Any]]:  # noqa: ASYNC109
        """Wait for queued deliveries; returns the delivery log."""
        body = await self.call("POST", "/webhooks/drain", {"timeout": timeout})
        return list(body["deliveries"])

    async def advance_clock(self, seconds: float) -> str:
        """Move the sandbox clock forward; returns the new time (ISO 8601)."""
        body = await self.call("POST", "/clock", {"advance": seconds})
        return str(body["now"])

    async def now(self) -> str:
        """The sandbox clock's time (ISO 8601)."""
        body = await self.call("GET", "/clock")
        return str(body["now"])

    async def requests(self, *, clear: bool = False) -> list[dict[str, Any]]:
        """The platform request log, oldest first (``clear``: then empty it)."""
        body = await self.call("DELETE" if clear else "GET", "/requests")
        return list(body["requests"])

    async def expire_tokens(self) -> int:
        """End every access token the sandbox issued (refresh still works); returns how many.

        Raises :class:`SandboxRefused` (501) when the platform's tokens do not expire.
        """
        body = await self.call("POST", "/tokens/expire")
        return int(body["expired"])

    async def credentials(self) -> dict[str, Any]:
        """``{"channel_type", "channel_settings", "client_credentials"}`` for this server."""
        body: dict[str, Any] = await self.call("GET", "/credentials")
        return body
