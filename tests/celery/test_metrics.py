"""The one /metrics endpoint: workers' counters (multiprocess) and the store's gauges."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prometheus_client import generate_latest
from pydantic import SecretStr

from omnisdk.auth import Token
from omnisdk.runtime.celery.metrics import metrics_registry
from omnisdk.store import open_store

WORKER = """
from omnisdk.runtime.celery.metrics import PUSHES, QUOTA_REBALANCES, record_budget_wait
PUSHES.labels("cua-hang-ha-noi").inc({pushes})
QUOTA_REBALANCES.labels("cua-hang-ha-noi").inc(1)
record_budget_wait("example", "cua-hang-ha-noi", 0.25)
"""


def _worker(directory: Path, pushes: int) -> None:
    env = {"PROMETHEUS_MULTIPROC_DIR": str(directory), "PATH": ""}
    subprocess.run([sys.executable, "-c", WORKER.format(pushes=pushes)], env=env, check=True)


def test_one_endpoint_adds_up_the_workers_and_reads_the_store(tmp_path: Path) -> None:
    directory = tmp_path / "metrics"
    directory.mkdir()
    _worker(directory, 3)  # two worker processes, each with its own files
    _worker(directory, 4)
    store = open_store(f"sqlite:///{tmp_path / 'omnisdk.db'}")
    try:
        store.ensure_account("cua-hang-ha-noi", "example")
        lagging = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
        store.set_cursor("cua-hang-ha-noi", "orders", lagging)
        with store.session() as session:
            store.mark_dirty_many(session, [("cua-hang-ha-noi", "ÁO-DÀI-01")])
        expires = datetime.now(UTC) + timedelta(hours=2)
        token = Token(access_token=SecretStr("tok-bi-mat"), expires_at=expires)
        store.write_token("example", "cua-hang-ha-noi", token)
        text = generate_latest(metrics_registry(store, str(directory))).decode()
    finally:
        store.close()
    lines = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }
    assert lines['omnisdk_pushes_total{account="cua-hang-ha-noi"}'] == 7.0
    assert lines['omnisdk_quota_rebalances_total{account="cua-hang-ha-noi"}'] == 2.0
    assert lines['omnisdk_rate_limit_waits_total{account="cua-hang-ha-noi"}'] == 2.0
    assert lines['omnisdk_rate_limit_wait_seconds_total{account="cua-hang-ha-noi"}'] == 0.5
    assert lines['omnisdk_outbox_depth{account="cua-hang-ha-noi"}'] == 1.0
    lag = lines['omnisdk_intake_lag_seconds{account="cua-hang-ha-noi",stream="orders"}']
    assert 590 < lag < 700
    expiry = lines['omnisdk_token_expires_in_seconds{account="cua-hang-ha-noi"}']
    assert 7000 < expiry <= 7200
    assert "tok-bi-mat" not in text
