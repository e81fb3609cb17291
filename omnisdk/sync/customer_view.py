"""One customer, 360°: every identity, why records were merged, every order, lifetime value.

:func:`customer_view` gathers, for the surviving customer of any merges: the contact points
(masked marketplace values shown as masked: they never were match keys), the channel
identities, each merge in force with its reason, every order linked to any record merged
into the customer (on every channel and at every store), the lifetime value per currency
(the sales report's net, from the store's GROUP BY; currencies are never added together)
and the channel the customer used last. :func:`find_customers` finds customers by any
written form of a phone number (``0912 345 678``, ``84912345678``, ``+84 912 345 678``) or
an email address.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from omnisdk.models import ChannelRef, Customer, Email, Money, OrderStatus, Phone
from omnisdk.store import Store, StoredOrder
from omnisdk.sync.context import SyncContext
from omnisdk.sync.customers import read_history
from omnisdk.sync.sales import SalesGroup, SalesLine

__all__ = [
    "ContactPoint",
    "CustomerOrder",
    "CustomerView",
    "MergeNote",
    "contact_keys",
    "customer_view",
    "find_customers",
]


class ContactPoint(BaseModel):
    """A phone or email of the customer; ``masked`` ones are shown, never matched on."""

    model_config = ConfigDict(frozen=True)

    kind: str
    value: str
    masked: bool = False


class MergeNote(BaseModel):
    """A record merged into the customer: which, when, why, and the identities it brought."""

    model_config = ConfigDict(frozen=True)

    merge_id: int
    merged_id: str
    reason: str
    merged_at: datetime
    moved_keys: list[str] = Field(default_factory=list)


class CustomerOrder(BaseModel):
    """One order of the customer, on whichever channel or at whichever store."""

    model_config = ConfigDict(frozen=True)

    channel_ref: ChannelRef
    number: str | None
    status: OrderStatus
    placed_at: datetime
    total: Money
    location: str | None = None

    @classmethod
    def of(cls, stored: StoredOrder) -> CustomerOrder:
        """The summary of a stored order."""
        order = stored.order
        return cls(
            channel_ref=order.channel_ref,
            number=order.number,
            status=order.status,
            placed_at=order.created_at,
            total=order.total,
            location=order.pickup_location,
        )


class CustomerView(BaseModel):
    """``engine.customer_view(id)`` and ``omnisdk customers show``: one customer, 360°.

    ``lifetime`` has one line per currency (``key`` is the currency) with the sales report's
    figures over the customer's orders (cancelled ones left out); ``lifetime_value`` is their
    net. ``last_channel`` is the channel identity of the newest order.
    """

    id: str
    display_name: str
    customer: Customer
    contacts: list[ContactPoint] = Field(default_factory=list)
    identities: list[ChannelRef] = Field(default_factory=list)
    match_keys: list[str] = Field(default_factory=list)
    merges: list[MergeNote] = Field(default_factory=list)
    merged_ids: list[str] = Field(default_factory=list)
    orders: list[CustomerOrder] = Field(default_factory=list)
    lifetime: list[SalesLine] = Field(default_factory=list)
    lifetime_value: list[Money] = Field(default_factory=list)
    last_channel: ChannelRef | None = None
    last_order_at: datetime | None = None


def contact_keys(text: str) -> set[str]:
    """Match keys for a phone number (any written form) or email; empty for anything else."""
    text = text.strip()
    if "@" in text:
        return Customer(emails=[Email.parse(text)]).match_keys()
    if any(ch.isdigit() for ch in text) and set(text) <= set("+0123456789 .-()"):
        return Customer(phones=[Phone.parse(text)]).match_keys()
    return set()


def _contacts(customer: Customer) -> list[ContactPoint]:
    phones = [
        ContactPoint(kind="phone", value=phone.e164 or phone.raw, masked=phone.masked)
        for phone in customer.phones
    ]
    emails = [
        ContactPoint(kind="email", value=email.address or email.raw, masked=email.masked)
        for email in customer.emails
    ]
    return phones + emails


def _read_view(store: Store, customer_id: str) -> CustomerView:
    history = read_history(store, customer_id)
    found, orders = history.customer, list(history.orders)
    family = [found.id, *history.merged_ids]
    lifetime = [
        SalesLine.of(row) for row in store.iter_sales(SalesGroup.CURRENCY, customer_ids=family)
    ]
    merges = store.merges_into(family)
    person = found.customer
    identities: list[ChannelRef] = []
    buyers = [o.order.customer.channel_ref for o in orders if o.order.customer is not None]
    for ref in [*person.identities, person.channel_ref, *buyers]:
        if ref is not None and ref not in identities:
            identities.append(ref)
    last = orders[-1].order if orders else None
    return CustomerView(
        id=found.id,
        display_name=person.display_name,
        customer=person,
        contacts=_contacts(person),
        identities=identities,
        match_keys=list(found.match_keys),
        merges=[
            MergeNote(
                merge_id=merge.id,
                merged_id=merge.from_id,
                reason=merge.reason,
                merged_at=merge.created_at,
                moved_keys=list(merge.moved_keys),
            )
            for merge in merges
        ],
        merged_ids=family[1:],
        orders=[CustomerOrder.of(stored) for stored in orders],
        lifetime=lifetime,
        lifetime_value=[line.net for line in lifetime],
        last_channel=last.channel_ref if last is not None else None,
        last_order_at=last.created_at if last is not None else None,
    )


async def customer_view(context: SyncContext, customer_id: str) -> CustomerView:
    """See :meth:`Engine.customer_view`."""
    return await context.run(_read_view, context.store, customer_id)


async def find_customers(context: SyncContext, contact: str) -> list[CustomerView]:
    """See :meth:`Engine.find_customers`."""
    store = context.store

    def read() -> list[CustomerView]:
        owners = sorted(set(store.find_customers(contact_keys(contact)).values()))
        return [_read_view(store, owner) for owner in owners]

    return await context.run(read)
