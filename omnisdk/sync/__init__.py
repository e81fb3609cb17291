"""The sync engine: stock ledger, orders, customers, pushes, catalogue and reconciliation.

:class:`Engine` is the entry point (``SyncEngine`` for plain, non-async code); the modules
beside it each do one job for it:

=============================  ================================================="""

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
