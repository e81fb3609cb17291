"""Small channels (and a sandbox) for the engine tests: every push mode, a lost authorisation.

They all talk real HTTP to an Example sandbox; only the push mode or the token differ.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from omnisdk_example.channel import ExampleChannel
from omnisdk_example.sandbox import ExampleSandbox
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from omnisdk import (
    Capability,
    ChannelLimits,
    Lane,
    Order,
    ReauthorisationRequired,
    StockPushMode,
    StockUpdate,
    Token,
    WriteResult,
)
from omnisdk.testing.sandbox import json_response, read_json


class DeltaSandbox(ExampleSandbox):
    """The Example platform with one more call: ``POST /stock/adjust`` (add to listed stock)."""

    def platform_routes(self) -> list[BaseRoute]:
        """The Example routes plus ``/stock/adjust``."""
        return [
            *super().platform_routes(),
            Route("/stock/adjust", self.adjust_stock, methods=["POST"]),
        ]

    async def adjust_stock(self, request: Request) -> Response:
        """``{"items": [{"sku", "delta"}]}``: add ``delta``; refused below zero."""
        self.authorise(request)
        body = await read_json(request)
        items = body["items"]
        self.note_operation(request, "stock.write", items=len(items))
        results = []
        with self.lock:
            for item in items:
                variant = self.variants.get(item["sku"])
                if variant is None:
                    results.append(
                        {
                            "sku": item["sku"],
                            "ok": False,
                            "error": "unknown_sku",
                            "message": "no such listing",
                        }
                    )
                elif variant.stock + item["delta"] < 0:
                    results.append(
                        {
                            "sku": item["sku"],
                            "ok": False,
                            "error": "negative",
                            "message": "stock would go below zero",
                        }
                    )
                else:
                    variant.stock += item["delta"]
                    results.append({"sku": item["sku"], "ok": True, "available": variant.stock})
        return json_response({"results": results})


class DeltaChannel(ExampleChannel):
    """A channel that takes stock as deltas only."""

    name = "example-delta"
    limits = ExampleChannel.limits.model_copy(update={"stock_push_mode": StockPushMode.DELTA})

    async def write_stock_batch(self, batch: Sequence[StockUpdate]) -> list[WriteResult]:
        """``POST /stock/adjust`` with each update's delta."""
        items = [{"sku": u.sku, "delta": u.delta} for u in batch]
        body = await self.client.call(
            "POST", "/stock/adjust", lane=Lane.STOCK, json={"items": items}
        )
        return [
            WriteResult.success(u.sku)
            if answer["ok"]
            else WriteResult.failure(
                u.sku, answer["message"], code=answer["error"], retryable=False
            )
            for u, answer in zip(batch, body["results"], strict=True)
        ]


class AbsoluteChannel(ExampleChannel):
    """A channel that can only overwrite its stock figures."""

    name = "example-absolute"
    limits: ClassVar[ChannelLimits] = ExampleChannel.limits.model_copy(
        update={"stock_push_mode": StockPushMode.ABSOLUTE}
    )

    async def write_stock_batch(self, batch: Sequence[StockUpdate]) -> list[WriteResult]:
        """Overwrite (an ``expected`` is never sent)."""
        assert all(u.expected is None for u in batch)
        return await super().write_stock_batch(batch)


class OrderlessChannel(AbsoluteChannel):
    """An absolute channel that takes no orders (a catalog): its sales are recorded by the app."""

    name = "example-orderless"
    capabilities = AbsoluteChannel.capabilities - {Capability.READ_ORDERS}


class LaggingChannel(ExampleChannel):
    """An Example channel whose order list lags: orders in :attr:`hidden` are not listed yet."""

    name = "example-lagging"
    hidden: ClassVar[set[str]] = set()

    async def stream_orders(self, *, updated_since: datetime | None = None) -> AsyncIterator[Order]:
        """The platform's orders, less the hidden ones."""
        async for order in super().stream_orders(updated_since=updated_since):
            if order.channel_ref.external_id not in self.hidden:
                yield order


class HookedChannel(ExampleChannel):
    """An Example channel that runs :attr:`before_write` before each stock write, and notes
    the SKUs and figures of every write call in :attr:`written`."""

    name = "example-hooked"
    before_write: ClassVar[list[Callable[[], Any]]] = []
    written: ClassVar[list[dict[str, int]]] = []

    async def write_stock_batch(self, batch: Sequence[StockUpdate]) -> list[WriteResult]:
        """Run the queued callbacks (awaiting coroutines), then write."""
        self.written.append({u.sku: u.quantity for u in batch})
        while self.before_write:
            result = self.before_write.pop(0)()
            if hasattr(result, "__await__"):
                await result
        return await super().write_stock_batch(batch)


class HookedAbsoluteChannel(HookedChannel):
    """A :class:`HookedChannel` that can only overwrite its stock figures."""

    name = "example-hooked-absolute"
    limits: ClassVar[ChannelLimits] = ExampleChannel.limits.model_copy(
        update={"stock_push_mode": StockPushMode.ABSOLUTE}
    )

    async def write_stock_batch(self, batch: Sequence[StockUpdate]) -> list[WriteResult]:
        """Overwrite (an ``expected`` is never sent)."""
        assert all(u.expected is None for u in batch)
        return await super().write_stock_batch(batch)


class RevokedChannel(ExampleChannel):
    """An Example channel whose token expired and whose refresh token was revoked."""

    name = "example-revoked"

    def initial_token(self) -> Token:
        """An expired token that must be refreshed before use."""
        past = datetime.now(UTC) - timedelta(hours=2)
        return Token(
            access_token=self.example_settings.api_token,
            refresh_token="rt-revoked",
            issued_at=past,
            expires_at=past + timedelta(hours=1),
        )

    async def refresh_token(self, token: Token) -> Token:
        """The platform refuses: the merchant removed the app."""
        raise ReauthorisationRequired(
            "the refresh token was revoked", channel=self.name, account=self.account
        )


class BlindChannel(ExampleChannel):
    """An Example channel that cannot read its stock figures (compare-and-swap writes only)."""

    name = "example-blind"
    capabilities = ExampleChannel.capabilities - {Capability.READ_STOCK}
