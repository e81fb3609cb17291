"""Returns (trả hàng) in the sandbox shop: goods a customer brings back against an invoice.

A return is its own document (code ``TH...``) naming the invoice (``invoiceId``); its lines
come back on hand at the branch, and the customer is paid back ``returnTotal`` less the
return discount and fee (``totalPayment``). The invoice keeps its status and lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from omnisdk.testing.sandbox import NotRefundable, RefundRequest, UnknownObject
from omnisdk_pos.sandbox.state.shop import INVOICE_COMPLETED, Document, Line
from omnisdk_pos.timefmt import format_local

if TYPE_CHECKING:
    from omnisdk_pos.sandbox.state.shop import Shop

__all__ = ["RETURN_CANCELLED", "RETURN_DONE", "ReturnDocument", "take_back"]

RETURN_DONE, RETURN_CANCELLED = 1, 2
"""A return's ``status``: 1 done (Đã trả), 2 cancelled (Đã hủy)."""
_STATUS_TEXT = {RETURN_DONE: "Đã trả", RETURN_CANCELLED: "Đã hủy"}


@dataclass
class ReturnDocument:
    """A return as the sandbox shop holds it."""

    id: int
    code: str
    invoice: Document
    lines: list[Line]
    created: datetime
    modified: datetime
    status: int = RETURN_DONE
    discount: Decimal = Decimal(0)
    fee: Decimal = Decimal(0)

    @property
    def return_total(self) -> Decimal:
        """What the returned goods cost on the invoice."""
        return sum((line.price * line.quantity for line in self.lines), Decimal(0))

    @property
    def paid_back(self) -> Decimal:
        """What the customer is paid back: the goods less the return discount and fee."""
        return max(self.return_total - self.discount - self.fee, Decimal(0))

    def as_json(self, shop: Shop) -> dict[str, Any]:
        """The return as ``GET /returns`` shows it (nulls omitted)."""
        invoice = self.invoice
        branch = shop.branches[invoice.branch_id]
        body: dict[str, Any] = {
            "id": self.id,
            "code": self.code,
            "invoiceId": invoice.id,
            "returnDate": format_local(self.created),
            "branchId": invoice.branch_id,
            "branchName": branch.fields["branchName"],
            "receivedById": 1,
            "soldByName": "Admin",
            "returnTotal": self.return_total,
            "returnDiscount": self.discount,
            "returnFee": self.fee,
            "totalPayment": self.paid_back,
            "status": self.status,
            "statusValue": _STATUS_TEXT[self.status],
            "createdDate": format_local(self.created),
            "modifiedDate": format_local(self.modified),
            "payments": [
                {
                    "id": self.id * 10,
                    "code": f"TTTH{self.id:06d}",
                    "amount": self.paid_back,
                    "method": "Cash",
                    "status": 0,
                    "transDate": format_local(self.created),
                }
            ],
            "returnDetails": [
                {
                    "productId": line.product_id,
                    "productCode": line.code,
                    "productName": line.name,
                    "quantity": line.quantity,
                    "price": line.price,
                    "note": "",
                    "subTotal": line.price * line.quantity,
                }
                for line in self.lines
            ],
        }
        if invoice.customer_id is not None:
            customer = shop.customers[invoice.customer_id]
            body.update(
                customerId=customer.id, customerCode=customer.code, customerName=customer.name
            )
        return body


def take_back(
    shop: Shop, invoice: Document, refund: RefundRequest, *, earlier: list[ReturnDocument],
    now: datetime,
) -> ReturnDocument:
    """A return of ``refund.lines`` against a completed ``invoice``: the goods come back on
    hand at its branch, each unit at its invoice price. :class:`NotRefundable` for an
    invoice not completed or beyond what it sold (less earlier returns)."""
    if invoice.kind != "invoice" or invoice.status != INVOICE_COMPLETED:
        raise NotRefundable(
            f"{invoice.code}: goods are returned against a completed invoice",
            status=invoice.status,
        )
    back: dict[str, Decimal] = {}
    for done in earlier:
        if done.invoice.id == invoice.id and done.status == RETURN_DONE:
            for line in done.lines:
                back[line.code] = back.get(line.code, Decimal(0)) + line.quantity
    lines: list[Line] = []
    for wanted in refund.lines:
        sold = [line for line in invoice.lines if line.code.upper() == wanted.sku.upper()]
        if not sold:
            raise UnknownObject("product on the invoice", wanted.sku)
        code = sold[0].code
        left = sum((line.quantity for line in sold), Decimal(0)) - back.get(code, Decimal(0))
        if wanted.quantity > left:
            raise NotRefundable(
                f"{invoice.code}: {left} of {wanted.sku!r} left to return, "
                f"{wanted.quantity} asked for"
            )
        back[code] = back.get(code, Decimal(0)) + wanted.quantity
        first = sold[0]
        unit = (first.price * first.quantity - first.discount) / first.quantity
        lines.append(Line(first.product_id, code, first.name, Decimal(wanted.quantity), unit))
    shop.move(lines, invoice.branch_id, now, on_hand=+1)
    made = ReturnDocument(
        id=shop.new_id(80_000_000),
        code=shop.new_code("TH"),
        invoice=invoice,
        lines=lines,
        created=now,
        modified=now,
    )
    return made
