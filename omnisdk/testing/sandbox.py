"""The sandbox base: an in-memory platform emulator served as an ASGI app.

A plugin's sandbox subclasses :class:`Sandbox` and implements the platform's own API paths
(:meth:`Sandbox.platform_routes`) plus a few state hooks; the base adds everything every
sandbox shares:

- the control API under ``/_sandbox`` (reset, seed, bulk seed of orders, buyer orders,
  state, faults, webhook target, clock, request log), the same for every channel, so tools
  and tests drive any sandbox alike;
- fault injection on the platform paths (:mod:`omnisdk.testing.faults`);
- signed webhook delivery to a configured URL (:mod:`omnisdk.testing.webhooks`);
- an injectable :class:`~omnisdk.testing.clock.SandboxClock` and seeded random generators,
  so runs are reproducible.

State is touched both from the server's thread and from the test's thread, so every hook a
subclass implements is called with :attr:`Sandbox.lock` held, and platform handlers take it
themselves (``with self.lock: ...``).

A minimal subclass::

    class ShopSandbox(Sandbox):
        channel_type = "shop"

        def reset_state(self) -> None:
            self.items = {}

        def platform_routes(self) -> list[BaseRoute]:
            return [Route("/items", self.list_items)]
        ...
"""

from __future__ import annotations

import abc
import asyncio
import json
import logging
import random
import threading
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any, ClassVar, Self

import httpx
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from omnisdk.errors import SandboxError
from omnisdk.testing.clock import SandboxClock
from omnisdk.testing.faults import (
    CONTROL_PREFIX,
    NOTE_SCOPE_KEY,
    ASGIApp,
    Fault,
    FaultInjector,
    FaultKind,
    FaultSettings,
    RequestRecord,
)
from omnisdk.testing.responses import dumps, json_response
from omnisdk.testing.webhooks import WebhookDelivery, WebhookDispatcher

__all__ = [
    "BuyerLine",
    "BuyerOrder",
    "NotRefundable",
    "NotSupported",
    "OutOfStock",
    "RefundRequest",
    "Sandbox",
    "SandboxError",
    "SeedOrder",
    "SeedProduct",
    "UnknownObject",
    "dumps",
    "json_response",
    "read_json",
]

logger = logging.getLogger("omnisdk.testing.sandbox")

_SECRET_WORDS = ("token", "secret", "key", "password", "signature")


# -- the control API's models --------------------------------------------------------------


class SeedProduct(BaseModel):
    """One listing to create, an entry of ``POST /_sandbox/seed {"products": [...]}``.

    One SKU per entry. Entries sharing ``product`` (a product title) are variants of one
    product, told apart by ``options`` (``{"Màu": "Đỏ"}``); without it each entry is a
    product of its own titled ``title``.
    """

    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1)
    title: str = Field(min_length=1)
    price: Decimal
    currency: str = Field(default="VND", min_length=3, max_length=3)
    stock: int = Field(default=0, ge=0)
    product: str | None = None
    options: dict[str, str] = Field(default_factory=dict)

    @field_validator("price", mode="before")
    @classmethod
    def _no_float(cls, value: Any) -> Any:
        if isinstance(value, float):
            raise ValueError(f"got float {value!r}: send prices as strings or integers")
        return value

    @field_validator("currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


class BuyerLine(BaseModel):
    """One line of a buyer's order: ``quantity`` units of ``sku``."""

    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1)
    quantity: int = Field(gt=0)


class BuyerOrder(BaseModel):
    """A buyer's order, the body of ``POST /_sandbox/buyer/orders``.

    ``customer`` is free-form (``{"name", "phone", "email", "address"}``); each sandbox reads
    what its platform would collect.
    """

    model_config = ConfigDict(extra="forbid")

    lines: list[BuyerLine] = Field(min_length=1)
    customer: dict[str, Any] | None = None


class RefundRequest(BaseModel):
    """The body of ``POST /_sandbox/orders/{id}/refund``: the buyer returns ``lines`` (SKUs
    and units of the order) and is paid back for them the platform's way (a return, a refund,
    a return document), at what they cost on the order."""

    model_config = ConfigDict(extra="forbid")

    lines: list[BuyerLine] = Field(min_length=1)


