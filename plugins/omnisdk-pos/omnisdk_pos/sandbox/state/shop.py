"""The KiotViet shop in memory: branches, products (variants and units are products), the
stock ledger per (product, branch), orders, invoices and customers. Nothing here speaks HTTP.

Stock follows KiotViet's documents: an invoice takes ``onHand`` at its branch, an order adds
to ``reserved`` there (released when it completes or is cancelled), a cancelled invoice puts
``onHand`` back, a product update's ``inventories[].onHand`` sets the count. Sellable is
``onHand - reserved``; with ``AllowSellWhenOutStock`` off a sale below zero is refused.
Every method is called with the sandbox's lock held.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from omnisdk.testing.sandbox import OutOfStock, SandboxError, UnknownObject
from omnisdk_pos.timefmt import VN_TZ, format_local

__all__ = [
    "DEFAULT_BRANCHES",
    "DEFAULT_PRICE_BOOK",
    "DEFAULT_SALE_CHANNELS",
    "Branch",
    "Customer",
    "Document",
    "Line",
    "PriceBook",
    "Product",
    "Shop",
    "ShopRefusal",
]

DEFAULT_BRANCHES: tuple[dict[str, Any], ...] = (
    {
        "id": 20001,
        "branchName": "Chi nhánh Quận 1",
        "branchCode": "CN01",
        "address": "12 Lê Lợi",
        "locationName": "Hồ Chí Minh - Quận 1",
        "wardName": "Phường Bến Nghé",
        "contactNumber": "0901234567",
    },
    {
        "id": 20002,
        "branchName": "Chi nhánh Hà Nội",
        "branchCode": "CN02",
        "address": "35 Hàng Bài",
        "locationName": "Hà Nội - Quận Hoàn Kiếm",
        "wardName": "Phường Hàng Bài",
        "contactNumber": "0243 826 1234",
    },
)
"""The shop's two branches (stock is seeded into the first)."""

DEFAULT_SALE_CHANNELS: tuple[dict[str, Any], ...] = (
    {"id": 1, "name": "Bán trực tiếp", "isActive": True},
    {"id": 2, "name": "Facebook", "isActive": True},
    {"id": 1000000101, "name": "Shopee", "isActive": True},
    {"id": 1000000102, "name": "Lazada", "isActive": True},
    {"id": 1000000103, "name": "TikTok Shop", "isActive": True},
)
"""The sale channels a shop has: direct sales, and the marketplaces KiotViet syncs itself."""

MARKETPLACE_CODES = {1000000101: "SPE", 1000000102: "LZD", 1000000103: "TTS"}
"""The code infix of a marketplace-synced document (``HDSPE_...``) per sale channel."""

INVOICE_COMPLETED, INVOICE_CANCELLED, INVOICE_DELIVERING, INVOICE_UNDELIVERABLE = 1, 2, 3, 5
ORDER_DRAFT, ORDER_PROCESSING, ORDER_COMPLETED, ORDER_CANCELLED = 1, 2, 3, 4
INVOICE_STATUS_TEXT = {1: "Hoàn thành", 2: "Đã hủy", 3: "Đang xử lý", 5: "Không giao được"}
ORDER_STATUS_TEXT = {1: "Phiếu tạm", 2: "Đang giao hàng", 3: "Hoàn thành", 4: "Đã hủy"}


class ShopRefusal(SandboxError):
    """A business rule refused the call (HTTP 400 in KiotViet's envelope)."""

    status = 400
    code = "BadRequest"


@dataclass
class Branch:
    """A branch (chi nhánh): a store that holds stock and sells at its counter."""

    id: int
    fields: dict[str, Any]
    created: datetime
    modified: datetime

    def as_json(self, retailer_id: int) -> dict[str, Any]:
        """The branch as ``GET /branches`` shows it."""
        return {
            "id": self.id,
            **self.fields,
            "retailerId": retailer_id,
            "createdDate": format_local(self.created),
            "modifiedDate": format_local(self.modified),
        }


@dataclass
class Inventory:
    """Stock of one product at one branch."""

    on_hand: Decimal = Decimal(0)
    reserved: Decimal = Decimal(0)
    cost: Decimal = Decimal(0)


