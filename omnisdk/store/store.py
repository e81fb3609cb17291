"""The :class:`Store`: every repository of the persistence layer behind one object."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import URL

from omnisdk.store.accounts import AccountsMixin
from omnisdk.store.bindings import BindingsMixin
from omnisdk.store.catalog import CatalogMixin
from omnisdk.store.cursors import CursorsMixin
from omnisdk.store.customers import CustomersMixin
from omnisdk.store.engine import DEFAULT_URL
from omnisdk.store.ledger import LedgerMixin
from omnisdk.store.listings import ListingsMixin
from omnisdk.store.notifications import NotificationsMixin
from omnisdk.store.orders import OrdersMixin
from omnisdk.store.outbox import OutboxMixin
from omnisdk.store.promotions import PromotionsMixin
from omnisdk.store.quarantine import QuarantineMixin
from omnisdk.store.recent import RecentMixin
from omnisdk.store.run_lock import RunLockMixin
from omnisdk.store.sales import SalesMixin
from omnisdk.store.status import StatusMixin
from omnisdk.store.tokens import TokensMixin
from omnisdk.store.webhooks import WebhooksMixin
from omnisdk.store.work_locks import WorkLockMixin

__all__ = ["Store", "open_store"]


class Store(
    AccountsMixin,
    TokensMixin,
    BindingsMixin,
    CatalogMixin,
    LedgerMixin,
    OrdersMixin,
    CustomersMixin,
    CursorsMixin,
    OutboxMixin,
    PromotionsMixin,
    QuarantineMixin,
    WebhooksMixin,
    ListingsMixin,
    StatusMixin,
    RecentMixin,
    RunLockMixin,
    SalesMixin,
    NotificationsMixin,
    WorkLockMixin,
):
    """omnisdk's persistence: SQLite by default, PostgreSQL for many workers.

    Synchronous and thread-safe: async code calls it through ``asyncio.to_thread``. Each
    method runs in its own transaction unless given ``session=`` (from :meth:`session`), in
    which case it joins that transaction::

        store = open_store("sqlite:///omnisdk.db")
        with store.session() as session:
            if store.apply_stock_movement(session, key="order:shopee:main:2407:reserve",
                                          sku="ÁO-THUN-ĐỎ-M", location="hcm-q1",
                                          kind="reserve", reserved_delta=2):
                store.mark_dirty(session, "lazada-main", "ÁO-THUN-ĐỎ-M")
    """


def open_store(
    url: str | URL = DEFAULT_URL,
    *,
    migrate: bool = True,
    busy_timeout: float = 30.0,
    pool_size: int = 5,
    max_overflow: int = 10,
    echo: bool = False,
    token_keys: Sequence[str] | None = None,
) -> Store:
    """Open the store at ``url``: upgrade its schema (``migrate=True``) or check it is current.

    With ``migrate=False`` a database that is not at the newest revision raises
    :class:`~omnisdk.store.errors.SchemaOutOfDate` instead of being changed. ``token_keys``:
    see :class:`Store` (default: ``OMNISDK_TOKEN_KEYS``).
    """
    store = Store(
        url,
        busy_timeout=busy_timeout,
        pool_size=pool_size,
        max_overflow=max_overflow,
        echo=echo,
        token_keys=token_keys,
    )
    try:
        if migrate:
            store.migrate()
        else:
            store.check_schema()
    except BaseException:
        store.close()
        raise
    return store
