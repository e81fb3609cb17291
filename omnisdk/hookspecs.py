"""Every hook omnisdk calls. Each hook's docstring is its documentation.

Implement a hook in a plugin module (or any object) with the ``hookimpl`` marker::

    from omnisdk import hookimpl

    @hookimpl
    def omnisdk_order_received(order, is_new):
        if is_new:
            print("new order", order.channel_ref, order.total)

A channel plugin is a module registered under the ``omnisdk.plugins`` entry point group; an
application registers its own objects in-process with ``plugins.register(obj)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import typer

    from omnisdk.allocation import AllocationRequest
    from omnisdk.channel import Channel
    from omnisdk.models import Customer, Order, OrderStatus, Product

__all__ = ["PROJECT_NAME", "hookimpl", "hookspec"]

PROJECT_NAME = "omnisdk"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


# -- contributing --------------------------------------------------------------------------


@hookspec
def omnisdk_register_channels(register: Callable[[type[Channel]], None]) -> None:
    """Contribute channel classes.

    Call ``register`` once per :class:`~omnisdk.channel.Channel` subclass the plugin provides::

        @hookimpl
        def omnisdk_register_channels(register):
            register(ShopifyChannel)

    Two plugins registering the same channel ``name`` is an error reported at load time.
    """


@hookspec
def omnisdk_register_commands(cli: typer.Typer) -> None:
    """Add commands to the ``omnisdk`` command line.

    ``cli`` is the root :class:`typer.Typer` app; add commands or sub-apps to it::

        @hookimpl
        def omnisdk_register_commands(cli):
            @cli.command()
            def hello():
                print("hi")
    """


# -- mapping (wrap these to customise how platform data becomes canonical) ------------------


@hookspec(firstresult=True)
def omnisdk_map_product(channel: Channel, raw: dict[str, Any]) -> Product | None:
    """Turn one raw platform product payload into a canonical :class:`~omnisdk.models.Product`.

    The core's own implementation (registered last) calls ``channel.parse_product(raw)``.
    Return a Product to replace that mapping for the channels you care about (return None to
    let the next implementation decide), or wrap it to adjust its result::

        @hookimpl(wrapper=True)
        def omnisdk_map_product(channel, raw):
            product = yield
            if channel.name == "shopee":
                product.tags.append("marketplace")
            return product

    Raise :class:`~omnisdk.errors.MappingError` (or a ValueError) for a payload that cannot be
    mapped; the engine quarantines it and goes on with the rest.
    """


@hookspec(firstresult=True)
def omnisdk_map_order(channel: Channel, raw: dict[str, Any]) -> Order | None:
    """Turn one raw platform order payload into a canonical :class:`~omnisdk.models.Order`.

    Works like :func:`omnisdk_map_product`: the default calls ``channel.parse_order(raw)``; a
    wrapper can adjust the result (e.g. map a custom platform status), a first result replaces
    it.
    """


@hookspec(firstresult=True)
def omnisdk_map_customer(channel: Channel, raw: dict[str, Any]) -> Customer | None:
    """Turn one raw platform customer payload into a canonical :class:`~omnisdk.models.Customer`.

    Works like :func:`omnisdk_map_product`; the default calls ``channel.parse_customer(raw)``.
    """


# -- policy --------------------------------------------------------------------------------


@hookspec(firstresult=True)
def omnisdk_allocate_stock(request: AllocationRequest) -> int | None:
    """Decide how many units of one SKU a channel account may list.

    ``request`` carries the SKU, the channel account, on hand and reserved per location, the
    orders the channel accepted that the core has not seen yet, the safety buffer and the
    account's allocation rule from the config. Return the quantity to list (>= 0), or None to
    leave the decision to the next implementation. The core's default (registered last)
    applies the configured rule: locations that feed the channel, safety buffer, percentage,
    maximum and "send 0 below N".

    Under ``[engine] allocation = "quota"`` (the default) the answer is a *cap*: the engine
    then lists at most the account's share of the SKU's free stock, and never more than the
    free stock less what every other account holds (``request.holdings`` says what each
    account listing the SKU holds now), so the answer cannot make channels oversell. Under
    ``"shared"`` the answer is listed as it is.

    The hook does not take part in *turns*: when a SKU has fewer free units than accounts,
    the units of the accounts that sold none of it lately go round them every
    ``[engine] rotate_after`` (see :mod:`omnisdk.quotas`). Turns only move shares under the
    caps this hook answers: an account answered 0 is never given a unit by a turn.
    """


# -- events (notifications; return values are ignored) -------------------------------------


@hookspec
def omnisdk_record_rejected(channel: Channel, kind: str, external_id: str | None,
                            raw: dict[str, Any], reason: str) -> None:
    """A payload from ``channel`` could not be mapped and was set aside.

    ``kind`` is ``"product"``, ``"order"`` or ``"customer"``. The engine implements this hook
    to quarantine the payload with ``reason`` so it can be inspected and retried; the rest of
    the batch goes on.
    """


@hookspec
def omnisdk_order_received(order: Order, is_new: bool) -> None:
    """An order was ingested: ``is_new`` is False when it updated one already known.

    Called once per change that was applied; a duplicate delivery does not call it again.
    """


@hookspec
def omnisdk_order_status_changed(order: Order, previous: OrderStatus | None) -> None:
    """An order's canonical status moved from ``previous`` to ``order.status``."""


