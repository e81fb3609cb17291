"""Persistence for omnisdk: SQLAlchemy 2 + Alembic, SQLite by default, PostgreSQL to scale.

::

    from omnisdk.store import open_store, StoreTokenStore

    store = open_store()                                  # sqlite:///omnisdk.db, migrated
    store = open_store("postgresql+psycopg://omnisdk@db/omnisdk")
    tokens = StoreTokenStore(store)                       # omnisdk.auth.TokenStore

See :class:`Store` for the API. Migrations ship inside the package and run with
:meth:`Store.migrate` (no ``alembic.ini`` needed).
"""

from omnisdk.store.core import Transaction
from omnisdk.store.customers import CustomerMerge, CustomerSave
from omnisdk.store.engine import DEFAULT_URL
from omnisdk.store.errors import BindingConflict, SchemaOutOfDate, UnknownAccount
from omnisdk.store.ledger import OversoldLevel
from omnisdk.store.notifications import NotificationKey, PendingNotification
from omnisdk.store.promotions import PromotionListing, PromotionListingState, StoredPromotion
from omnisdk.store.recent import ListingPressure, RecentLine, RecentOrder, StockPressure
from omnisdk.store.records import (
    AccountRow,
    AccountStatus,
    BindingKind,
    LedgerEntry,
    LockedOrder,
    MovementKind,
    OrderSaved,
    OutboxItem,
    ProductSaved,
    QuarantineRow,
    StockMovement,
    StoredCustomer,
    StoredLocation,
    StoredOrder,
    StoredProduct,
    StoredVariant,
)
from omnisdk.store.run_lock import RunLock, RunLocked, RunLockHolder
from omnisdk.store.sales import SalesGroup, SalesRow
from omnisdk.store.status import AccountActivity, StoreActivity
from omnisdk.store.store import Store, open_store
from omnisdk.store.token_keys import TOKEN_KEYS_ENV, TokenCipher, TokenKeyError
from omnisdk.store.token_store import StoreTokenStore
from omnisdk.store.work_locks import WorkLock

__all__ = [
    "DEFAULT_URL",
    "TOKEN_KEYS_ENV",
    "AccountActivity",
    "AccountRow",
    "AccountStatus",
    "BindingConflict",
    "BindingKind",
    "CustomerMerge",
    "CustomerSave",
    "LedgerEntry",
    "ListingPressure",
    "LockedOrder",
    "MovementKind",
    "NotificationKey",
    "OrderSaved",
    "OutboxItem",
    "OversoldLevel",
    "PendingNotification",
    "ProductSaved",
    "PromotionListing",
    "PromotionListingState",
    "QuarantineRow",
    "RecentLine",
    "RecentOrder",
    "RunLock",
    "RunLockHolder",
    "RunLocked",
    "SalesGroup",
    "SalesRow",
    "SchemaOutOfDate",
    "StockMovement",
    "StockPressure",
    "Store",
    "StoreActivity",
    "StoreTokenStore",
    "StoredCustomer",
    "StoredLocation",
    "StoredOrder",
    "StoredProduct",
    "StoredPromotion",
    "StoredVariant",
    "TokenCipher",
    "TokenKeyError",
    "Transaction",
    "UnknownAccount",
    "WorkLock",
    "open_store",
]
