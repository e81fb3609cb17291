"""Identity resolution: the buyer of every order becomes one canonical customer.

On intake the order's customer is matched on its match keys (normalised phone, email, and the
channel identities it carries; masked marketplace values are never keys). No match: a new
customer. One match: that customer, with what the order adds (a new phone, another channel
identity). Several: they are one person, so they are merged into the oldest record, with a
reason naming the keys that matched; the store keeps each merge so it can be undone, and the
``omnisdk_customer_merged`` hook fires once the transaction commits.

Customers a channel lists (not only the buyers of orders) go through the same path:
:func:`ingest_customer` resolves one record in its own transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from omnisdk.errors import StoreError, UnknownRecord
from omnisdk.models import Customer, is_masked
from omnisdk.store import CustomerSave, Store, StoredCustomer, StoredOrder, Transaction
from omnisdk.sync.context import SyncContext
from omnisdk.sync.transactions import Fired, in_transaction

__all__ = [
    "Buyer",
    "CustomerHistory",
    "Resolution",
    "combine",
    "customer_history",
    "ingest_customer",
    "resolve_customer",
    "resolve_customers",
]

T = TypeVar("T")


@dataclass(frozen=True)
class Resolution:
    """Who the buyer is: the surviving customer's id and the merges made to get there.

    ``changed`` is False when the record added nothing to the customer already stored.
    """

    customer_id: str
    created: bool
    merges: tuple[int, ...] = ()
    changed: bool = True


@dataclass(frozen=True)
class CustomerHistory:
    """A customer (the survivor of any merges) and every order linked to them, oldest first."""

    customer: StoredCustomer
    merged_ids: tuple[str, ...]
    """The ids of the records merged into this customer."""
    orders: tuple[StoredOrder, ...]


def _describe_key(key: str) -> str:
    kind, _, value = key.partition(":")
    if kind == "ref":
        return f"{value} identity"
    return f"{kind} {value}"


def _unique(items: Iterable[T], key: Any) -> list[T]:
    seen: set[Any] = set()
    kept = []
    for item in items:
        marker = key(item)
        if marker not in seen:
            seen.add(marker)
            kept.append(item)
    return kept


def _better(first: str | None, second: str | None) -> str | None:
    """The first value unless it is missing or masked and the second is not."""
    if first and not is_masked(first):
        return first
    if second and not is_masked(second):
        return second
    return first or second


def combine(kept: Customer, incoming: Customer) -> Customer:
    """One record holding what ``kept`` and ``incoming`` know (``kept`` wins a conflict).

    Contact points, addresses and identities are united; a masked name gives way to a real
    one; the raw payload is not kept (each order keeps its own).
    """
    created = [c.created_at for c in (kept, incoming) if c.created_at is not None]
    updated = [c.updated_at for c in (kept, incoming) if c.updated_at is not None]
    return Customer(
        id=kept.id,
        full_name=_better(kept.full_name, incoming.full_name),
        first_name=_better(kept.first_name, incoming.first_name),
        last_name=_better(kept.last_name, incoming.last_name),
        phones=_unique([*kept.phones, *incoming.phones], lambda p: p.e164 or p.raw),
        emails=_unique([*kept.emails, *incoming.emails], lambda e: e.address or e.raw),
        addresses=_unique([*kept.addresses, *incoming.addresses], lambda a: a.model_dump_json()),
        identities=_unique(
            [
                *kept.identities,
                *incoming.identities,
                *([incoming.channel_ref] if incoming.channel_ref else []),
            ],
            str,
        ),
        accepts_marketing=(
            incoming.accepts_marketing
            if incoming.accepts_marketing is not None
            else kept.accepts_marketing
        ),
        created_at=min(created) if created else None,
        updated_at=max(updated) if updated else None,
        channel_ref=kept.channel_ref or incoming.channel_ref,
    )


def resolve_customer(
    store: Store,
    session: Transaction,
    customer: Customer,
    *,
    account: str,
    context: str,
    linked: str | None,
    fired: Fired,
) -> Resolution:
    """Find (or create) the canonical customer ``customer`` is, merging duplicates it reveals.

    ``account`` is where the record came from, ``context`` says where (for merge reasons,
    e.g. ``"order shopee-hanoi/2407"``), ``linked`` the customer the order already points at.
    Merge hooks are queued on ``fired``.
    """
    keys = customer.match_keys()
    store.lock_match_keys(session, sorted(keys))
    owners = store.find_customers(keys, session=session)
    candidates: dict[str, set[str]] = {}
    for key, owner in owners.items():
        candidates.setdefault(owner, set()).add(key)
    if linked is not None:
        survivor_of_link = store.resolve_customer_id(linked, session=session)
        if survivor_of_link is not None:
            candidates.setdefault(survivor_of_link, set()).add(f"order link {context}")
    incoming = customer.model_copy(update={"id": None, "raw": None})
    if not candidates:
        new_id = store.save_customer(incoming, source_account=account, session=session)
        return Resolution(customer_id=new_id, created=True)
    stored: dict[str, StoredCustomer] = {}
    for customer_id in candidates:
        found = store.get_customer(customer_id, session=session)
        if found is None:  # pragma: no cover - a key always points at a stored customer
            raise StoreError(f"customer {customer_id!r} owns a match key but does not exist")
        stored[customer_id] = found
    survivor = min(candidates, key=lambda cid: (stored[cid].created_at, cid))
    merged_doc = stored[survivor].customer
    merges: list[int] = []
    reasons: list[tuple[str, str]] = []
    for other in sorted(set(candidates) - {survivor}):
        reason = (
            f"{context}: one buyer has "
            + ", ".join(_describe_key(k) for k in sorted(candidates[other]))
            + f" (customer {other}) and "
            + ", ".join(_describe_key(k) for k in sorted(candidates[survivor]))
            + f" (customer {survivor})"
        )
        merges.append(store.merge_customers(other, survivor, reason, session=session))
        merged_doc = combine(merged_doc, stored[other].customer)
        reasons.append((other, reason))
    merged_doc = combine(merged_doc, incoming)
    changed = bool(merges) or merged_doc != stored[survivor].customer
    store.save_customer(merged_doc, customer_id=survivor, source_account=account, session=session)
    for other, reason in reasons:
        fired.add(
            "omnisdk_customer_merged",
            customer=merged_doc.model_copy(update={"id": survivor}),
            merged=stored[other].customer,
            reason=reason,
        )
    return Resolution(customer_id=survivor, created=False, merges=tuple(merges), changed=changed)


@dataclass(frozen=True)
class Buyer:
    """A customer record to resolve (see :func:`resolve_customer` for the fields)."""

    customer: Customer
    account: str
    context: str
    linked: str | None = None


def resolve_customers(
    store: Store, session: Transaction, buyers: Sequence[Buyer]
) -> list[tuple[Resolution, Fired]]:
    """:func:`resolve_customer` of each of ``buyers``, one after the other, in few statements.

    Every match key of the page is locked at once, their owners and the customers read
    together, and the new and changed customers written together at the end. A buyer whose
    keys point at several customers (a merge) goes through :func:`resolve_customer` itself,
    after what was decided before it is written. Each resolution comes with its own
    :class:`Fired` (merge hooks).
    """
    if not buyers:
        return []
    keysets = [buyer.customer.match_keys() for buyer in buyers]
    every_key = sorted(set().union(*keysets))
    links = sorted({buyer.linked for buyer in buyers if buyer.linked is not None})
    store.lock_match_keys(session, every_key)
    state = _Known.read(store, session, every_key, links)
    saves: list[CustomerSave] = []
    resolved: list[tuple[Resolution, Fired]] = []
    for buyer, keys in zip(buyers, keysets, strict=True):
        fired = Fired()
        candidates: dict[str, set[str]] = {}
        for key in keys:
            if key in state.owners:
                candidates.setdefault(state.owners[key], set()).add(key)
        if buyer.linked is not None and buyer.linked in state.links:
            candidates.setdefault(state.links[buyer.linked], set()).add(
                f"order link {buyer.context}"
            )
        incoming = buyer.customer.model_copy(update={"id": None, "raw": None})
        if not candidates:
            new_id = uuid.uuid4().hex
            state.adopt(new_id, incoming, keys)
            saves.append(CustomerSave(new_id, incoming, buyer.account))
            resolved.append((Resolution(customer_id=new_id, created=True), fired))
        elif len(candidates) == 1:
            survivor = next(iter(candidates))
            kept = state.documents[survivor]
            merged = combine(kept, incoming)
            unowned = {key for key in merged.match_keys() if key in keys} - set(state.owners)
            if merged != kept or unowned:
                state.adopt(survivor, merged, unowned)
                saves.append(CustomerSave(survivor, merged, buyer.account))
            resolution = Resolution(customer_id=survivor, created=False, changed=merged != kept)
            resolved.append((resolution, fired))
        else:
            store.save_customers(session, saves)
            saves = []
            resolution = resolve_customer(
                store,
                session,
                buyer.customer,
                account=buyer.account,
                context=buyer.context,
                linked=buyer.linked,
                fired=fired,
            )
            resolved.append((resolution, fired))
            state = _Known.read(store, session, every_key, links)
    store.save_customers(session, saves)
    return resolved


@dataclass
class _Known:
    """What :func:`resolve_customers` knows: who owns each key, whom each link leads to,
    and the customers' records (updated as the page is resolved)."""

    owners: dict[str, str]
    links: dict[str, str]
    documents: dict[str, Customer]

    @classmethod
    def read(cls, store: Store, session: Transaction, keys: list[str], links: list[str]) -> _Known:
        owners = store.find_customers(keys, session=session)
        survivors = store.resolve_customer_ids(links, session=session)
        stored = store.get_customers({*owners.values(), *survivors.values()}, session=session)
        return cls(
            owners=owners,
            links=survivors,
            documents={customer_id: found.customer for customer_id, found in stored.items()},
        )

    def adopt(self, customer_id: str, record: Customer, keys: Iterable[str]) -> None:
        """``customer_id`` is now ``record`` and owns ``keys`` (unless owned already)."""
        self.documents[customer_id] = record
        for key in keys:
            self.owners.setdefault(key, customer_id)