@hookspec
def omnisdk_notify_customer(
    customer: Customer, customer_id: str, order: Order, event: str, key: str
) -> None:
    """Tell the buyer about their order: called once per (customer, order, event).

    ``event`` is ``"order_<status>"`` for the canonical status the order reached
    (``order_pending``, ``order_confirmed``, ``order_shipped``, ``order_delivered``,
    ``order_cancelled``, ...). ``customer`` is the one canonical customer (after merges: a
    phone learnt on another channel is there even when this channel masks it); ``order`` is
    the order as stored. Implement it to send the SMS, Zalo or e-mail::

        @hookimpl
        def omnisdk_notify_customer(customer, order, event, key):
            if event == "order_confirmed" and customer.phones:
                sms.send(customer.phones[0].e164, f"Đơn {order.number} đã được xác nhận",
                         idempotency_key=key)

    The engine claims ``key`` (customer, order, event) in the transaction that applies the
    order's change, so the same order arriving by webhook and by poll, redelivered, or seen by
    two workers, calls this once. It is called after that transaction commits. Delivery is
    **at least once**: a hook that raises, or a process that dies before calling it, is
    called again by a later ``sync_once`` (after a minute, at most 5 calls in all) with the
    same ``key``, so pass ``key`` on as the provider's idempotency key. Masked contact points
    (``84****5678``) are never usable addresses: check ``phone.masked``.

    Nothing is claimed while no plugin implements this hook: an app registered later (or a
    plugin installed later) hears of the status changes that happen from then on, never of
    the orders before it, so it cannot flood buyers with old news. Claims already pending
    when the last implementation is unregistered wait, attempts unspent, for the next one.
    """


@hookspec
def omnisdk_stock_changed(sku: str, location: str, on_hand: int, reserved: int,
                          reason: str) -> None:
    """Stock of ``sku`` at ``location`` changed; ``reason`` is the ledger entry's kind."""


@hookspec
def omnisdk_customer_merged(customer: Customer, merged: Customer, reason: str) -> None:
    """Two customer records were found to be one person and ``merged`` was merged into
    ``customer``. ``reason`` explains the match (e.g. ``"same phone +84912345678"``)."""


@hookspec
def omnisdk_sync_finished(account: str, stream: str, stats: dict[str, int]) -> None:
    """A sync pass over one account and stream finished; ``stats`` counts what it did
    (``{"seen": 120, "new": 3, "updated": 5, "quarantined": 0}``)."""


@hookspec
def omnisdk_stock_pushed(account: str, sku: str, quantity: int, rebalanced: bool) -> None:
    """A channel accepted a stock figure: ``account`` now lists ``quantity`` of ``sku``.

    ``rebalanced`` is True when the figure was lowered to move units to an account that
    sells them faster (quota allocation). Called after the push is recorded, once per write.
    """


@hookspec
def omnisdk_push_failed(account: str, key: str, error: str, retryable: bool) -> None:
    """A push to a channel failed for one item (``key`` is usually the SKU)."""


@hookspec
def omnisdk_channel_needs_reauthorisation(channel: str, account: str, reason: str) -> None:
    """A channel account lost its authorisation (refresh token expired or revoked, app
    uninstalled). The engine stops that account until a person authorises it again."""
