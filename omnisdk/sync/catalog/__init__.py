"""The master catalog and its flow to every channel: import, plan, apply.

The store holds the master catalog (products and variants keyed by SKU). Three operations
move it between the store and the channel accounts:

:func:`import_catalog`
    Bootstraps the master catalog from one account's listings, matching by SKU (never by
    title) and binding each listing to its master variant. A second account's listings bind
    to the variants already there; where its price disagrees with the master's (after the
    account's price rule) the master wins and the disagreement is reported.
:func:`plan`
    Compares the master catalog with what each account lists now and says what would be
    sent: new listings, content updates, prices (through the account's
    :class:`~omnisdk.pricing.PricingRule`) and stock (what the pusher would set the listing
    to). Only fields the master owns on that account (``PricingRule.owns``) are compared.
:func:`apply`
    Sends a plan: listings through ``Channel.write_products``, prices through
    ``write_prices``, stock through the pusher, starting from the figure just read
    (:func:`omnisdk.sync.pusher.push_listings`). Every change is checked against the
    account's current state first, so applying a plan twice sends nothing the second time;
    one failed item never stops the others.

One module per job:

=====================  ===============================================================
``models``             the plan, and what importing and applying did (plain data)
``view``               what an account shows now, read from its channel
``changes``            the fields that may change, and the writes that carry them
``diff``               one account's plan, from the master and what it shows (pure)
``planning``           :func:`plan`: every account read and diffed
``applying``           :func:`apply`: a plan checked against each account and sent
``binding``            master products and variants bound to listings by SKU
``importing``          :func:`import_catalog`: the master built from an account
=====================  ===============================================================
"""

from omnisdk.sync.catalog.applying import apply
from omnisdk.sync.catalog.changes import (
    CONTENT_FIELDS,
    channel_variant,
    content_changes,
    new_listing,
    price_changes,
    price_update,
    stock_update,
    updated_listing,
)
from omnisdk.sync.catalog.diff import diff_account
from omnisdk.sync.catalog.importing import base_price, import_catalog, master_copy
from omnisdk.sync.catalog.models import (
    AccountApplyStats,
    AccountPlan,
    ApplyFailure,
    ApplyStats,
    ChangeKind,
    ConflictKind,
    FieldChange,
    FieldValue,
    ImportConflict,
    ImportStats,
    ItemFailure,
    Plan,
    PlannedChange,
    SkippedItem,
)
from omnisdk.sync.catalog.planning import plan, stock_targets
from omnisdk.sync.catalog.view import (
    AccountView,
    ChannelListings,
    ListedStock,
    ListedVariant,
    listed_stock,
    read_listings,
    read_stock,
)

__all__ = [
    "CONTENT_FIELDS",
    "AccountApplyStats",
    "AccountPlan",
    "AccountView",
    "ApplyFailure",
    "ApplyStats",
    "ChangeKind",
    "ChannelListings",
    "ConflictKind",
    "FieldChange",
    "FieldValue",
    "ImportConflict",
    "ImportStats",
    "ItemFailure",
    "ListedStock",
    "ListedVariant",
    "Plan",
    "PlannedChange",
    "SkippedItem",
    "apply",
    "base_price",
    "channel_variant",
    "content_changes",
    "diff_account",
    "import_catalog",
    "listed_stock",
    "master_copy",
    "new_listing",
    "plan",
    "price_changes",
    "price_update",
    "read_listings",
    "read_stock",
    "stock_targets",
    "stock_update",
    "updated_listing",
]