@dataclass
class Product:
    """One KiotViet product: a variant (``masterProductId``) or a selling unit
    (``masterUnitId``, ``conversionValue``) is a product of its own."""

    id: int
    code: str
    name: str
    price: Decimal
    created: datetime
    modified: datetime
    master_product_id: int | None = None
    master_unit_id: int | None = None
    conversion: Decimal = Decimal(1)
    unit: str = "Cái"
    attributes: list[tuple[str, str]] = field(default_factory=list)
    barcode: str | None = None
    category: tuple[int, str] = (3001, "Hàng hóa")
    weight: Decimal | None = None
    active: bool = True
    has_variants: bool = False
    inventories: dict[int, Inventory] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        """Name and attribute values joined by " - " (as KiotViet's ``fullName``)."""
        return " - ".join([self.name, *(value for _, value in self.attributes)])

    def as_json(self, shop: Shop, *, inventory: bool = True) -> dict[str, Any]:
        """The product as ``GET /products`` shows it (nulls omitted)."""
        body: dict[str, Any] = {
            "id": self.id,
            "code": self.code,
            "retailerId": shop.retailer_id,
            "name": self.name,
            "fullName": self.full_name,
            "type": 2,
            "categoryId": self.category[0],
            "categoryName": self.category[1],
            "allowsSale": True,
            "isActive": self.active,
            "hasVariants": self.has_variants,
            "unit": self.unit,
            "conversionValue": self.conversion,
            "basePrice": self.price,
            "createdDate": format_local(self.created),
            "modifiedDate": format_local(self.modified),
        }
        if self.barcode:
            body["barCode"] = self.barcode
        if self.weight is not None:
            body["weight"] = self.weight
        if self.master_product_id is not None:
            body["masterProductId"] = self.master_product_id
        if self.master_unit_id is not None:
            body["masterUnitId"] = self.master_unit_id
        if self.attributes:
            body["attributes"] = [
                {"productId": self.id, "attributeName": name, "attributeValue": value}
                for name, value in self.attributes
            ]
        units = shop.units_of(self)
        if units:
            body["units"] = [
                {
                    "id": other.id,
                    "code": other.code,
                    "unit": other.unit,
                    "conversionValue": other.conversion,
                    "basePrice": other.price,
                }
                for other in units
            ]
        if inventory:
            body["inventories"] = shop.inventories_json(self)
        return body


@dataclass
class Line:
    """One line of an order or invoice."""

    product_id: int
    code: str
    name: str
    quantity: Decimal
    price: Decimal
    discount: Decimal = Decimal(0)

    def as_json(self) -> dict[str, Any]:
        """The line as the documents show it."""
        return {
            "productId": self.product_id,
            "productCode": self.code,
            "productName": self.name,
            "quantity": self.quantity,
            "price": self.price,
            "discount": self.discount,
        }


@dataclass
class Customer:
    """A customer, keyed in practice by phone (``contactNumber``)."""

    id: int
    code: str
    name: str
    phone: str | None
    created: datetime
    modified: datetime
    email: str | None = None
    address: str | None = None
    location_name: str | None = None
    ward_name: str | None = None
    branch_id: int | None = None
    gender: bool | None = None

    def as_json(self, retailer_id: int) -> dict[str, Any]:
        """The customer as ``GET /customers`` shows it (nulls omitted)."""
        body: dict[str, Any] = {
            "id": self.id,
            "code": self.code,
            "name": self.name,
            "retailerId": retailer_id,
            "createdDate": format_local(self.created),
            "modifiedDate": format_local(self.modified),
            "debt": 0,
        }
        optional = {
            "contactNumber": self.phone,
            "email": self.email,
            "address": self.address,
            "locationName": self.location_name,
            "wardName": self.ward_name,
            "branchId": self.branch_id,
            "gender": self.gender,
        }
        body.update({key: value for key, value in optional.items() if value is not None})
        return body