class SeedOrder(BaseModel):
    """One order of the shop's history, an entry of ``POST /_sandbox/seed/orders``.

    ``lines`` of listed SKUs, the buyer's ``customer`` (free-form as in :class:`BuyerOrder`;
    the same email or phone is the same customer), and when it was placed (``created_at``,
    timezone-aware; default now) and last changed (``updated_at``; default ``created_at``).
    Unlike a buyer's order a seeded one is history: it is neither refused nor takes listed
    stock (seed the stock the shop holds after it), and it sends no webhook.
    """

    model_config = ConfigDict(extra="forbid")

    lines: list[BuyerLine] = Field(min_length=1)
    customer: dict[str, Any] | None = None
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _in_order(self) -> SeedOrder:
        if self.updated_at and self.created_at and self.updated_at < self.created_at:
            raise ValueError("updated_at is before created_at")
        return self


class OutOfStock(SandboxError):
    """The listed stock of ``sku`` is short: the buyer's order is refused (409)."""

    status = 409
    code = "out_of_stock"

    def __init__(self, sku: str, *, available: int, requested: int) -> None:
        super().__init__(
            f"only {available} of {sku!r} listed, {requested} asked for",
            sku=sku,
            available=available,
            requested=requested,
        )
        self.sku = sku


class NotRefundable(SandboxError):
    """The platform would not take this return or refund (yet): 409."""

    status = 409
    code = "not_refundable"


class NotSupported(SandboxError):
    """This sandbox does not emulate what was asked (501)."""

    status = 501
    code = "not_supported"


class UnknownObject(SandboxError):
    """The object asked for does not exist (404)."""

    status = 404
    code = "not_found"

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"no {kind} {key!r}", kind=kind, key=key)


# -- reading requests ---------------------------------------------------------------------


async def read_json(request: Request, *, invalid: Callable[[], Exception] | None = None) -> Any:
    """The request's JSON body (``{}`` when empty).

    A body that is not JSON raises ``invalid()`` (the platform's own error), by default a
    400 :class:`SandboxError`.
    """
    raw = await request.body()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        if invalid is not None:
            raise invalid() from None
        raise SandboxError("the request body is not JSON", where=request.url.path) from None


# -- the base ------------------------------------------------------------------------------


