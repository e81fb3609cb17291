"""The sync engine: stock ledger, orders, customers, pushes, catalogue and reconciliation.

:class:`Engine` is the entry point (``SyncEngine`` for plain, non-async code); the modules
beside it each do one job for it:

==========================  ===========================================================
``omnisdk.sync.engine``     the Engine and SyncEngine facades
``omnisdk.sync.stock``      orders -> ledger movements; counts, adjustments, outbox marks
``omnisdk.sync.intake``     order ingestion: polling cursors, webhook events, app orders
``omnisdk.sync.pusher``     the outbox drained per account: allocation and push modes
``omnisdk.sync.customers``  identity resolution and reversible merges
``omnisdk.sync.catalog``    catalogue import, plan and apply
``omnisdk.sync.reconcile``  listed stock compared with what it should be, drift repaired
``omnisdk.sync.status``     the engine's status report
``omnisdk.sync.accounts``   which accounts an operation covers; stopped-account handling
``omnisdk.sync.reports``    what the report models share (lookup by account)
==========================  ===========================================================
"""

from omnisdk.sync.customers import CustomerHistory
from omnisdk.sync.engine import CycleStats, Engine, SyncEngine
from omnisdk.sync.intake import IngestResult, SyncStats
from omnisdk.sync.pusher import AccountPushStats, PushStats
from omnisdk.sync.stock import ListingView, LocationStock, StockView

__all__ = [
    "AccountPushStats",
    "CustomerHistory",
    "CycleStats",
    "Engine",
    "IngestResult",
    "ListingView",
    "LocationStock",
    "PushStats",
    "StockView",
    "SyncEngine",
    "SyncStats",
]