@dataclass
class Document:
    """An order (đặt hàng, reserves stock) or an invoice (hóa đơn, takes it)."""

    kind: str
    id: int
    code: str
    branch_id: int
    status: int
    lines: list[Line]
    purchased: datetime
    created: datetime
    modified: datetime
    customer_id: int | None = None
    order_id: int | None = None
    sale_channel_id: int | None = None
    description: str | None = None
    delivery: dict[str, Any] | None = None
    discount: Decimal = Decimal(0)

    @property
    def total(self) -> Decimal:
        """The lines' total less the document discount."""
        gross = sum((ln.price * ln.quantity - ln.discount for ln in self.lines), Decimal(0))
        return gross - self.discount

    def as_json(self, shop: Shop) -> dict[str, Any]:
        """The document as ``GET /orders`` or ``GET /invoices`` shows it (nulls omitted)."""
        branch = shop.branches[self.branch_id]
        texts = ORDER_STATUS_TEXT if self.kind == "order" else INVOICE_STATUS_TEXT
        body: dict[str, Any] = {
            "id": self.id,
            "code": self.code,
            "purchaseDate": format_local(self.purchased),
            "branchId": self.branch_id,
            "branchName": branch.fields["branchName"],
            "soldByName": "Admin",
            "retailerId": shop.retailer_id,
            "total": self.total,
            "totalPayment": self.total if self.kind == "invoice" else Decimal(0),
            "discount": self.discount,
            "status": self.status,
            "statusValue": texts.get(self.status, str(self.status)),
            "createdDate": format_local(self.created),
            "modifiedDate": format_local(self.modified),
        }
        if self.customer_id is not None:
            customer = shop.customers[self.customer_id]
            body.update(
                customerId=customer.id, customerCode=customer.code, customerName=customer.name
            )
        if self.sale_channel_id is not None:
            body["saleChannelId"] = self.sale_channel_id
        if self.description:
            body["description"] = self.description
        details = [line.as_json() for line in self.lines]
        if self.kind == "order":
            body["orderDetails"] = details
            if self.delivery:
                body["orderDelivery"] = dict(self.delivery)
        else:
            body["invoiceDetails"] = details
            body["uuid"] = f"{self.id:08x}-0000-4000-8000-{self.id:012x}"
            if self.order_id is not None:
                order = shop.orders[self.order_id]
                body.update(orderId=order.id, orderCode=order.code)
            if self.delivery:
                body["invoiceDelivery"] = dict(self.delivery)
            body["payments"] = [
                {
                    "id": self.id * 10,
                    "code": f"TT{self.id:06d}",
                    "amount": self.total,
                    "method": "Cash",
                    "status": 0,
                    "transDate": format_local(self.purchased),
                }
            ]
        return body


@dataclass
class PriceBook:
    """A price book (bảng giá): dated prices of some products, made by the merchant in
    KiotViet (the public API reads them and writes their prices, but cannot create one)."""

    id: int
    name: str
    start: datetime
    end: datetime
    active: bool = True
    prices: dict[int, Decimal] = field(default_factory=dict)

    def applies(self, now: datetime) -> bool:
        """True while the book is switched on and ``now`` is within its dates."""
        return self.active and self.start <= now < self.end

    def as_json(self) -> dict[str, Any]:
        """The book as ``GET /pricebooks`` lists it."""
        return {
            "id": self.id,
            "name": self.name,
            "isActive": self.active,
            "isGlobal": True,
            "startDate": format_local(self.start),
            "endDate": format_local(self.end),
            "forAllCusGroup": True,
            "forAllUser": True,
        }


DEFAULT_PRICE_BOOK = 900001
"""The id of the price book a fresh sandbox holds, as a merchant would create one for
promotions ("Khuyến mãi", switched on, dated 2020 to 2099)."""


