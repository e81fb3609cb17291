"""The KiotViet sandbox: one retailer on an emulated KiotViet Public API, as an ASGI app.

The same app serves the identity server (``POST /connect/token``) and the API (every other
path), so a client takes ``token_url`` and ``base_url`` apart as with the real hosts
(``id.kiotviet.vn`` and ``public.kiotapi.com``). Paths are case-insensitive (a tap calls
``/Products``). Beyond the common ``/_sandbox`` control API (where a buyer order is a
counter sale at a branch), tests drive KiotViet specifics from Python:
:meth:`KiotVietSandbox.counter_sale`, :meth:`online_order`, :meth:`invoice_order`,
:meth:`marketplace_sale`, :meth:`set_stock`, :meth:`add_unit`, :meth:`expire_tokens`.

Webhooks go to every active subscription of their type (and to the control API's URL),
in the documented PascalCase envelope, signed in the configured variant (default A: key =
the registered secret's text, hex digest, no prefix). A retry after a 5xx or a time-out
(5 s) carries a rising ``Attempt``; a subscriber that answers 400, 401, 403, 404 or 405 is
not retried and is switched off, as KiotViet does.
"""

from __future__ import annotations

import base64
import hmac
import random
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

import httpx
from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from omnisdk.testing.clock import SandboxClock
from omnisdk.testing.faults import CONTROL_PREFIX, ASGIApp, Receive, Scope, Send
from omnisdk.testing.responses import json_response
from omnisdk.testing.sandbox import (
    BuyerOrder,
    NotRefundable,
    RefundRequest,
    Sandbox,
    SandboxError,
    SeedProduct,
    UnknownObject,
)
from omnisdk_pos.sandbox.api.auth import TOKEN_PATH, TokenApi
from omnisdk_pos.sandbox.api.catalog import CatalogApi
from omnisdk_pos.sandbox.api.documents import CustomersApi, DocumentsApi
from omnisdk_pos.sandbox.api.gateway import KiotVietError, kv_json
from omnisdk_pos.sandbox.api.pricebooks import PriceBooksApi
from omnisdk_pos.sandbox.api.returns import ReturnsApi
from omnisdk_pos.sandbox.api.webhooks import Subscription, WebhooksApi
from omnisdk_pos.sandbox.delivery import DISABLING_STATUSES, KiotVietDispatcher
from omnisdk_pos.sandbox.state.access import DEFAULT_TOKEN_TTL, GET_BUDGET, GetBudget, Tokens
from omnisdk_pos.sandbox.state.returns import ReturnDocument, take_back
from omnisdk_pos.sandbox.state.shop import (
    DEFAULT_PRICE_BOOK,
    INVOICE_COMPLETED,
    INVOICE_DELIVERING,
    ORDER_DRAFT,
    Customer,
    Document,
    Line,
    Product,
    Shop,
)
from omnisdk_pos.timefmt import format_offset
from omnisdk_pos.webhooks import SIGNATURE_HEADER, Digest, KeyMode, sign

__all__ = ["KiotVietSandbox", "PosBuyerOrder"]

STOCK_TYPE = (
    "KiotViet.OmniChannelCore.Api.Shared.Model.WebhookProductStockRes, "
    "KiotViet.OmniChannelCore.Api.Shared"
)
_PATH_WORDS = frozenset(
    {
        "connect",
        "token",
        "branches",
        "products",
        "code",
        "productonhands",
        "orders",
        "invoices",
        "customers",
        "webhooks",
        "settings",
        "salechannel",
        "listupdatedproducts",
        "categories",
        "pricebooks",
        "detail",
        "listaddproducts",
        "listaddcutomers",
        "listupdatecustomers",
    }
)
_CANONICAL = {"productonhands": "productOnHands"}


class PosBuyerOrder(BuyerOrder):
    """A buyer at the counter: ``branch_id`` is the branch (default: the first one)."""

    branch_id: int | None = Field(default=None, gt=0)