class Sandbox(abc.ABC):
    """An in-memory platform emulator served as an ASGI app (:attr:`app`).

    Subclasses set ``channel_type`` and implement the abstract methods, each called with
    :attr:`lock` held. A subclass that needs its own constructor arguments sets them before
    calling ``super().__init__()``, which calls :meth:`reset_state`.

    ``buyer_order_model`` is the body model of a buyer's order (:class:`BuyerOrder` or a
    subclass with the platform's own fields). ``webhook_id_header`` names the header of
    :meth:`sign_webhook` carrying the delivery id (found by name when not set).
    ``webhook_transport`` (constructor argument or attribute) delivers webhooks through an
    httpx transport (e.g. ``httpx.MockTransport``) instead of the network.
    """

    channel_type: ClassVar[str]
    webhook_id_header: ClassVar[str | None] = None
    buyer_order_model: ClassVar[type[BuyerOrder]] = BuyerOrder
    """What ``POST /_sandbox/buyer/orders`` validates its body as; a subclass of
    :class:`BuyerOrder` adds the platform's own fields (e.g. a pickup location)."""
    refuses_unlisted_sales: ClassVar[bool] = True
    """A buyer's order for more than is listed is refused, as on a marketplace or a web shop.
    False where the buyer holds the goods already (a point of sale): such a sandbox takes no
    part in a flash sale, whose proof rests on channels refusing what they do not list."""

    def __init__(
        self,
        *,
        clock: SandboxClock | None = None,
        seed: int = 0,
        webhook_transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock or SandboxClock()
        self.seed = seed
        self.rng = random.Random(seed)
        """A seeded generator for the subclass (ids, tokens), so runs are reproducible."""
        self._fault_rng = random.Random(f"{seed}:faults")
        self._webhook_rng = random.Random(f"{seed}:webhooks")
        self._faults = FaultSettings()
        self._scheduled: list[FaultKind] = []
        self._timeouts_left = 0
        self.webhook_url: str | None = None
        self.webhook_transport = webhook_transport
        self.requests: list[RequestRecord] = []
        """Every platform request (not control calls), oldest first."""
        self._webhook_log: list[dict[str, Any]] = []
        self._dispatcher = WebhookDispatcher(
            record=self._record_webhook, transport=lambda: self.webhook_transport
        )
        with self.lock:
            self.reset_state()
        self.app: ASGIApp = self._build_app()
        """The ASGI app: platform routes, ``/_sandbox/*`` control routes, fault injection."""

    # -- what a subclass implements (called with self.lock held) -------------------------

    @abc.abstractmethod
    def platform_routes(self) -> list[BaseRoute]:
        """The platform's own API paths (Starlette routes)."""

    @abc.abstractmethod
    def reset_state(self) -> None:
        """Empty the platform state (also called by the constructor)."""

    @abc.abstractmethod
    def seed_products(self, products: list[SeedProduct]) -> list[dict[str, Any]]:
        """Create listings the platform way; return what was created (with platform ids)."""

    @abc.abstractmethod
    def place_order(self, order: BuyerOrder) -> str:
        """A buyer places ``order``; return the platform's order id.

        Raise :class:`OutOfStock` when the listed stock is short and :class:`UnknownObject`
        for an unknown SKU; decrement listed stock and call :meth:`emit_webhook`.
        """

    @abc.abstractmethod
    def cancel_order(self, order_id: str) -> None:
        """The buyer cancels the order: release its stock, send the platform's webhook."""

    @abc.abstractmethod
    def advance_order(self, order_id: str) -> str:
        """Move the order one step along the platform's status flow; return the new status."""

    @abc.abstractmethod
    def listings(self) -> list[dict[str, Any]]:
        """What the platform shows: ``[{"sku", "stock", "price", "currency"}]`` (price a str)."""

    @abc.abstractmethod
    def orders_state(self) -> list[dict[str, Any]]:
        """The orders the platform holds, in its own shape (at least ``id`` and ``status``)."""

    @abc.abstractmethod
    def channel_settings(self, base_url: str) -> dict[str, Any]:
        """The ``[[channels]]`` settings a channel needs to reach this sandbox at ``base_url``."""

    @abc.abstractmethod
    def client_credentials(self, base_url: str) -> dict[str, Any]:
        """The raw credentials the platform's official client library would use."""

    @abc.abstractmethod
    def sign_webhook(self, topic: str, body: bytes) -> dict[str, str]:
        """The platform's delivery headers for ``body``: signature, delivery id, topic."""

    # -- overridable defaults -------------------------------------------------------------

    def seed_orders(self, orders: list[SeedOrder]) -> list[str]:
        """Record ``orders`` as the shop's history in one call; return their platform ids.

        Raise :class:`UnknownObject` for an unknown SKU (nothing is recorded then). Keep it
        linear in the number of orders and independent of the shop's size: it is how a
        benchmark fills a shop with hundreds of thousands of orders. The default refuses
        (501): a sandbox without it can still be filled by :meth:`place_order`.
        """
        raise NotSupported(f"the {self.channel_type} sandbox has no bulk order seed")

    def refund_order(self, order_id: str, refund: RefundRequest) -> Decimal:
        """The buyer returns ``refund.lines`` of order ``order_id`` and is paid back for them
        through the platform's own mechanism; return the amount paid back (goods only).

        Raise :class:`NotRefundable` (409) when the platform would not
        take the return yet (e.g. the order has not shipped), and :class:`UnknownObject` for
        an unknown order or a SKU not on it. ``POST /_sandbox/orders/{id}/refund`` calls it.
        The default refuses (501): the sandbox does not emulate refunds.
        """
        raise NotSupported(f"the {self.channel_type} sandbox does not emulate refunds")

    def fault_body(self, status: int) -> dict[str, Any]:
        """The JSON body of an injected error; override to match the platform's error shape."""
        if status == 429:
            return {"error": "rate_limited", "message": "too many requests"}
        return {"error": "server_error", "message": f"injected fault ({status})"}

    def error_response(self, error: SandboxError) -> Response:
        """Turn a :class:`SandboxError` raised in a route into a response (override to reshape)."""
        return json_response(error.body(), error.status)

    def expire_tokens(self) -> int:
        """End every access token the sandbox issued, now, as if their lifetime ran out.

        Refresh tokens (or the grant a channel asks a new token with) keep working, so a
        channel that refreshes on a refusal carries on. Returns how many tokens ended.
        ``POST /_sandbox/tokens/expire`` calls it (fault injection: a token expiring in the
        middle of a run). The default raises :class:`SandboxError` (501): the platform's
        tokens do not expire; a sandbox whose tokens do overrides it.
        """
        raise NotSupported(f"{self.channel_type} sandbox: its tokens do not expire")

    def lift_throttles(self) -> None:
        """Stop enforcing the platform's own rate throttles, from now on.

        For load tests that measure the engine, not the platform (the channels' rate budgets
        are lifted the same way, see :func:`omnisdk.testing.registration.unthrottled`). A
        sandbox that enforces no throttle does nothing.
        """
        return None

    def secret_values(self) -> list[str]:
        """Every secret this sandbox accepts or issues (tests assert none reaches a log).

        The default takes the string values of :meth:`channel_settings` and
        :meth:`client_credentials` whose keys name a token, secret, key, password or
        signature. Sandboxes that issue tokens at run time add them.
        """
        found: set[str] = set()
        for source in (
            self.channel_settings("http://sandbox.invalid"),
            self.client_credentials("http://sandbox.invalid"),
        ):
            for name, value in source.items():
                if (
                    isinstance(value, str)
                    and len(value) >= 6
                    and any(word in name.lower() for word in _SECRET_WORDS)
                ):
                    found.add(value)
        return sorted(found)

    # -- what the base provides -----------------------------------------------------------

    @property
    def faults(self) -> FaultSettings:
        """The current fault settings (assign a new :class:`FaultSettings` to change them)."""
        return self._faults

    @faults.setter
    def faults(self, settings: FaultSettings) -> None:
        with self.lock:
            self._faults = settings
            self._scheduled = [FaultKind.DROP] * settings.drop_first + [
                FaultKind.ERROR
            ] * settings.fail_first
            self._timeouts_left = settings.timeout_after_acting
            if settings.seed is not None:
                self._fault_rng.seed(f"{settings.seed}:faults")
                self._webhook_rng.seed(f"{settings.seed}:webhooks")

    def draw_fault(self, path: str) -> Fault | None:
        """Decide, with the seeded generator, whether a request to ``path`` fails and how."""
        settings = self._faults
        if not settings.applies_to(path) or not (
            settings.error_rate or settings.drop_rate or self._scheduled
        ):
            return None
        with self.lock:
            if self._scheduled:
                kind = self._scheduled.pop(0)
                if kind is FaultKind.DROP:
                    return Fault(FaultKind.DROP)
                status = self._fault_rng.choice(settings.error_statuses)
                return Fault(FaultKind.ERROR, status=status, retry_after=settings.retry_after)
            roll = self._fault_rng.random()
            if roll < settings.drop_rate:
                return Fault(FaultKind.DROP)
            if roll < settings.drop_rate + settings.error_rate:
                status = self._fault_rng.choice(settings.error_statuses)
                return Fault(FaultKind.ERROR, status=status, retry_after=settings.retry_after)
        return None

    def take_timeout_after_acting(self, path: str, operation: str | None) -> bool:
        """Whether a request already carried out goes unanswered (``timeout_after_acting``)."""
        settings = self._faults
        if not self._timeouts_left or not settings.applies_to(path):
            return False
        if settings.timeout_operations is not None and operation not in settings.timeout_operations:
            return False
        with self.lock:
            if not self._timeouts_left:
                return False
            self._timeouts_left -= 1
            return True

    def record_request(self, record: RequestRecord) -> None:
        """Append ``record`` to :attr:`requests` (called by the fault injector)."""
        with self.lock:
            self.requests.append(record)

    def note_operation(self, request: Request, operation: str, *, items: int | None = None) -> None:
        """Note what a platform request did, for the request log.

        Conformance tests count calls by operation; the conventional names are
        ``"stock.write"``, ``"price.write"``, ``"products.read"`` and ``"orders.read"``, with
        ``items`` the number of items the call carried.
        """
        note = request.scope.get(NOTE_SCOPE_KEY)
        if isinstance(note, dict):
            note["operation"] = operation
            note["items"] = items

    def operations(self, operation: str) -> list[RequestRecord]:
        """The logged requests noted as ``operation`` (see :meth:`note_operation`)."""
        with self.lock:
            return [record for record in self.requests if record.operation == operation]

    def next_delivery_id(self) -> str:
        """A fresh, reproducible webhook delivery id (a UUID4 from the seeded generator)."""
        with self.lock:
            return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def emit_webhook(
        self,
        topic: str,
        payload: Mapping[str, Any] | bytes,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Queue a signed delivery of ``payload`` to every target of ``topic``.

        The targets are :attr:`webhook_url` (the control API's) and the URLs
        :meth:`webhook_subscribers` names, each once; nothing is sent when there are none.
        The body is compact UTF-8 JSON (or ``payload`` itself when bytes), signed with
        :meth:`sign_webhook` once per target; ``headers`` are added. Delivery happens in the
        background and honours the webhook knobs of :attr:`faults`.
        """
        with self.lock:
            targets = [self.webhook_url] if self.webhook_url else []
            targets += [
                url for url in dict.fromkeys(self.webhook_subscribers(topic)) if url not in targets
            ]
            if not targets:
                logger.debug(
                    "%s sandbox: no webhook URL, %s not delivered", self.channel_type, topic
                )
                return
            body = payload if isinstance(payload, bytes) else dumps(payload)
            for url in targets:
                self._queue_delivery(topic, body, url, headers or {})

    def webhook_subscribers(self, topic: str) -> list[str]:
        """URLs subscribed to ``topic`` through the platform's own API (default: none).

        Override when the platform lets an app register webhook subscriptions; every
        :meth:`emit_webhook` then also goes to them, besides :attr:`webhook_url`.
        """
        return []

    def _queue_delivery(
        self, topic: str, body: bytes, url: str, headers: Mapping[str, str]
    ) -> None:
        signed = {**self.sign_webhook(topic, body), **dict(headers)}
        signed.setdefault("Content-Type", "application/json")
        delivery = WebhookDelivery(
            topic=topic,
            body=body,
            headers=signed,
            delivery_id=self._delivery_id_of(signed),
            url=url,
        )
        settings = self._faults
        duplicate = self._webhook_rng.random() < settings.webhook_duplicate_rate
        self._dispatcher.submit(
            delivery, delay=settings.webhook_delay, reorder=settings.webhook_reorder
        )
        if duplicate:
            self._dispatcher.submit(
                replace(delivery, duplicate=True),
                delay=settings.webhook_delay,
                reorder=settings.webhook_reorder,
            )

    def _delivery_id_of(self, headers: Mapping[str, str]) -> str:
        lowered = {name.lower(): value for name, value in headers.items()}
        if self.webhook_id_header:
            found = lowered.get(self.webhook_id_header.lower())
            if found:
                return found
        for name, value in lowered.items():
            if "delivery" in name or name.endswith(("webhook-id", "event-id")):
                return value
        return self.next_delivery_id()

    def _record_webhook(self, attempt: dict[str, Any]) -> None:
        with self.lock:
            self._webhook_log.append(attempt)

    @property
    def webhook_log(self) -> list[dict[str, Any]]:
        """Every delivery attempt so far: ``{"topic", "status", "attempt", "delivery_id", ...}``."""
        with self.lock:
            return [dict(entry) for entry in self._webhook_log]

    async def drain_webhooks(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109 (contract)
        """Wait until every queued webhook delivery is done (held-back ones are released).

        Raises :class:`TimeoutError` when deliveries are still pending after ``timeout`` s.
        """
        done = await asyncio.to_thread(self._dispatcher.wait_idle, timeout)
        if not done:
            raise TimeoutError(
                f"{self._dispatcher.pending()} webhook deliveries still pending after {timeout} s"
            )

    def revoke_access(self) -> None:
        """The merchant withdraws the app: every token stops working, as on the platform
        (control: ``POST /_sandbox/revoke``; :meth:`reset` authorises it again).

        A sandbox that can emulate it overrides this; the default answers 501.
        """
        raise NotSupported(f"the {self.channel_type} sandbox cannot revoke access")

    def authorise_again(self) -> None:
        """The merchant approves the app again, as after a lost or spent refresh token:
        from now on :meth:`channel_settings` gives a new, working token pair (what the
        operator puts in the config before ``omnisdk channels reauthorise``).

        A sandbox whose tokens can be lost (single-use refresh tokens) overrides this; the
        default answers :class:`NotSupported`: its credentials never stop working that way.
        """
        raise NotSupported(f"the {self.channel_type} sandbox has no authorisation to renew")

    def state(self) -> dict[str, Any]:
        """``{"listings": [...], "orders": [...], "webhooks": [...]}`` as the platform has it."""
        with self.lock:
            return {
                "listings": self.listings(),
                "orders": self.orders_state(),
                "webhooks": [dict(entry) for entry in self._webhook_log],
            }

    def listing(self, sku: str) -> dict[str, Any]:
        """The listing of ``sku`` from :meth:`listings`; :class:`UnknownObject` if none."""
        with self.lock:
            for entry in self.listings():
                if entry["sku"] == sku:
                    return entry
        raise UnknownObject("listing", sku)

    def reset(self) -> None:
        """Back to an empty platform: state, request and delivery logs, faults, webhook URL."""
        self._dispatcher.cancel()
        with self.lock:
            self.reset_state()
            self.requests.clear()
            self._webhook_log.clear()
            self._faults = FaultSettings()
            self._scheduled = []
            self._timeouts_left = 0
            self.webhook_url = None
            self.rng.seed(self.seed)
            self._fault_rng.seed(f"{self.seed}:faults")
            self._webhook_rng.seed(f"{self.seed}:webhooks")

    def close(self) -> None:
        """Stop the webhook thread (pending deliveries are dropped)."""
        self._dispatcher.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the app -------------------------------------------------------------------------

    def _build_app(self) -> ASGIApp:
        routes = [*self.platform_routes(), *self._control_routes()]

        async def sandbox_error(request: Request, exc: Exception) -> Response:
            assert isinstance(exc, SandboxError)
            return self.error_response(exc)

        starlette = Starlette(routes=routes, exception_handlers={SandboxError: sandbox_error})
        return FaultInjector(starlette, self)

    def _control_routes(self) -> list[BaseRoute]:
        def route(
            path: str, endpoint: Callable[[Request], Awaitable[Response]], methods: list[str]
        ) -> Route:
            return Route(CONTROL_PREFIX + path, endpoint, methods=methods)

        return [
            route("/reset", self._ctl_reset, ["POST"]),
            route("/seed", self._ctl_seed, ["POST"]),
            route("/seed/orders", self._ctl_seed_orders, ["POST"]),
            route("/buyer/orders", self._ctl_buyer_order, ["POST"]),
            route("/buyer/orders/{order_id:path}/cancel", self._ctl_cancel, ["POST"]),
            route("/orders/{order_id:path}/advance", self._ctl_advance, ["POST"]),
            route("/orders/{order_id:path}/refund", self._ctl_refund, ["POST"]),
            route("/state", self._ctl_state, ["GET"]),
            route("/faults", self._ctl_faults, ["GET", "POST"]),
            route("/webhooks", self._ctl_webhooks, ["GET", "POST"]),
            route("/webhooks/drain", self._ctl_drain, ["POST"]),
            route("/clock", self._ctl_clock, ["GET", "POST"]),
            route("/requests", self._ctl_requests, ["GET", "DELETE"]),
            route("/credentials", self._ctl_credentials, ["GET"]),
            route("/tokens/expire", self._ctl_expire_tokens, ["POST"]),
            route("/revoke", self._ctl_revoke, ["POST"]),
        ]

    async def _ctl_revoke(self, request: Request) -> Response:
        self.revoke_access()
        return json_response({"revoked": True})

    async def _ctl_reset(self, request: Request) -> Response:
        self.reset()
        return json_response({"ok": True})

    async def _ctl_seed(self, request: Request) -> Response:
        body = await read_json(request)
        products = _validate(
            list[SeedProduct], body.get("products") if isinstance(body, dict) else None
        )
        with self.lock:
            created = self.seed_products(products)
        return json_response({"created": created}, 201)

    async def _ctl_seed_orders(self, request: Request) -> Response:
        body = await read_json(request)
        orders = _validate(list[SeedOrder], body.get("orders") if isinstance(body, dict) else None)
        with self.lock:
            created = self.seed_orders(orders)
        return json_response({"created": created}, 201)

    async def _ctl_buyer_order(self, request: Request) -> Response:
        order = _validate(self.buyer_order_model, await read_json(request))
        with self.lock:
            order_id = self.place_order(order)
        return json_response({"id": order_id}, 201)

    async def _ctl_cancel(self, request: Request) -> Response:
        order_id = request.path_params["order_id"]
        with self.lock:
            self.cancel_order(order_id)
        return json_response({"id": order_id, "cancelled": True})

    async def _ctl_advance(self, request: Request) -> Response:
        order_id = request.path_params["order_id"]
        with self.lock:
            status = self.advance_order(order_id)
        return json_response({"id": order_id, "status": status})

    async def _ctl_refund(self, request: Request) -> Response:
        order_id = request.path_params["order_id"]
        refund = _validate(RefundRequest, await read_json(request))
        with self.lock:
            amount = self.refund_order(order_id, refund)
        return json_response({"id": order_id, "refunded": str(amount)})

    async def _ctl_state(self, request: Request) -> Response:
        return json_response(self.state())

    async def _ctl_faults(self, request: Request) -> Response:
        if request.method == "POST":
            self.faults = _validate(FaultSettings, await read_json(request))
        return json_response({"faults": self.faults.model_dump(mode="json")})

    async def _ctl_webhooks(self, request: Request) -> Response:
        if request.method == "POST":
            body = await read_json(request)
            url = body.get("url") if isinstance(body, dict) else None
            if url is not None and not (
                isinstance(url, str) and url.startswith(("http://", "https://"))
            ):
                raise SandboxError("url must be an http(s) URL or null", field="url")
            with self.lock:
                self.webhook_url = url
        return json_response({"url": self.webhook_url, "deliveries": self.webhook_log})

    async def _ctl_drain(self, request: Request) -> Response:
        body = await read_json(request)
        timeout = body.get("timeout", 5.0) if isinstance(body, dict) else 5.0
        try:
            await self.drain_webhooks(float(timeout))
        except TimeoutError as exc:
            raise SandboxError(str(exc)) from None
        return json_response({"deliveries": self.webhook_log})

    async def _ctl_clock(self, request: Request) -> Response:
        if request.method == "POST":
            body = await read_json(request)
            seconds = body.get("advance", 0) if isinstance(body, dict) else None
            if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
                raise SandboxError("advance must be a number of seconds >= 0", field="advance")
            self.clock.advance(float(seconds))
        return json_response({"now": self.clock.now()})

    async def _ctl_requests(self, request: Request) -> Response:
        with self.lock:
            logged = [record.as_dict() for record in self.requests]
            if request.method == "DELETE":
                self.requests.clear()
        return json_response({"requests": logged})

    async def _ctl_expire_tokens(self, request: Request) -> Response:
        with self.lock:
            expired = self.expire_tokens()
        return json_response({"expired": expired})

    async def _ctl_credentials(self, request: Request) -> Response:
        base_url = str(request.base_url).rstrip("/")
        with self.lock:
            return json_response(
                {
                    "channel_type": self.channel_type,
                    "channel_settings": self.channel_settings(base_url),
                    "client_credentials": self.client_credentials(base_url),
                }
            )


def _validate(model: Any, data: Any) -> Any:
    from pydantic import TypeAdapter

    try:
        return TypeAdapter(model).validate_python(data)
    except ValidationError as exc:
        errors = [
            {"loc": list(e["loc"]), "msg": e["msg"]}
            for e in exc.errors(include_url=False, include_input=False)
        ]
        raise _Invalid(errors) from None


class _Invalid(SandboxError):
    status = 422
    code = "invalid"

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("the request body is invalid", errors=errors)
