"""Prometheus metrics of the scale-out runtime, on one ``/metrics`` endpoint.

Two sources, one endpoint (``omnisdk metrics --port 9464``):

- **counters the workers keep** (``prometheus-client`` in multiprocess mode: each worker
  process writes its own files under ``PROMETHEUS_MULTIPROC_DIR``, which ``omnisdk worker
  --metrics-dir`` sets, and the endpoint adds them up): pushes, push failures, task runs and
  failures, rate-limit waits and the seconds waited, quota rebalances, per account;
- **gauges read from the shared store at scrape time** (so they are right whichever worker did
  the work, and also with no worker running): per account intake lag (seconds from each
  cursor to now), outbox depth, pushes failed for good, open quarantine, seconds until the
  access token expires.

Metric names start with ``omnisdk_``; every per-account series has an ``account`` label.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from omnisdk.store import Store

__all__ = [
    "MULTIPROC_ENV",
    "PUSHES",
    "PUSH_FAILURES",
    "QUOTA_REBALANCES",
    "RATE_LIMIT_WAITS",
    "RATE_LIMIT_WAIT_SECONDS",
    "TASKS",
    "TASK_FAILURES",
    "StoreCollector",
    "metrics_registry",
    "record_budget_wait",
]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
"""Where worker processes write their metric files (multiprocess mode)."""

PUSHES = Counter("omnisdk_pushes", "Stock figures a channel accepted.", ["account"])
PUSH_FAILURES = Counter(
    "omnisdk_push_failures", "Stock pushes that failed (for now or for good).", ["account"]
)
TASKS = Counter("omnisdk_tasks", "Tasks a worker ran.", ["task", "account"])
TASK_FAILURES = Counter("omnisdk_task_failures", "Tasks that raised.", ["task", "account"])
RATE_LIMIT_WAITS = Counter(
    "omnisdk_rate_limit_waits", "Requests that waited for the shared rate budget.", ["account"]
)
RATE_LIMIT_WAIT_SECONDS = Counter(
    "omnisdk_rate_limit_wait_seconds", "Seconds requests waited for the shared budget.", ["account"]
)
QUOTA_REBALANCES = Counter(
    "omnisdk_quota_rebalances",
    "Pushed figures lowered to give units to another account (quota moves).",
    ["account"],
)


def record_budget_wait(channel: str, account: str, seconds: float) -> None:
    """Count one wait for a shared budget (the :class:`SharedBudgets` ``on_wait``)."""
    RATE_LIMIT_WAITS.labels(account).inc()
    RATE_LIMIT_WAIT_SECONDS.labels(account).inc(seconds)


class StoreCollector(Collector):
    """Per-account gauges read from the store on every scrape (see the module doc)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """The gauges, now."""
        from omnisdk.sync.status import cursor_lag

        now = datetime.now(UTC)
        lag = GaugeMetricFamily(
            "omnisdk_intake_lag_seconds",
            "Seconds from an account's intake cursor to now.",
            labels=["account", "stream"],
        )
        depth = GaugeMetricFamily(
            "omnisdk_outbox_depth", "Stock pushes pending per account.", labels=["account"]
        )
        failed = GaugeMetricFamily(
            "omnisdk_failed_pushes", "Pushes failed for good per account.", labels=["account"]
        )
        quarantine = GaugeMetricFamily(
            "omnisdk_quarantine_open", "Records set aside per account.", labels=["account"]
        )
        expiry = GaugeMetricFamily(
            "omnisdk_token_expires_in_seconds",
            "Seconds until the account's access token expires (negative: expired).",
            labels=["account"],
        )
        activity = self.store.activity(recent=0)
        for account in activity.accounts:
            for cursor in account.cursors:
                seconds = cursor_lag(cursor.value, now)
                if seconds is not None:
                    lag.add_metric([account.name, cursor.stream], seconds)
            depth.add_metric([account.name], account.outbox_depth)
            failed.add_metric([account.name], account.failed_pushes)
            quarantine.add_metric([account.name], account.quarantine_open)
            token = self.store.read_token(account.channel, account.name)
            if token is not None and token.expires_at is not None:
                expiry.add_metric([account.name], (token.expires_at - now).total_seconds())
        yield from (lag, depth, failed, quarantine, expiry)


def metrics_registry(store: Store | None, multiprocess_dir: str | None = None) -> Any:
    """The registry ``/metrics`` serves: the workers' counters (from ``multiprocess_dir``,
    default ``$PROMETHEUS_MULTIPROC_DIR``) and the store's gauges."""
    registry = CollectorRegistry()
    directory = multiprocess_dir or os.environ.get(MULTIPROC_ENV)
    if directory:
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    if store is not None:
        registry.register(StoreCollector(store))
    return registry