class _CaseInsensitivePaths:
    """Rewrites the fixed words of a platform path to the spelling the routes use
    (``/Products/code/AT-1`` -> ``/products/code/AT-1``); codes and ids keep their case."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope.get("type") == "http" else ""
        if path and not path.startswith(CONTROL_PREFIX):
            parts = path.split("/")
            fixed = [
                _CANONICAL.get(part.lower(), part.lower()) if part.lower() in _PATH_WORDS else part
                for part in parts
            ]
            if fixed != parts:
                scope = {**scope, "path": "/".join(fixed)}
        await self.app(scope, receive, send)


def _pascal(value: Any) -> Any:
    """A REST object in webhook spelling: PascalCase keys (``isActive`` stays as is), dates
    with their ``+07:00`` offset."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = key if key == "isActive" else key[:1].upper() + key[1:]
            if key.endswith("Date") and isinstance(item, str) and "+" not in item:
                item = item + "+07:00"
            out[name] = _pascal(item)
        return out
    if isinstance(value, list):
        return [_pascal(item) for item in value]
    return value


class KiotVietSandbox(Sandbox):
    """An emulated KiotViet retailer (Public API) with its identity server.

    ``client_id``/``client_secret`` are the credentials it accepts, ``retailer`` the name the
    ``Retailer`` header must carry, ``retailer_id`` the number payloads carry. ``token_ttl``
    is an access token's life (s); ``get_budget`` the GETs allowed per hour (None: no limit).
    ``key_mode``, ``digest`` and ``signature_prefix`` choose the webhook signature variant.
    """

    channel_type: ClassVar[str] = "pos"
    buyer_order_model: ClassVar[type[BuyerOrder]] = PosBuyerOrder

    def __init__(
        self,
        *,
        clock: SandboxClock | None = None,
        seed: int = 0,
        webhook_transport: httpx.BaseTransport | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        retailer: str = "omnisdksandbox",
        retailer_id: int = 500123456,
        token_ttl: float = DEFAULT_TOKEN_TTL,
        get_budget: int | None = GET_BUDGET,
        key_mode: KeyMode = KeyMode.TEXT,
        digest: Digest = Digest.HEX,
        signature_prefix: str = "",
    ) -> None:
        rng = random.Random(f"{seed}:credentials")
        self.client_id = client_id or str(uuid.UUID(int=rng.getrandbits(128), version=4))
        self.client_secret = client_secret or f"{rng.getrandbits(160):040X}"
        raw_secret = f"kv-sandbox-{seed}-{rng.getrandbits(48):012x}"
        self.webhook_secret = base64.b64encode(raw_secret.encode()).decode()
        """The Base64 webhook ``Secret`` to register (what :meth:`channel_settings` gives)."""
        self.retailer = retailer
        self.retailer_id = retailer_id
        self.token_ttl = token_ttl
        self.get_budget = get_budget
        self.key_mode = key_mode
        self.digest = digest
        self.signature_prefix = signature_prefix
        super().__init__(clock=clock, seed=seed, webhook_transport=webhook_transport)
        self._dispatcher = KiotVietDispatcher(
            record=self._record_webhook,
            transport=lambda: self.webhook_transport,
            resign=self.sign_webhook,
        )
        self.app = _CaseInsensitivePaths(self.app)

    # -- state ---------------------------------------------------------------------------

    def reset_state(self) -> None:
        """An empty retailer with its two branches, no products, no tokens."""
        self.shop = Shop(
            retailer_id=self.retailer_id,
            rng=random.Random(f"{self.seed}:ids"),
            now=self.clock.now(),
        )
        self.tokens = Tokens(random.Random(f"{self.seed}:tokens"), self.token_ttl)
        self.budget = GetBudget(self.get_budget) if self.get_budget else None
        self.subscriptions: dict[int, Subscription] = {}
        self.returns: list[ReturnDocument] = []

    # -- the gateway ---------------------------------------------------------------------

    def admit(self, request: Request) -> None:
        """Check the bearer token, the ``Retailer`` header and the GET budget."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise KiotVietError(
                401, "Unauthorized", "Authorization has been denied for this request."
            )
        with self.lock:
            refused = self.tokens.check(token.strip(), self.clock.time())
            if refused is not None:
                raise KiotVietError(
                    401, "Unauthorized", f"Authorization has been denied: {refused}."
                )
            retailer = request.headers.get("retailer", "")
            if not hmac.compare_digest(retailer.strip().lower(), self.retailer.lower()):
                raise KiotVietError(
                    401, "Unauthorized", f"Retailer {retailer!r} không khớp với token."
                )
            if request.method == "GET" and self.budget is not None:
                wait = self.budget.spend(self.clock.time())
                if wait is not None:
                    raise KiotVietError(
                        429,
                        "TooManyRequests",
                        "Vượt quá giới hạn 5000 request GET mỗi giờ.",
                        retry_after=wait,
                    )

    def error_response(self, error: SandboxError) -> Response:
        """KiotViet's envelope for API refusals; the common shape for the control API."""
        if isinstance(error, KiotVietError):
            headers = (
                {"Retry-After": str(int(error.retry_after + 0.999))}
                if error.retry_after is not None
                else None
            )
            return json_response(error.envelope(), error.status, headers, encode=kv_json)
        return super().error_response(error)

    def fault_body(self, status: int) -> dict[str, Any]:
        """Injected faults in KiotViet's envelope."""
        code = "TooManyRequests" if status == 429 else "InternalServerError"
        if 400 <= status < 500 and status != 429:
            code = "BadRequest"
        return KiotVietError(status, code, f"Lỗi hệ thống (injected {status})").envelope()

    def platform_routes(self) -> list[BaseRoute]:
        """The identity server and the Public API areas."""
        return [
            *TokenApi(self).routes(),
            *CatalogApi(self).routes(),
            *PriceBooksApi(self).routes(),
            *DocumentsApi(self).routes(),
            *ReturnsApi(self).routes(),
            *CustomersApi(self).routes(),
            *WebhooksApi(self).routes(),
        ]

    # -- credentials ---------------------------------------------------------------------

    def channel_settings(self, base_url: str) -> dict[str, Any]:
        """Settings of a ``pos`` channel (KiotViet backend) reaching this sandbox."""
        base = base_url.rstrip("/")
        return {
            "base_url": base,
            "token_url": base + TOKEN_PATH,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "retailer": self.retailer,
            "webhook_secret": self.webhook_secret,
            "promotion_price_book": DEFAULT_PRICE_BOOK,
        }

    def client_credentials(self, base_url: str) -> dict[str, Any]:
        """What an independent KiotViet client (``tap-kiotviet``) is configured with."""
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "retailer": self.retailer,
            "api_url": base_url.rstrip("/"),
            "token_url": base_url.rstrip("/") + TOKEN_PATH,
        }

    def secret_values(self) -> list[str]:
        """The client secret, the webhook secret and every token issued."""
        with self.lock:
            return sorted({self.client_secret, self.webhook_secret, *self.tokens.secrets()})

    def expire_tokens(self) -> int:
        """End every access token now (the client must fetch a new one); how many ended."""
        with self.lock:
            return self.tokens.expire_all(self.clock.time())

    # -- webhooks ------------------------------------------------------------------------

    def webhook_subscribers(self, topic: str) -> list[str]:
        """The active subscriptions' URLs of ``topic``."""
        return [s.url for s in self.subscriptions.values() if s.type == topic and s.active]

    def sign_webhook(self, topic: str, body: bytes) -> dict[str, str]:
        """``X-Hub-Signature`` of the body with the type's registered secret (the sandbox's
        own one for the control API's URL); no header when no secret was registered."""
        secret = next(
            (s.secret for s in self.subscriptions.values() if s.type == topic and s.active),
            self.webhook_secret,
        )
        if not secret:
            return {}
        value = sign(
            secret, body, key_mode=self.key_mode, digest=self.digest, prefix=self.signature_prefix
        )
        return {SIGNATURE_HEADER: value}

    def _record_webhook(self, attempt: dict[str, Any]) -> None:
        super()._record_webhook(attempt)
        if attempt.get("status") in DISABLING_STATUSES:
            with self.lock:
                for sub in self.subscriptions.values():
                    if sub.url == attempt.get("url"):
                        sub.active = False

    def notify(self, kind: str, objects: list[dict[str, Any]]) -> None:
        """Send one ``kind`` notification carrying ``objects`` (REST-shaped)."""
        envelope = {
            "Id": self.next_delivery_id(),
            "Attempt": 1,
            "Notifications": [
                {"Action": f"{kind}.{self.retailer_id}", "Data": [_pascal(o) for o in objects]}
            ],
        }
        self.emit_webhook(kind, kv_json(envelope))

    def notify_removed(self, kind: str, ids: list[int]) -> None:
        """Send a ``.delete`` notification: ``Data`` is the removed ids (the envelope shape
        KiotViet's own plugin reads)."""
        envelope = {
            "Id": self.next_delivery_id(),
            "Attempt": 1,
            "Notifications": [{"Action": f"{kind}.{self.retailer_id}", "Data": list(ids)}],
        }
        self.emit_webhook(kind, kv_json(envelope))

    def stock_changed(self, product: Product) -> None:
        """``stock.update`` with the product's stock at every branch."""
        base, _ = self.shop.base_of(product)
        rows = []
        for row in self.shop.inventories_json(base):
            rows.append(
                {
                    "__type": STOCK_TYPE,
                    **{k: v for k, v in row.items() if k != "actualReserved" and k != "onOrder"},
                }
            )
        self.notify("stock.update", rows)

    def product_changed(self, product: Product) -> None:
        """``product.update`` with the whole product."""
        self.notify("product.update", [product.as_json(self.shop)])

    def document_changed(self, document: Document) -> None:
        """``order.update`` / ``invoice.update`` with the document, then ``stock.update`` and
        ``product.update`` of its products (their stock moved)."""
        self.notify(f"{document.kind}.update", [document.as_json(self.shop)])
        for line in document.lines:
            product = self.shop.product(line.product_id)
            self.stock_changed(product)
            self.product_changed(product)

    def customer_changed(self, customer: Customer) -> None:
        """``customer.update`` with the customer."""
        self.notify("customer.update", [customer.as_json(self.retailer_id)])

    # -- catalog -------------------------------------------------------------------------

    def seed_products(self, products: list[SeedProduct]) -> list[dict[str, Any]]:
        """Create products the KiotViet way: a ``product`` group's first SKU is the master,
        the others variants pointing at it; stock goes to the first branch."""
        shop = self.shop
        now = self.clock.now()
        masters: dict[str, Product] = {}
        created = []
        for seed in products:
            if seed.currency != "VND":
                raise SandboxError(f"{seed.sku}: KiotViet sells in VND only, not {seed.currency}")
            if seed.price != seed.price.to_integral_value() or seed.price < 0:
                raise SandboxError(f"{seed.sku}: {seed.price} is not a VND price (whole đồng)")
            if shop.by_code(seed.sku) is not None:
                raise SandboxError(f"SKU {seed.sku!r} already exists", sku=seed.sku)
            name = seed.product or seed.title
            master = masters.get(seed.product) if seed.product else None
            product = Product(
                id=shop.new_id(0),
                code=seed.sku,
                name=name,
                price=seed.price,
                created=now,
                modified=now,
                master_product_id=master.id if master else None,
                attributes=[(k.upper(), v) for k, v in seed.options.items()],
                has_variants=bool(seed.product),
            )
            shop.products[product.id] = product
            if seed.product and master is None:
                masters[seed.product] = product
            shop.set_on_hand(product, shop.default_branch.id, Decimal(seed.stock), now)
            created.append({"sku": seed.sku, "id": product.id, "code": product.code})
        return created

    def add_unit(self, base_sku: str, sku: str, unit: str, conversion: int, price: int) -> int:
        """Add a selling unit (a carton of ``conversion`` base units) of ``base_sku``."""
        with self.lock:
            shop = self.shop
            base = shop.by_code(base_sku)
            if base is None:
                raise UnknownObject("product", base_sku)
            now = self.clock.now()
            product = Product(
                id=shop.new_id(0),
                code=sku,
                name=base.name,
                price=Decimal(price),
                created=now,
                modified=now,
                master_unit_id=base.id,
                conversion=Decimal(conversion),
                unit=unit,
            )
            shop.products[product.id] = product
            shop.touch(base, now)
            return product.id

    def set_stock(self, sku: str, quantity: int, branch_id: int | None = None) -> None:
        """A stock count at a branch (fires ``stock.update`` and ``product.update``)."""
        with self.lock:
            product = self.shop.by_code(sku)
            if product is None:
                raise UnknownObject("product", sku)
            branch = self.shop.branch(branch_id)
            self.shop.set_on_hand(product, branch.id, Decimal(quantity), self.clock.now())
            self.stock_changed(product)
            self.product_changed(product)

    def listings(self) -> list[dict[str, Any]]:
        """Every product: sellable (onHand - reserved) over all branches, price in VND."""
        rows = []
        for product in sorted(self.shop.products.values(), key=lambda p: p.id):
            stock = sum(
                Decimal(str(i["onHand"])) - Decimal(str(i["reserved"]))
                for i in self.shop.inventories_json(product)
            )
            rows.append(
                {
                    "sku": product.code,
                    "stock": int(stock),
                    "price": str(product.price),
                    "currency": "VND",
                }
            )
        return rows

    # -- sales ---------------------------------------------------------------------------

    def _lines(self, lines: Mapping[str, int]) -> list[Line]:
        details = []
        for sku, quantity in lines.items():
            product = self.shop.by_code(sku)
            if product is None:
                raise UnknownObject("product", sku)
            details.append({"productId": product.id, "quantity": quantity})
        return self.shop.lines_of(details)

    def _buyer(self, customer: Mapping[str, Any] | None, *, marketplace: str = "") -> int | None:
        if not customer or not customer.get("name"):
            return None
        phone = customer.get("phone")
        found = self.shop.find_customer(str(phone)) if phone and not marketplace else None
        if found is not None:
            return found.id
        address = customer.get("address")
        fields: dict[str, Any] = {
            "name": customer["name"],
            "contactNumber": phone,
            "email": customer.get("email"),
        }
        if isinstance(address, Mapping):
            fields["address"] = address.get("line1")
            fields["wardName"] = address.get("ward")
            parts = [p for p in (address.get("province"), address.get("district")) if p]
            fields["locationName"] = " - ".join(parts) or None
        elif address:
            fields["address"] = str(address)
        made = self.shop.add_customer(fields, self.clock.now(), prefix=marketplace or "KH")
        self.customer_changed(made)
        return made.id

    def counter_sale(
        self,
        lines: Mapping[str, int],
        *,
        branch_id: int | None = None,
        customer: Mapping[str, Any] | None = None,
    ) -> str:
        """A cashier rings up an invoice at a branch (stock leaves the shelf); its code."""
        with self.lock:
            branch = self.shop.branch(branch_id)
            invoice = self.shop.new_document(
                "invoice",
                self._lines(lines),
                branch.id,
                self.clock.now(),
                customer_id=self._buyer(customer),
                sale_channel_id=1,
            )
            self.document_changed(invoice)
            return invoice.code

    def online_order(
        self,
        lines: Mapping[str, int],
        *,
        branch_id: int | None = None,
        customer: Mapping[str, Any] | None = None,
        delivery: Mapping[str, Any] | None = None,
        sale_channel_id: int | None = None,
    ) -> str:
        """A sales order (phone, web, pick-up) reserving at a branch; its code."""
        with self.lock:
            branch = self.shop.branch(branch_id)
            order = self.shop.new_document(
                "order",
                self._lines(lines),
                branch.id,
                self.clock.now(),
                customer_id=self._buyer(customer),
                delivery=dict(delivery) if delivery else None,
                sale_channel_id=sale_channel_id,
            )
            self.document_changed(order)
            return order.code

    def invoice_order(self, order: Document | str) -> Document:
        """Invoice an order: its reservation becomes a sale (the order completes)."""
        with self.lock:
            if isinstance(order, str):
                found = self.shop.document_by_code(order)
                if found.kind != "order":
                    raise SandboxError(f"{order} is not an order")
                order = found
            invoice = self.shop.new_document(
                "invoice",
                [
                    Line(ln.product_id, ln.code, ln.name, ln.quantity, ln.price, ln.discount)
                    for ln in order.lines
                ],
                order.branch_id,
                self.clock.now(),
                customer_id=order.customer_id,
                order_id=order.id,
                sale_channel_id=order.sale_channel_id,
                delivery=order.delivery,
            )
            self.notify("order.update", [order.as_json(self.shop)])
            self.document_changed(invoice)
            return invoice

    def marketplace_sale(
        self, lines: Mapping[str, int], *, marketplace: str = "Shopee", branch_id: int | None = None
    ) -> str:
        """A marketplace order that KiotViet mirrored itself: ``HDSPE_...``, a masked
        ``KHSPE...`` buyer and the marketplace's ``saleChannelId``; its code."""
        with self.lock:
            channel = next(
                c
                for c in self.shop.sale_channels
                if c["name"].lower().startswith(marketplace.lower())
            )
            infix = {"Shopee": "SPE", "Lazada": "LZD", "TikTok Shop": "TTS"}[channel["name"]]
            buyer = self._buyer(
                {"name": "Đ******h", "phone": "84*****678"}, marketplace=f"KH{infix}"
            )
            invoice = self.shop.new_document(
                "invoice",
                self._lines(lines),
                self.shop.branch(branch_id).id,
                self.clock.now(),
                customer_id=buyer,
                sale_channel_id=int(channel["id"]),
                description=f"{channel['name']} 2411{self.shop.rng.getrandbits(24):06X}",
            )
            self.document_changed(invoice)
            return invoice.code

    def cancel_document(self, document: Document) -> None:
        """Cancel an order or invoice and send its webhooks."""
        with self.lock:
            self.shop.cancel_document(document, self.clock.now())
            self.document_changed(document)

    # -- the common control API ----------------------------------------------------------

    def place_order(self, order: BuyerOrder) -> str:
        """A buyer at the counter: an invoice at the branch (409 beyond the shelf's stock)."""
        quantities: dict[str, int] = {}
        for line in order.lines:
            quantities[line.sku] = quantities.get(line.sku, 0) + line.quantity
        branch = order.branch_id if isinstance(order, PosBuyerOrder) else None
        return self.counter_sale(quantities, branch_id=branch, customer=order.customer)

    def cancel_order(self, order_id: str) -> None:
        """Cancel the order or invoice with code ``order_id``."""
        self.cancel_document(self.shop.document_by_code(order_id))

    def advance_order(self, order_id: str) -> str:
        """A draft order is invoiced (-> completed); an invoice in delivery is delivered."""
        document = self.shop.document_by_code(order_id)
        if document.kind == "order" and document.status == ORDER_DRAFT:
            self.invoice_order(document)
        elif document.kind == "invoice" and document.status == INVOICE_DELIVERING:
            document.status = INVOICE_COMPLETED
            document.modified = self.clock.now()
            self.document_changed(document)
        return str(document.status)

    def refund_order(self, order_id: str, refund: RefundRequest) -> Decimal:
        """The customer brings goods back to the store: a return (``TH...``) against the
        sale's completed invoice (an order's own invoice), the goods on hand again at its
        branch (``stock.update``); KiotViet has no return webhook [?], so none is sent for
        the return itself. The amount paid back."""
        with self.lock:
            document = self.shop.document_by_code(order_id)
            if document.kind == "order":
                made = [i for i in self.shop.invoices.values() if i.order_id == document.id]
                if not made:
                    raise NotRefundable(f"{document.code} has no invoice to return against")
                document = max(made, key=lambda i: (i.modified, i.id))
            done = take_back(
                self.shop, document, refund, earlier=self.returns, now=self.clock.now()
            )
            self.returns.append(done)
            for line in done.lines:
                self.stock_changed(self.shop.product(line.product_id))
            return done.paid_back

    def orders_state(self) -> list[dict[str, Any]]:
        """Every order and invoice, oldest first, as the API shows them."""
        documents = sorted(
            (*self.shop.orders.values(), *self.shop.invoices.values()),
            key=lambda d: (d.created, d.id),
        )
        return [{**d.as_json(self.shop), "kind": d.kind, "id": d.code} for d in documents]

    def timestamp(self) -> str:
        """The sandbox clock as a KiotViet list ``timestamp``."""
        return format_offset(self.clock.now())