async def ingest_customer(context: SyncContext, account: str, customer: Customer) -> Resolution:
    """Resolve a customer record ``account`` lists into the one customer view.

    One transaction, the same identity resolution orders use; merge hooks fire after the
    commit.
    """
    store = context.store
    channel = context.channel(account)
    fired = Fired()
    ref = customer.channel_ref
    where = f"customer {account}/{ref.external_id if ref is not None else '?'}"

    def work(session: Transaction) -> Resolution:
        fired.calls.clear()
        store.ensure_account(account, channel.name, session=session)
        return resolve_customer(
            store, session, customer, account=account, context=where, linked=None, fired=fired
        )

    result = await context.run(in_transaction, store, work)
    fired.fire(context)
    return result


async def customer_history(context: SyncContext, customer_id: str) -> CustomerHistory:
    """See :meth:`Engine.customer_history`."""
    return await context.run(read_history, context.store, customer_id)


def read_history(store: Store, customer_id: str) -> CustomerHistory:
    """The customer ``customer_id`` (any id of a merged family) with every order of the
    family, oldest first (a blocking read; :class:`UnknownRecord` for an unknown id)."""
    found = store.get_customer(customer_id)
    if found is None:
        raise UnknownRecord(f"there is no customer {customer_id!r}")
    family = store.customer_family(found.id)
    orders: list[StoredOrder] = []
    for member in family:
        orders.extend(store.iter_orders(customer_id=member))
    orders.sort(key=lambda stored: (stored.order.created_at, stored.id))
    return CustomerHistory(customer=found, merged_ids=tuple(family[1:]), orders=tuple(orders))
