"""How the engine runs.

:class:`LocalRuntime` (``omnisdk run``) runs everything in one process on one asyncio loop:
pollers and pushers per channel account, reconciliation and the webhook receiver. The
scale-out runtime (Celery workers on PostgreSQL) runs the same engine operations as tasks.
"""

from omnisdk.runtime.local import AccountActivity, LocalRuntime, RuntimeStats

__all__ = ["AccountActivity", "LocalRuntime", "RuntimeStats"]
