"""The sync engine: stock ledger, orders, customers, pushes, catalog and reconciliation.

:class:`Engine` is the entry point (``SyncEngine`` for plain, non-async code); the modules
beside it each do one job for it:

=============================  ========================================================
``omnisdk.sync.engine``        the Engine and SyncEngine facades
``omnisdk.sync.context``       what the parts below receive: store, channels, clock, hooks
``omnisdk.sync.transactions``  one retried store transaction and the hooks it fires
``omnisdk.sync.accounts``      accounts covered; stopped accounts, lost authorisation
``omnisdk.sync.stock``         orders -> ledger movements; counts, adjustments, outbox marks
``omnisdk.sync.sellable``      what an account may list and is believed to show
``omnisdk.sync.intake``        orders, customers and listings polled; webhook events
``omnisdk.sync.pusher``        the outbox drained per account: push modes, retries
``omnisdk.sync.customers``     identity resolution and reversible merges
``omnisdk.sync.customer_view`` one customer, 360°: identities, merges, orders, value
``omnisdk.sync.catalog``       catalog import, plan and apply
``omnisdk.sync.reconcile``     listed stock compared with what it should be, drift repaired
``omnisdk.sync.status``        the engine's status report
``omnisdk.sync.reports``       what the report models share (lookup by account)
``omnisdk.sync.sales``         the sales report (revenue per channel, store, SKU, day)
=============================  ========================================================

Every part takes a :class:`~omnisdk.sync.context.SyncContext`, never the Engine, and only
the Engine imports them all (``tests/architecture/test_import_graph.py`` checks both).
"""

from omnisdk.sync.customer_view import CustomerView
from omnisdk.sync.customers import CustomerHistory
from omnisdk.sync.engine import CycleStats, Engine, SyncEngine
from omnisdk.sync.intake import IngestResult, SyncStats
from omnisdk.sync.pusher import AccountPushStats, PushStats
from omnisdk.sync.sales import SalesGroup, SalesLine, SalesReport
from omnisdk.sync.stock import ListingView, LocationStock, StockView

__all__ = [
    "AccountPushStats",
    "CustomerHistory",
    "CustomerView",
    "CycleStats",
    "Engine",
    "IngestResult",
    "ListingView",
    "LocationStock",
    "PushStats",
    "SalesGroup",
    "SalesLine",
    "SalesReport",
    "StockView",
    "SyncEngine",
    "SyncStats",
]
