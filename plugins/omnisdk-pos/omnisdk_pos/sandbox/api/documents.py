"""Orders (đặt hàng: reserve stock) and invoices (hóa đơn: take it), and customers.

``GET /orders`` and ``GET /invoices`` (``branchIds``, ``status``, ``lastModifiedFrom``,
``orderId``, ``saleChannelId``, paging), one by id or ``/code/{code}``, ``POST`` to create
(``makeInvoice: true`` on an order also invoices it; ``orderId`` on an invoice completes
that order), ``DELETE`` to cancel. Customers: ``GET /customers`` (``contactNumber`` matches
loosely, as KiotViet does), by id or code, ``POST /customers`` answering
``{"message", "data": {...}}``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from omnisdk.testing.api import route
from omnisdk_pos.sandbox.api.gateway import KiotVietApi, KiotVietError, Query, read_body
from omnisdk_pos.sandbox.state.shop import Document

__all__ = ["CustomersApi", "DocumentsApi"]


class DocumentsApi(KiotVietApi):
    """Orders and invoices."""

    def _list(self, request: Request, kind: str) -> Response:
        query = Query(request)
        self.sandbox.note_operation(request, "orders.read")
        with self.sandbox.lock:
            shop = self.sandbox.shop
            documents = shop.orders if kind == "order" else shop.invoices
            since = query.time("lastModifiedFrom")
            branches = query.ints("branchIds")
            statuses = query.ints("status")
            order_id = query.get("orderId")
            channel = query.get("saleChannelId")
            rows = sorted(documents.values(), key=lambda d: (d.modified, d.id))
            rows = [
                d
                for d in rows
                if (since is None or d.modified >= since)
                and (not branches or d.branch_id in branches)
                and (not statuses or d.status in statuses)
                and (order_id is None or str(d.order_id) == order_id)
                and (channel is None or str(d.sale_channel_id) == channel)
            ]
            return self.listing(query, [d.as_json(shop) for d in rows])

    def _one(self, kind: str, key: str, *, by_code: bool) -> Document:
        shop = self.sandbox.shop
        documents = shop.orders if kind == "order" else shop.invoices
        if by_code:
            found = next((d for d in documents.values() if d.code.upper() == key.upper()), None)
        else:
            found = documents.get(int(key)) if key.isdigit() else None
        if found is None:
            label = "đơn đặt hàng" if kind == "order" else "hóa đơn"
            raise KiotVietError(404, "NotFound", f"Không tìm thấy {label} {key}")
        return found

    @route("GET", "/orders")
    async def list_orders(self, request: Request) -> Response:
        """Orders, oldest change first."""
        return self._list(request, "order")

    @route("GET", "/invoices")
    async def list_invoices(self, request: Request) -> Response:
        """Invoices, oldest change first."""
        return self._list(request, "invoice")

    @route("GET", "/orders/code/{code:path}")
    async def order_by_code(self, request: Request) -> Response:
        """One order by code."""
        with self.sandbox.lock:
            found = self._one("order", request.path_params["code"], by_code=True)
            return self.answer(found.as_json(self.sandbox.shop))

    @route("GET", "/invoices/code/{code:path}")
    async def invoice_by_code(self, request: Request) -> Response:
        """One invoice by code."""
        with self.sandbox.lock:
            found = self._one("invoice", request.path_params["code"], by_code=True)
            return self.answer(found.as_json(self.sandbox.shop))

    @route("GET", "/orders/{doc_id}")
    async def order(self, request: Request) -> Response:
        """One order by id."""
        with self.sandbox.lock:
            found = self._one("order", request.path_params["doc_id"], by_code=False)
            return self.answer(found.as_json(self.sandbox.shop))

    @route("GET", "/invoices/{doc_id}")
    async def invoice(self, request: Request) -> Response:
        """One invoice by id."""
        with self.sandbox.lock:
            found = self._one("invoice", request.path_params["doc_id"], by_code=False)
            return self.answer(found.as_json(self.sandbox.shop))

    def _customer_of(self, body: dict[str, Any]) -> int | None:
        shop = self.sandbox.shop
        if body.get("customerId") is not None:
            customer_id = int(body["customerId"])
            if customer_id not in shop.customers:
                raise KiotVietError(404, "NotFound", f"Không tìm thấy khách hàng {customer_id}")
            return customer_id
        given = body.get("customer")
        if isinstance(given, dict) and given.get("name"):
            phone = given.get("contactNumber")
            found = shop.find_customer(str(phone)) if phone else None
            if found is None:
                found = shop.add_customer(given, self.sandbox.clock.now())
                self.sandbox.customer_changed(found)
            return found.id
        return None

    @route("POST", "/orders")
    async def create_order(self, request: Request) -> Response:
        """A sales order: reserves at its branch (``makeInvoice`` also invoices it)."""
        body = await read_body(request)
        sandbox = self.sandbox
        with sandbox.lock:
            shop = sandbox.shop
            branch = shop.branch(body.get("branchId"))
            lines = shop.lines_of(body.get("orderDetails") or [])
            order = shop.new_document(
                "order",
                lines,
                branch.id,
                sandbox.clock.now(),
                customer_id=self._customer_of(body),
                sale_channel_id=body.get("saleChannelId"),
                description=body.get("description"),
                delivery=body.get("orderDelivery") or None,
            )
            sandbox.document_changed(order)
            if body.get("makeInvoice") in (True, "true", "True"):
                sandbox.invoice_order(order)
            return self.answer(order.as_json(shop))

    @route("POST", "/invoices")
    async def create_invoice(self, request: Request) -> Response:
        """A sale: takes ``onHand`` at its branch (``orderId`` completes that order)."""
        body = await read_body(request)
        sandbox = self.sandbox
        with sandbox.lock:
            shop = sandbox.shop
            order_id = body.get("orderId")
            if order_id is not None:
                order = self._one("order", str(order_id), by_code=False)
                invoice = sandbox.invoice_order(order)
                return self.answer(invoice.as_json(shop))
            branch = shop.branch(body.get("branchId"))
            lines = shop.lines_of(body.get("invoiceDetails") or [])
            invoice = shop.new_document(
                "invoice",
                lines,
                branch.id,
                sandbox.clock.now(),
                customer_id=self._customer_of(body),
                sale_channel_id=body.get("saleChannelId"),
                description=body.get("description"),
                delivery=body.get("invoiceDelivery") or None,
            )
            sandbox.document_changed(invoice)
            return self.answer(invoice.as_json(shop))

    @route("DELETE", "/orders/{doc_id}")
    async def cancel_order(self, request: Request) -> Response:
        """Cancel an order: its reservation is released."""
        with self.sandbox.lock:
            order = self._one("order", request.path_params["doc_id"], by_code=False)
            self.sandbox.cancel_document(order)
            return self.answer({"message": "Xóa dữ liệu thành công"})

    @route("DELETE", "/invoices/{doc_id}")
    @route("DELETE", "/invoices")
    async def cancel_invoice(self, request: Request) -> Response:
        """Cancel an invoice (id in the path or, as the doc shows, in a body): stock comes back."""
        key = request.path_params.get("doc_id")
        if key is None:
            key = str((await read_body(request)).get("id") or "")
        with self.sandbox.lock:
            invoice = self._one("invoice", key, by_code=False)
            self.sandbox.cancel_document(invoice)
            return self.answer(invoice.as_json(self.sandbox.shop))


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


class CustomersApi(KiotVietApi):
    """Customers, found by phone."""

    @route("GET", "/customers")
    async def list_customers(self, request: Request) -> Response:
        """Customers (``contactNumber`` is a loose, contains-digits match)."""
        query = Query(request)
        with self.sandbox.lock:
            shop = self.sandbox.shop
            since = query.time("lastModifiedFrom")
            phone = _digits(query.get("contactNumber") or "")
            code = query.get("code")
            rows = sorted(shop.customers.values(), key=lambda c: (c.modified, c.id))
            rows = [
                c
                for c in rows
                if (since is None or c.modified >= since)
                and (not phone or phone[-9:] in _digits(c.phone or ""))
                and (code is None or c.code.upper() == code.upper())
            ]
            extra: dict[str, Any] = {}
            if query.flag("includeRemoveIds"):
                extra["removeId"] = [
                    cid
                    for cid, when in shop.removed_customers.items()
                    if since is None or when >= since
                ]
            return self.listing(query, [c.as_json(shop.retailer_id) for c in rows], **extra)

    @route("GET", "/customers/code/{code:path}")
    async def by_code(self, request: Request) -> Response:
        """One customer by code."""
        with self.sandbox.lock:
            shop = self.sandbox.shop
            code = request.path_params["code"].upper()
            found = next((c for c in shop.customers.values() if c.code.upper() == code), None)
            if found is None:
                raise KiotVietError(404, "NotFound", "Không tìm thấy khách hàng")
            return self.answer(found.as_json(shop.retailer_id))

    @route("GET", "/customers/{customer_id:int}")
    async def one(self, request: Request) -> Response:
        """One customer by id."""
        with self.sandbox.lock:
            shop = self.sandbox.shop
            found = shop.customers.get(request.path_params["customer_id"])
            if found is None:
                raise KiotVietError(404, "NotFound", "Không tìm thấy khách hàng")
            return self.answer(found.as_json(shop.retailer_id))

    @route("POST", "/customers")
    async def create(self, request: Request) -> Response:
        """Create a customer; the answer wraps it: ``{"message", "data"}``."""
        body = await read_body(request)
        with self.sandbox.lock:
            shop = self.sandbox.shop
            customer = shop.add_customer(body, self.sandbox.clock.now())
            self.sandbox.customer_changed(customer)
            return self.answer(
                {"message": "Tạo khách hàng thành công", "data": customer.as_json(shop.retailer_id)}
            )

    @route("PUT", "/customers/{customer_id:int}")
    async def update(self, request: Request) -> Response:
        """Change a customer."""
        body = await read_body(request)
        with self.sandbox.lock:
            shop = self.sandbox.shop
            found = shop.customers.get(request.path_params["customer_id"])
            if found is None:
                raise KiotVietError(404, "NotFound", "Không tìm thấy khách hàng")
            shop.update_customer(found, body, self.sandbox.clock.now())
            self.sandbox.customer_changed(found)
            return self.answer(found.as_json(shop.retailer_id))

    @route("DELETE", "/customers/{customer_id:int}")
    async def delete(self, request: Request) -> Response:
        """Delete a customer (listed in ``removeId`` with ``includeRemoveIds``)."""
        with self.sandbox.lock:
            shop = self.sandbox.shop
            if shop.customers.pop(request.path_params["customer_id"], None) is None:
                raise KiotVietError(404, "NotFound", "Không tìm thấy khách hàng")
            shop.removed_customers[request.path_params["customer_id"]] = self.sandbox.clock.now()
            return self.answer({"message": "Xóa dữ liệu thành công"})

    @route("POST", "/listaddcutomers")  # sic: KiotViet's own spelling
    async def add_many(self, request: Request) -> Response:
        """Create several customers: ``{"listCustomers": [...]}`` (all or none)."""
        body = await read_body(request)
        entries = body.get("listCustomers")
        if not isinstance(entries, list) or not entries:
            raise KiotVietError(400, "BadRequest", "listCustomers phải là danh sách không rỗng")
        with self.sandbox.lock:
            shop = self.sandbox.shop
            now = self.sandbox.clock.now()
            if not all(isinstance(e, dict) and str(e.get("name") or "").strip() for e in entries):
                raise KiotVietError(400, "BadRequest", "Tên khách hàng không được để trống")
            phones = [
                str(e.get("contactNumber"))
                for e in entries
                if isinstance(e, dict) and e.get("contactNumber")
            ]
            if len(set(phones)) != len(phones) or any(shop.find_customer(p) for p in phones):
                raise KiotVietError(400, "BadRequest", "Số điện thoại đã tồn tại")
            made = [shop.add_customer(dict(e), now) for e in entries]
            for customer in made:
                self.sandbox.customer_changed(customer)
            return self.answer({"data": [c.as_json(shop.retailer_id) for c in made]})

    @route("PUT", "/listupdatecustomers")
    async def update_many(self, request: Request) -> Response:
        """Change several customers: ``{"listCustomers": [{"id", ...}]}``."""
        body = await read_body(request)
        entries = body.get("listCustomers")
        if not isinstance(entries, list) or not entries:
            raise KiotVietError(400, "BadRequest", "listCustomers phải là danh sách không rỗng")
        with self.sandbox.lock:
            shop = self.sandbox.shop
            found = []
            for index, entry in enumerate(entries):
                customer = (
                    shop.customers.get(int(entry.get("id") or 0))
                    if isinstance(entry, dict)
                    else None
                )
                if customer is None:
                    raise KiotVietError(404, "NotFound", f"listCustomers[{index}]: không tìm thấy")
                found.append((customer, entry))
            now = self.sandbox.clock.now()
            for customer, entry in found:
                shop.update_customer(customer, entry, now)
                self.sandbox.customer_changed(customer)
            return self.answer({"data": [c.as_json(shop.retailer_id) for c, _ in found]})
