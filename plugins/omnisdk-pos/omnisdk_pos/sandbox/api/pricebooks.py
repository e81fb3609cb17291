"""Price books (bảng giá): ``GET /pricebooks``, ``GET /pricebooks/{id}`` and
``POST /pricebooks/detail``.

As far as KiotViet's public API documents them, price books are read and their prices
written, but a book is neither created nor dated nor switched on or off through the API
(the merchant does that in KiotViet), and a product is never taken off a book: a promotion
ends by writing the base price back into it. KiotViet's page for ``POST /pricebooks/detail``
was not found; the one public client that calls it (a TypeScript SDK) sends
``{"priceBookId": ..., "details": [{"productId", "price"}]}``, which the channel sends too.
The sandbox takes that, and also the ``pricebookDetails`` list an earlier guess used and a
``productCode`` instead of the id; keys in any case, as KiotViet reads them; prices in whole
đồng.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from omnisdk.testing.api import route
from omnisdk_pos.sandbox.api.gateway import KiotVietApi, KiotVietError, Query, read_body

__all__ = ["MAX_PRICE_BOOK_DETAILS", "PriceBooksApi"]

MAX_PRICE_BOOK_DETAILS = 100
"""The most lines one ``POST /pricebooks/detail`` takes in the sandbox (not published)."""


class PriceBooksApi(KiotVietApi):
    """Price books and their prices."""

    @route("GET", "/pricebooks")
    async def list_books(self, request: Request) -> Response:
        """Every price book (paged)."""
        query = Query(request)
        self.sandbox.note_operation(request, "pricebooks.read")
        with self.sandbox.lock:
            books = sorted(self.sandbox.shop.price_books.values(), key=lambda b: b.id)
            return self.listing(query, [book.as_json() for book in books])

    @route("GET", "/pricebooks/{book_id:int}")
    async def book(self, request: Request) -> Response:
        """The prices of one book (paged): ``productId``, ``productCode``, ``price``."""
        query = Query(request)
        with self.sandbox.lock:
            shop = self.sandbox.shop
            book = shop.price_books.get(request.path_params["book_id"])
            if book is None:
                raise KiotVietError(404, "NotFound", "Không tìm thấy bảng giá")
            rows = [
                {"productId": pid, "productCode": shop.product(pid).code, "price": price}
                for pid, price in sorted(book.prices.items())
            ]
            return self.listing(query, rows)

    @route("POST", "/pricebooks/detail")
    async def update_details(self, request: Request) -> Response:
        """Set the price of each listed product in one book (added when not in it yet)."""
        body = await read_body(request)
        self.sandbox.note_operation(request, "pricebooks.write")
        if not isinstance(body, dict):
            raise KiotVietError(400, "BadRequest", "Dữ liệu không hợp lệ")
        keys = {str(key).lower(): value for key, value in body.items()}
        lines = keys.get("details", keys.get("pricebookdetails"))
        if not isinstance(lines, list) or not lines:
            raise KiotVietError(400, "BadRequest", "details không được để trống")
        if len(lines) > MAX_PRICE_BOOK_DETAILS:
            raise KiotVietError(
                400, "BadRequest", f"Tối đa {MAX_PRICE_BOOK_DETAILS} dòng mỗi lần cập nhật"
            )
        with self.sandbox.lock:
            shop = self.sandbox.shop
            book = shop.price_books.get(_int(keys.get("pricebookid"), "priceBookId"))
            if book is None:
                raise KiotVietError(404, "NotFound", "Không tìm thấy bảng giá")
            changes: dict[int, Decimal] = {}
            for line in lines:
                if not isinstance(line, dict):
                    raise KiotVietError(400, "BadRequest", "Dữ liệu không hợp lệ")
                fields = {str(key).lower(): value for key, value in line.items()}
                if fields.get("productid") is not None:
                    product = shop.products.get(_int(fields["productid"], "productId"))
                else:
                    product = shop.by_code(str(fields.get("productcode") or ""))
                if product is None:
                    raise KiotVietError(
                        400, "BadRequest", f"Không tìm thấy hàng hóa {fields.get('productcode')}"
                    )
                changes[product.id] = _price(fields.get("price"))
            book.prices.update(changes)
            return self.answer({"message": "Cập nhật thành công"})


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise KiotVietError(400, "BadRequest", f"{name} phải là số")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise KiotVietError(400, "BadRequest", f"{name} phải là số") from None


def _price(value: Any) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise KiotVietError(400, "BadRequest", "price phải là số") from None
    if not number.is_finite() or number < 0 or number != number.to_integral_value():
        raise KiotVietError(400, "BadRequest", "price phải là số nguyên không âm (VND)")
    return number
