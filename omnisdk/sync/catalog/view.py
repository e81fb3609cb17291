"""What a channel account shows now: its listings and listed stock, indexed by SKU."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from omnisdk.channel import Capability, Channel
from omnisdk.errors import MappingError
from omnisdk.models import Product, StockLevel, Variant

__all__ = [
    "AccountView",
    "ChannelListings",
    "ListedStock",
    "ListedVariant",
    "listed_levels",
    "listed_stock",
    "read_listings",
    "read_stock",
]


@dataclass(frozen=True, slots=True)
class ListedVariant:
    """A variant as listed on a channel, with the channel product that holds it."""

    product: Product
    variant: Variant


class ChannelListings:
    """A channel account's listings, indexed by SKU.

    A SKU listed more than once (two listings claiming it) is kept in ``duplicates`` with its
    count: which listing is "the" one cannot be decided by SKU, so nothing is sent to it.
    """

    def __init__(self, products: Iterable[Product]) -> None:
        """Index ``products`` (as ``Channel.stream_products`` gives them)."""
        self.products: list[Product] = list(products)
        self.by_sku: dict[str, ListedVariant] = {}
        counts: dict[str, int] = {}
        for product in self.products:
            for variant in product.variants:
                counts[variant.sku] = counts.get(variant.sku, 0) + 1
                self.by_sku.setdefault(variant.sku, ListedVariant(product, variant))
        self.duplicates: dict[str, int] = {sku: n for sku, n in counts.items() if n > 1}

    def get(self, sku: str) -> ListedVariant | None:
        """The listing of ``sku`` (None when unlisted or listed more than once)."""
        if sku in self.duplicates:
            return None
        return self.by_sku.get(sku)

    def __contains__(self, sku: object) -> bool:
        """True when the channel lists ``sku`` (once or more)."""
        return sku in self.by_sku


@dataclass(frozen=True, slots=True)
class ListedStock:
    """A SKU's listed stock on a channel; ``location`` is the channel's own location id."""

    quantity: int
    location: str | None = None


def listed_stock(levels: Iterable[StockLevel]) -> dict[str, ListedStock]:
    """Listed stock per SKU from ``Channel.stream_stock`` levels.

    Levels of one SKU at several channel locations are summed (the channel sells their
    total); the location is kept when there is exactly one.
    """
    totals: dict[str, int] = {}
    places: dict[str, set[str | None]] = {}
    for level in levels:
        totals[level.sku] = totals.get(level.sku, 0) + level.on_hand
        places.setdefault(level.sku, set()).add(level.location)
    result = {}
    for sku, quantity in totals.items():
        where = places[sku]
        result[sku] = ListedStock(quantity, next(iter(where)) if len(where) == 1 else None)
    return result


@dataclass(frozen=True, slots=True)
class AccountView:
    """What an account shows now; None where the channel cannot say (no read capability)."""

    listings: ChannelListings | None
    stock: Mapping[str, ListedStock] | None = None


async def read_listings(channel: Channel) -> ChannelListings | None:
    """Every listing of ``channel``'s account (None when the channel cannot read products)."""
    if Capability.READ_PRODUCTS not in channel.capabilities:
        return None
    return ChannelListings([product async for product in channel.stream_products()])


async def listed_levels(
    channel: Channel, skus: Sequence[str] | None
) -> AsyncIterator[StockLevel]:
    """``channel.stream_stock(skus)``, with a figure the channel reports out of range (10**30
    units: ``StockLevel`` refuses it) raised as a :class:`MappingError` naming the account, so
    a reader that handles channel errors (reconciliation, ``stock show``) reports it instead
    of crashing."""
    try:
        async for level in channel.stream_stock(skus):
            yield level
    except (ValueError, ArithmeticError) as exc:
        if isinstance(exc, ValidationError):
            reason = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or exc.title}: {e['msg']}"
                for e in exc.errors(include_url=False, include_input=False)
            )
        else:
            reason = f"{type(exc).__name__}: {exc}"
        raise MappingError(
            f"a listed stock figure cannot be read: {reason}",
            channel=f"{channel.name}/{channel.account}",
            kind="stock",
        ) from exc


async def read_stock(channel: Channel, skus: Sequence[str] | None) -> dict[str, ListedStock] | None:
    """Listed stock of ``skus`` (every listing when None) on ``channel``'s account.

    None when the channel cannot read stock; an empty ``skus`` reads nothing.
    """
    if Capability.READ_STOCK not in channel.capabilities:
        return None
    if skus is not None and not skus:
        return {}
    wanted = None if skus is None else list(dict.fromkeys(skus))
    return listed_stock([level async for level in listed_levels(channel, wanted)])
