"""Branches, products (variants and units are products), stock and the shop's lookups.

``GET /branches``, ``GET /products`` (``includeInventory``, ``branchIds``,
``masterProductId``, ``lastModifiedFrom``, ``includeRemoveIds`` -> ``removeId``),
``GET /products/{id}``, ``GET /products/code/{code}``, ``PUT /products/{id}`` (an
``inventories[].onHand`` **sets** the count at that branch), ``PUT /listupdatedproducts``
(``{"listProducts": [...]}``, at most 100), ``GET /productOnHands``, ``GET /settings`` and
``GET /salechannel``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from omnisdk.testing.api import route
from omnisdk_pos.sandbox.api.gateway import KiotVietApi, KiotVietError, Query, read_body
from omnisdk_pos.sandbox.state.shop import Product
from omnisdk_pos.timefmt import format_local

__all__ = ["MAX_LIST_UPDATE", "CatalogApi"]

MAX_LIST_UPDATE = 100
"""The most products one ``/listupdatedproducts`` call takes (KiotViet does not publish it)."""


def _decimal(value: Any, name: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise KiotVietError(400, "BadRequest", f"{name} phải là số") from None
    if not number.is_finite():
        raise KiotVietError(400, "BadRequest", f"{name} phải là số")
    return number


class CatalogApi(KiotVietApi):
    """Branches, products, stock and lookups."""

    @route("GET", "/branches")
    async def branches(self, request: Request) -> Response:
        """Every branch (paged)."""
        query = Query(request)
        since = query.time("lastModifiedFrom")
        with self.sandbox.lock:
            shop = self.sandbox.shop
            rows = [
                b.as_json(shop.retailer_id)
                for b in shop.branches.values()
                if since is None or b.modified >= since
            ]
            return self.listing(query, rows)

    def _category_json(self, row: dict[str, Any]) -> dict[str, Any]:
        body = {
            "categoryId": row["categoryId"],
            "categoryName": row["categoryName"],
            "retailerId": self.sandbox.shop.retailer_id,
            "createdDate": format_local(row["created"]),
            "modifiedDate": format_local(row["modified"]),
        }
        if row.get("parentId") is not None:
            body["parentId"] = row["parentId"]
        return body

    @route("GET", "/categories")
    async def categories(self, request: Request) -> Response:
        """Categories, flat or (``hierachicalData=true``, KiotViet's spelling) as a tree."""
        query = Query(request)
        with self.sandbox.lock:
            rows = [self._category_json(r) for r in self.sandbox.shop.categories.values()]
            if not query.flag("hierachicalData"):
                return self.listing(query, rows)
            by_parent: dict[Any, list[dict[str, Any]]] = {}
            for row in rows:
                by_parent.setdefault(row.get("parentId"), []).append(row)

            def tree(parent: Any) -> list[dict[str, Any]]:
                nodes = []
                for row in by_parent.get(parent, []):
                    children = tree(row["categoryId"])
                    nodes.append({**row, **({"children": children} if children else {})})
                return nodes

            return self.listing(query, tree(None))

    @route("POST", "/categories")
    async def add_category(self, request: Request) -> Response:
        """A category (``categoryName`` <= 125 chars, optional ``parentId``; 3 levels)."""
        body = await read_body(request)
        name = str(body.get("categoryName") or "").strip()
        if not name or len(name) > 125:
            raise KiotVietError(400, "BadRequest", "categoryName phải có 1 đến 125 ký tự")
        with self.sandbox.lock:
            shop = self.sandbox.shop
            parent = body.get("parentId")
            depth = 1
            while parent is not None:
                found = shop.categories.get(int(parent))
                if found is None:
                    raise KiotVietError(400, "BadRequest", f"Nhóm cha {parent} không tồn tại")
                depth += 1
                parent = found.get("parentId")
            if depth > 3:
                raise KiotVietError(400, "BadRequest", "Nhóm hàng tối đa 3 cấp")
            now = self.sandbox.clock.now()
            category_id = shop.new_id(0)
            row = {
                "categoryId": category_id,
                "categoryName": name,
                "created": now,
                "modified": now,
                "parentId": body.get("parentId"),
            }
            shop.categories[category_id] = row
            return self.answer(
                {"message": "Tạo nhóm hàng thành công", "data": self._category_json(row)}
            )

    @route("GET", "/settings")
    async def settings(self, request: Request) -> Response:
        """The shop settings that turn writes into 400s."""
        with self.sandbox.lock:
            return self.answer(dict(self.sandbox.shop.settings))

    @route("GET", "/salechannel")
    async def sale_channels(self, request: Request) -> Response:
        """The shop's sale channels (direct, Facebook, the synced marketplaces)."""
        query = Query(request)
        with self.sandbox.lock:
            return self.listing(query, [dict(c) for c in self.sandbox.shop.sale_channels])

    def _products(self, query: Query) -> list[Product]:
        shop = self.sandbox.shop
        since = query.time("lastModifiedFrom")
        master = query.get("masterProductId")
        active = query.get("isActive")
        rows = sorted(shop.products.values(), key=lambda p: p.id)
        if since is not None:
            rows = [p for p in rows if p.modified >= since]
        if master:
            rows = [p for p in rows if str(p.master_product_id or p.id) == master]
        if active is not None:
            rows = [p for p in rows if p.active == (active.lower() == "true")]
        return rows

    def _product_json(self, product: Product, query: Query) -> dict[str, Any]:
        shop = self.sandbox.shop
        body = product.as_json(shop, inventory=query.flag("includeInventory"))
        if query.flag("includePricebook"):
            body["priceBooks"] = shop.price_books_json(product)
        branches = query.ints("branchIds")
        if branches and "inventories" in body:
            body["inventories"] = [i for i in body["inventories"] if i["branchId"] in branches]
        return body

    @route("GET", "/products")
    async def list_products(self, request: Request) -> Response:
        """Products, paged, oldest id first."""
        query = Query(request)
        self.sandbox.note_operation(request, "products.read")
        with self.sandbox.lock:
            products = self._products(query)
            page_rows = [self._product_json(p, query) for p in products]
            extra: dict[str, Any] = {}
            since = query.time("lastModifiedFrom")
            if query.flag("includeRemoveIds"):
                extra["removeId"] = [
                    pid
                    for pid, when in self.sandbox.shop.removed_products.items()
                    if since is None or when >= since
                ]
            return self.listing(query, page_rows, **extra)

    @route("GET", "/products/code/{code:path}")
    async def product_by_code(self, request: Request) -> Response:
        """One product by its code (SKU)."""
        with self.sandbox.lock:
            found = self.sandbox.shop.by_code(request.path_params["code"])
            if found is None:
                raise KiotVietError(404, "NotFound", "Không tìm thấy hàng hóa")
            return self.answer(found.as_json(self.sandbox.shop))

    @route("GET", "/products/{product_id:int}")
    async def product(self, request: Request) -> Response:
        """One product by id."""
        with self.sandbox.lock:
            found = self.sandbox.shop.product(request.path_params["product_id"])
            return self.answer(found.as_json(self.sandbox.shop))

    def _update(self, product: Product, body: dict[str, Any]) -> bool:
        """Apply one product update; True when stock was set."""
        sandbox = self.sandbox
        shop = sandbox.shop
        now = sandbox.clock.now()
        stocked = False
        if "basePrice" in body:
            price = _decimal(body["basePrice"], "basePrice")
            if price < 0 or price != price.to_integral_value():
                raise KiotVietError(400, "BadRequest", "basePrice phải là số nguyên không âm (VND)")
            product.price = price
            product.modified = now
        if "name" in body and str(body["name"]).strip():
            product.name = str(body["name"]).strip()
            product.modified = now
        inventories = body.get("inventories") or []
        if not isinstance(inventories, list):
            raise KiotVietError(400, "BadRequest", "inventories phải là danh sách")
        for entry in inventories:
            if not isinstance(entry, dict) or "branchId" not in entry:
                raise KiotVietError(400, "BadRequest", "inventories[] cần branchId")
            branch = shop.branch(int(entry["branchId"]))
            if "onHand" in entry or "onhand" in entry:
                value = _decimal(entry.get("onHand", entry.get("onhand")), "onHand")
                shop.set_on_hand(product, branch.id, value, now)
                stocked = True
            if "cost" in entry:
                shop.inventory(product, branch.id).cost = _decimal(entry["cost"], "cost")
        return stocked

    def _after_update(self, products: list[Product], stocked: bool) -> None:
        for product in products:
            if stocked:
                self.sandbox.stock_changed(product)
            self.sandbox.product_changed(product)

    @route("PUT", "/products/{product_id:int}")
    async def update_product(self, request: Request) -> Response:
        """Update one product; ``inventories[].onHand`` sets its stock at a branch."""
        body = await read_body(request)
        with self.sandbox.lock:
            product = self.sandbox.shop.product(request.path_params["product_id"])
            stocked = self._update(product, body)
            operation = "stock.write" if stocked else "price.write" if "basePrice" in body else None
            if operation:
                self.sandbox.note_operation(request, operation, items=1)
            self._after_update([product], stocked)
            return self.answer(product.as_json(self.sandbox.shop))

    @route("PUT", "/listupdatedproducts")
    async def update_products(self, request: Request) -> Response:
        """Update up to 100 products at once (all or none: each is checked first)."""
        body = await read_body(request)
        entries = body.get("listProducts")
        if not isinstance(entries, list) or not entries:
            raise KiotVietError(400, "BadRequest", "listProducts phải là danh sách không rỗng")
        if len(entries) > MAX_LIST_UPDATE:
            raise KiotVietError(400, "BadRequest", f"Tối đa {MAX_LIST_UPDATE} hàng hóa mỗi lần")
        with self.sandbox.lock:
            shop = self.sandbox.shop
            resolved: list[tuple[Product, dict[str, Any]]] = []
            for index, entry in enumerate(entries):
                if not isinstance(entry, dict):
                    raise KiotVietError(
                        400, "BadRequest", f"listProducts[{index}] phải là đối tượng"
                    )
                product = (
                    shop.products.get(int(entry["id"]))
                    if entry.get("id") is not None
                    else shop.by_code(str(entry.get("code") or ""))
                )
                if product is None:
                    raise KiotVietError(
                        404, "NotFound", f"listProducts[{index}]: không tìm thấy hàng hóa"
                    )
                resolved.append((product, entry))
            stocked_any = any("inventories" in entry for _, entry in resolved)
            priced_any = any("basePrice" in entry for _, entry in resolved)
            operation = "stock.write" if stocked_any else "price.write" if priced_any else None
            if operation:
                self.sandbox.note_operation(request, operation, items=len(resolved))
            results = []
            for product, entry in resolved:
                stocked = self._update(product, entry)
                self._after_update([product], stocked)
                results.append(product.as_json(shop))
            return self.answer({"data": results})

    def _create(self, entries: list[Any]) -> list[Product]:
        sandbox = self.sandbox
        created = []
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise KiotVietError(400, "BadRequest", f"listProducts[{index}] phải là đối tượng")
            created.append(sandbox.shop.add_product(entry, sandbox.clock.now()))
        for product in created:
            if product.inventories:
                sandbox.stock_changed(product)
            sandbox.product_changed(product)
        return created

    @route("POST", "/products")
    async def add_product(self, request: Request) -> Response:
        """Create one product (a variant: ``masterProductId``; a unit: ``masterUnitId``)."""
        body = await read_body(request)
        with self.sandbox.lock:
            [product] = self._create([body])
            return self.answer(product.as_json(self.sandbox.shop))

    @route("POST", "/listaddproducts")
    async def add_products(self, request: Request) -> Response:
        """Create up to 100 products: ``{"listProducts": [...]}``."""
        body = await read_body(request)
        entries = body.get("listProducts")
        if not isinstance(entries, list) or not entries:
            raise KiotVietError(400, "BadRequest", "listProducts phải là danh sách không rỗng")
        if len(entries) > MAX_LIST_UPDATE:
            raise KiotVietError(400, "BadRequest", f"Tối đa {MAX_LIST_UPDATE} hàng hóa mỗi lần")
        with self.sandbox.lock:
            created = self._create(entries)
            return self.answer({"data": [p.as_json(self.sandbox.shop) for p in created]})

    @route("DELETE", "/products/{product_id:int}")
    async def delete_product(self, request: Request) -> Response:
        """Delete a product (listed in ``removeId`` with ``includeRemoveIds``)."""
        with self.sandbox.lock:
            shop = self.sandbox.shop
            product = shop.product(request.path_params["product_id"])
            if any(
                p.master_unit_id == product.id or p.master_product_id == product.id
                for p in shop.products.values()
            ):
                raise KiotVietError(400, "BadRequest", "Hàng hóa còn hàng cùng loại hoặc đơn vị")
            del shop.products[product.id]
            shop.removed_products[product.id] = self.sandbox.clock.now()
            self.sandbox.notify_removed("product.delete", [product.id])
            return self.answer({"message": "Xóa dữ liệu thành công"})

    @route("GET", "/productOnHands")
    async def on_hands(self, request: Request) -> Response:
        """Stock only, every product: the cheapest poll."""
        query = Query(request)
        self.sandbox.note_operation(request, "stock.read")
        with self.sandbox.lock:
            shop = self.sandbox.shop
            branches = query.ints("branchIds")
            rows = []
            for product in self._products(query):
                inventories = [
                    {"branchId": i["branchId"], "onHand": i["onHand"], "reserved": i["reserved"]}
                    for i in shop.inventories_json(product)
                    if not branches or i["branchId"] in branches
                ]
                rows.append(
                    {
                        "id": product.id,
                        "code": product.code,
                        "modifiedDate": product.as_json(shop, inventory=False)["modifiedDate"],
                        "inventories": inventories,
                    }
                )
            return self.listing(query, rows)