class Shop:
    """The shop's data and the rules that change it."""

    def __init__(self, *, retailer_id: int, rng: random.Random, now: datetime) -> None:
        self.retailer_id = retailer_id
        self.rng = rng
        self.branches: dict[int, Branch] = {
            int(b["id"]): Branch(int(b["id"]), {k: v for k, v in b.items() if k != "id"}, now, now)
            for b in DEFAULT_BRANCHES
        }
        self.sale_channels = [dict(c) for c in DEFAULT_SALE_CHANNELS]
        self.settings: dict[str, bool] = {
            "AllowOrderWhenOutStock": False,
            "AllowSellWhenOutStock": False,
            "AllowSellWhenOrderOutStock": False,
            "ManagerCustomerByBranch": False,
        }
        self.products: dict[int, Product] = {}
        self.customers: dict[int, Customer] = {}
        self.orders: dict[int, Document] = {}
        self.invoices: dict[int, Document] = {}
        self.removed_products: dict[int, datetime] = {}
        self.removed_customers: dict[int, datetime] = {}
        self.categories: dict[int, dict[str, Any]] = {
            3001: {"categoryId": 3001, "categoryName": "Hàng hóa", "created": now, "modified": now}
        }
        self._counters: dict[str, int] = {}
        self._next_id = 1_000_001
        self.price_books: dict[int, PriceBook] = {
            DEFAULT_PRICE_BOOK: PriceBook(
                DEFAULT_PRICE_BOOK,
                "Khuyến mãi",
                datetime(2020, 1, 1, tzinfo=VN_TZ),
                datetime(2099, 12, 31, 23, 59, tzinfo=VN_TZ),
            )
        }

    # -- ids and codes -------------------------------------------------------------------

    def new_id(self, base: int) -> int:
        """A large, increasing id (KiotViet's ids are 7-9 digits)."""
        self._next_id += 1 + self.rng.randrange(7)
        return base + self._next_id

    def new_code(self, prefix: str) -> str:
        """The next code of ``prefix`` (``HD000001``, ``DHSPE_000001``...)."""
        self._counters[prefix] = self._counters.get(prefix, 0) + 1
        return f"{prefix}{self._counters[prefix]:06d}"

    @property
    def default_branch(self) -> Branch:
        """The first branch (seeded stock and counter sales without a branch go there)."""
        return next(iter(self.branches.values()))

    def branch(self, branch_id: int | None) -> Branch:
        """The branch ``branch_id`` (the default one for None); 400 for an unknown one."""
        if branch_id is None:
            return self.default_branch
        found = self.branches.get(int(branch_id))
        if found is None:
            raise ShopRefusal(f"Chi nhánh {branch_id} không tồn tại", field="branchId")
        return found

    # -- products and stock ----------------------------------------------------------------

    def by_code(self, code: str) -> Product | None:
        """The product with SKU ``code`` (case-insensitive, as KiotViet's codes are)."""
        wanted = code.strip().upper()
        return next((p for p in self.products.values() if p.code.upper() == wanted), None)

    def product(self, product_id: int) -> Product:
        """The product ``product_id``; 404 if there is none."""
        found = self.products.get(int(product_id))
        if found is None:
            raise UnknownObject("product", str(product_id))
        return found

    def price_books_json(self, product: Product) -> list[dict[str, Any]]:
        """The ``priceBooks`` block of a product (``includePricebook=true``)."""
        return [
            {
                "priceBookId": book.id,
                "priceBookName": book.name,
                "productId": product.id,
                "price": book.prices[product.id],
                "isActive": book.active,
                "startDate": format_local(book.start),
                "endDate": format_local(book.end),
            }
            for book in sorted(self.price_books.values(), key=lambda b: b.id)
            if product.id in book.prices
        ]

    def units_of(self, product: Product) -> list[Product]:
        """The other selling units of ``product``'s base unit (without ``product`` itself)."""
        base = product.master_unit_id or product.id
        return [
            p
            for p in self.products.values()
            if p.id != product.id and (p.id == base or p.master_unit_id == base)
        ]

    def base_of(self, product: Product) -> tuple[Product, Decimal]:
        """The base-unit product that holds ``product``'s stock, and units per ``product``."""
        if product.master_unit_id is None:
            return product, Decimal(1)
        return self.product(product.master_unit_id), product.conversion

    def inventory(self, product: Product, branch_id: int) -> Inventory:
        """Stock of ``product``'s base unit at ``branch_id`` (created at 0)."""
        base, _ = self.base_of(product)
        return base.inventories.setdefault(branch_id, Inventory())

    def inventories_json(self, product: Product) -> list[dict[str, Any]]:
        """``inventories[]`` of ``product``: every branch; a unit's stock in its own units."""
        base, per = self.base_of(product)
        rows = []
        for branch in self.branches.values():
            stock = base.inventories.get(branch.id, Inventory())
            # Whole units only: 6 packs are no box of 10 (reserved rounds up, to be safe).
            on_hand = (stock.on_hand / per).to_integral_value(ROUND_FLOOR)
            reserved = (stock.reserved / per).to_integral_value(ROUND_CEILING)
            rows.append(
                {
                    "productId": product.id,
                    "productCode": product.code,
                    "productName": product.name,
                    "branchId": branch.id,
                    "branchName": branch.fields["branchName"],
                    "cost": stock.cost,
                    "onHand": on_hand,
                    "reserved": reserved,
                    "actualReserved": reserved,
                    "minQuantity": 0,
                    "maxQuantity": 0,
                    "isActive": True,
                    "onOrder": 0,
                }
            )
        return rows

    def touch(self, product: Product, now: datetime) -> None:
        """Mark ``product`` (and the units sharing its stock) modified now."""
        base, _ = self.base_of(product)
        for other in (base, *self.units_of(base)):
            other.modified = now

    def set_on_hand(
        self, product: Product, branch_id: int, on_hand: Decimal, now: datetime
    ) -> None:
        """A stock count: ``onHand`` of ``product`` at ``branch_id`` becomes ``on_hand``."""
        if on_hand < 0:
            raise ShopRefusal(f"{product.code}: tồn kho không được âm", field="onHand")
        _, per = self.base_of(product)
        self.inventory(product, branch_id).on_hand = on_hand * per
        self.touch(product, now)

    def move(
        self,
        lines: list[Line],
        branch_id: int,
        now: datetime,
        *,
        on_hand: int = 0,
        reserved: int = 0,
        check: bool = False,
    ) -> None:
        """Apply ``lines`` to stock at ``branch_id`` (signs ``on_hand``/``reserved``).

        With ``check`` a sale that would leave sellable stock below zero is refused first
        (409 out_of_stock, as the control API answers), unless ``AllowSellWhenOutStock``.
        """
        needs: dict[int, Decimal] = {}
        for line in lines:
            product = self.product(line.product_id)
            base, per = self.base_of(product)
            needs[base.id] = needs.get(base.id, Decimal(0)) + line.quantity * per
        if check and not self.settings["AllowSellWhenOutStock"]:
            for base_id, quantity in needs.items():
                stock = self.products[base_id].inventories.get(branch_id, Inventory())
                sellable = stock.on_hand - stock.reserved
                if quantity > sellable:
                    raise OutOfStock(
                        self.products[base_id].code,
                        available=int(max(sellable, Decimal(0))),
                        requested=int(quantity),
                    )
        for base_id, quantity in needs.items():
            base = self.products[base_id]
            stock = base.inventories.setdefault(branch_id, Inventory())
            stock.on_hand += on_hand * quantity
            stock.reserved = max(stock.reserved + reserved * quantity, Decimal(0))
            self.touch(base, now)

    def add_product(self, fields: dict[str, Any], now: datetime) -> Product:
        """Create one product from REST fields (a variant or unit is a product of its own)."""
        name = str(fields.get("name") or "").strip()
        if not name:
            raise ShopRefusal("Tên hàng hóa không được để trống", field="name")
        code = str(fields.get("code") or "").strip() or self.new_code("SP")
        if self.by_code(code) is not None:
            raise ShopRefusal(f"Mã hàng {code} đã tồn tại", field="code")
        try:
            price = Decimal(str(fields.get("basePrice") or 0))
            conversion = Decimal(str(fields.get("conversionValue") or 1))
        except ArithmeticError:
            raise ShopRefusal("basePrice và conversionValue phải là số") from None
        if price < 0 or price != price.to_integral_value():
            raise ShopRefusal("basePrice phải là số nguyên không âm (VND)", field="basePrice")
        for link in ("masterProductId", "masterUnitId"):
            if fields.get(link) is not None and int(fields[link]) not in self.products:
                raise ShopRefusal(f"{link} {fields[link]} không tồn tại", field=link)
        category_id = int(fields.get("categoryId") or 3001)
        category = self.categories.get(category_id)
        if category is None:
            raise ShopRefusal(f"Nhóm hàng {category_id} không tồn tại", field="categoryId")
        barcode = fields.get("barCode")
        if barcode is not None and len(str(barcode)) > 16:
            raise ShopRefusal("barCode tối đa 16 ký tự", field="barCode")
        product = Product(
            id=self.new_id(0),
            code=code,
            name=name,
            price=price,
            created=now,
            modified=now,
            master_product_id=int(fields["masterProductId"])
            if fields.get("masterProductId")
            else None,
            master_unit_id=int(fields["masterUnitId"]) if fields.get("masterUnitId") else None,
            conversion=conversion,
            unit=str(fields.get("unit") or "Cái"),
            attributes=[
                (str(a.get("attributeName")), str(a.get("attributeValue")))
                for a in fields.get("attributes") or []
                if isinstance(a, dict)
            ],
            barcode=str(barcode) if barcode else None,
            category=(category_id, str(category["categoryName"])),
            has_variants=bool(fields.get("attributes")),
        )
        self.products[product.id] = product
        for entry in fields.get("inventories") or []:
            if isinstance(entry, dict) and "branchId" in entry:
                branch = self.branch(int(entry["branchId"]))
                self.set_on_hand(product, branch.id, Decimal(str(entry.get("onHand", 0))), now)
        return product

    def update_customer(self, customer: Customer, fields: dict[str, Any], now: datetime) -> None:
        """Change a customer's fields (a phone another customer has is refused)."""
        phone = fields.get("contactNumber")
        if phone:
            other = self.find_customer(str(phone))
            if other is not None and other.id != customer.id:
                raise ShopRefusal(f"Số điện thoại {phone} đã tồn tại", field="contactNumber")
            customer.phone = str(phone)
        for key, attr in (
            ("name", "name"),
            ("email", "email"),
            ("address", "address"),
            ("locationName", "location_name"),
            ("wardName", "ward_name"),
        ):
            if key in fields:
                setattr(customer, attr, fields[key] or None)
        if not customer.name:
            raise ShopRefusal("Tên khách hàng không được để trống", field="name")
        customer.modified = now

    # -- customers -------------------------------------------------------------------------

    def find_customer(self, phone: str) -> Customer | None:
        """The customer whose ``contactNumber`` is ``phone`` (digits compared)."""
        digits = "".join(ch for ch in phone if ch.isdigit())
        if digits.startswith("84"):
            digits = "0" + digits[2:]
        for customer in self.customers.values():
            theirs = "".join(ch for ch in customer.phone or "" if ch.isdigit())
            if theirs.startswith("84"):
                theirs = "0" + theirs[2:]
            if digits and theirs == digits:
                return customer
        return None

    def add_customer(
        self, fields: dict[str, Any], now: datetime, *, prefix: str = "KH"
    ) -> Customer:
        """Create a customer from REST fields (``name``, ``contactNumber``...)."""
        name = str(fields.get("name") or "").strip()
        if not name:
            raise ShopRefusal("Tên khách hàng không được để trống", field="name")
        phone = fields.get("contactNumber")
        if phone and prefix == "KH" and self.find_customer(str(phone)) is not None:
            raise ShopRefusal(f"Số điện thoại {phone} đã tồn tại", field="contactNumber")
        customer = Customer(
            id=self.new_id(40_000_000),
            code=str(fields.get("code") or self.new_code(prefix)),
            name=name,
            phone=str(phone) if phone else None,
            created=now,
            modified=now,
            email=fields.get("email") or None,
            address=fields.get("address") or None,
            location_name=fields.get("locationName") or None,
            ward_name=fields.get("wardName") or None,
            branch_id=fields.get("branchId"),
            gender=fields.get("gender"),
        )
        self.customers[customer.id] = customer
        return customer

    # -- documents -------------------------------------------------------------------------

    def lines_of(self, details: list[dict[str, Any]]) -> list[Line]:
        """Document lines from ``orderDetails``/``invoiceDetails`` (by id or code)."""
        if not details:
            raise ShopRefusal("Chưa có hàng hóa trong phiếu", field="details")
        lines = []
        for index, detail in enumerate(details):
            product = None
            if detail.get("productId") is not None:
                product = self.products.get(int(detail["productId"]))
            elif detail.get("productCode"):
                product = self.by_code(str(detail["productCode"]))
            if product is None:
                raise UnknownObject(
                    "product", str(detail.get("productId") or detail.get("productCode"))
                )
            try:
                quantity = Decimal(str(detail.get("quantity", 0)))
                price = Decimal(str(detail.get("price", product.price)))
                discount = Decimal(str(detail.get("discount") or 0))
            except ArithmeticError:
                raise ShopRefusal(f"details[{index}]: quantity/price are numbers") from None
            if quantity <= 0:
                raise ShopRefusal(f"details[{index}]: quantity must be > 0", field="quantity")
            lines.append(
                Line(product.id, product.code, product.full_name, quantity, price, discount)
            )
        return lines

    def new_document(
        self,
        kind: str,
        lines: list[Line],
        branch_id: int,
        now: datetime,
        *,
        customer_id: int | None = None,
        sale_channel_id: int | None = None,
        order_id: int | None = None,
        description: str | None = None,
        delivery: dict[str, Any] | None = None,
        purchased: datetime | None = None,
    ) -> Document:
        """Record an order or invoice and move its stock (invoice: -onHand; order: +reserved)."""
        infix = MARKETPLACE_CODES.get(sale_channel_id or 0, "")
        prefix = ("DH" if kind == "order" else "HD") + (f"{infix}_" if infix else "")
        if kind == "order":
            self.move(lines, branch_id, now, reserved=+1, check=True)
            status = ORDER_DRAFT
        else:
            if order_id is not None:
                order = self.orders[order_id]
                if order.status in (ORDER_COMPLETED, ORDER_CANCELLED):
                    raise ShopRefusal(f"Đơn đặt hàng {order.code} đã kết thúc")
                self.move(order.lines, order.branch_id, now, reserved=-1)
                order.status = ORDER_PROCESSING if delivery else ORDER_COMPLETED
                order.modified = now
            self.move(lines, branch_id, now, on_hand=-1, check=order_id is None)
            status = INVOICE_DELIVERING if delivery else INVOICE_COMPLETED
        document = Document(
            kind=kind,
            id=self.new_id(10_000_000 if kind == "order" else 60_000_000),
            code=self.new_code(prefix),
            branch_id=branch_id,
            status=status,
            lines=lines,
            purchased=purchased or now,
            created=now,
            modified=now,
            customer_id=customer_id,
            order_id=order_id,
            sale_channel_id=sale_channel_id,
            description=description,
            delivery=delivery,
        )
        (self.orders if kind == "order" else self.invoices)[document.id] = document
        return document

    def cancel_document(self, document: Document, now: datetime) -> None:
        """Cancel an order (its reservation is released) or an invoice (stock comes back)."""
        if document.kind == "order":
            if document.status in (ORDER_COMPLETED, ORDER_CANCELLED):
                raise ShopRefusal(f"Không thể hủy đơn {document.code}")
            self.move(document.lines, document.branch_id, now, reserved=-1)
            document.status = ORDER_CANCELLED
        else:
            if document.status == INVOICE_CANCELLED:
                raise ShopRefusal(f"Hóa đơn {document.code} đã hủy")
            self.move(document.lines, document.branch_id, now, on_hand=+1)
            document.status = INVOICE_CANCELLED
        document.modified = now

    def document_by_code(self, code: str) -> Document:
        """The order or invoice with ``code``; 404 if there is none."""
        for document in (*self.invoices.values(), *self.orders.values()):
            if document.code.upper() == code.strip().upper():
                return document
        raise UnknownObject("document", code)
