"""End to end: the scale-out runtime as real processes, under buyers and repeated SIGKILLs.

Four ``omnisdk worker`` processes (one task at a time each), beat and the webhook receiver on
a PostgreSQL store and a RabbitMQ broker (rate budgets shared in Redis), against a sandbox of
every installed online channel. Buyers place and cancel orders on every channel at once
while a worker is SIGKILLed mid-task again and again (and started again). Judged:

- no crash, every accepted order stored once with its units held once (0 once cancelled),
  every cancellation seen; no sandbox received more requests than its account's budget
  allows, whichever workers sent them;
- no unit oversold, and every listing what the ledger says with the outbox empty within the
  window. This ended in a non-strict ``xfail`` until the push queue was limited to one
  message per account and order polls got their own queue; since, it passed in each of 5
  runs at load average 19-28 on 2 CPUs, converging in 57-117 s of its 180 s
  (docs/benchmarks.md).

The full-size run (5,000 orders over 200 SKUs) is ``benchmarks/celery_scaling.py``.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from omnisdk.testing.chaos import ChaosOutcome, ChaosPlan, run_chaos
from omnisdk.testing.flash_sale import online_shops

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

KILLS = 2

@dataclass
class FleetRun:
    """A finished run and the directory of its config."""

    outcome: ChaosOutcome
    workdir: Path


@pytest.fixture
def fleet(
    tmp_path: Path,
    pg_databases: object,
    redis_url: str,
    rabbitmq_url: str,
) -> FleetRun:
    """One run (the test below judges it)."""
    from _database_testkit import PostgresDatabases, migrate

    assert isinstance(pg_databases, PostgresDatabases)
    shops = online_shops(7)
    for _, _, sandbox in shops:
        sandbox.close()
    if len(shops) < 2:
        pytest.skip("needs at least two online channels installed")
    plan = ChaosPlan(
        orders=120,
        orders_per_second=30.0,
        buyers=2,
        cancel_share=0.1,
        skus=8,
        units=15,
        kills=KILLS,
        downtime=(0.2, 0.6),
        token_expiries=0,
        faults={},
        converge_within=180.0,  # ends as soon as converged; a loaded machine is slow
        seed=7,
        workers=4,
        store_url=migrate(pg_databases.create()),
        broker_url=rabbitmq_url,
        rate_limit_url=redis_url,
        requests_per_second=15.0,
        reconcile_interval="30s",
        poll_every="3s",
        push_interval="3s",
    )
    workdir = tmp_path
    outcome = asyncio.run(run_chaos(plan, workdir))
    print(
        f"\nfleet: {outcome.row()} mid-task kills {outcome.mid_task_kills}, rate peaks "
        f"{outcome.rate_peaks}\n{outcome.explain()}"
    )
    return FleetRun(outcome, workdir)


def test_workers_lose_nothing_under_repeated_kills(fleet: FleetRun) -> None:
    """One test for the whole run: pytest-xdist must not start the fleet twice."""
    outcome = fleet.outcome
    assert outcome.kills == KILLS
    assert outcome.mid_task_kills >= 1  # a worker was lost with a task in hand
    assert len(outcome.sales) > 30
    assert outcome.lost == 0, outcome.explain()
    assert outcome.doubled == [], outcome.explain()
    assert outcome.engine_errors == [], outcome.explain()
    assert outcome.rate_peaks, "the sandboxes counted no request"
    assert outcome.rate_exceeded == {}, outcome.rate_peaks
    _status_reads_the_shared_store(fleet)
    assert outcome.oversold == 0, outcome.explain()
    assert outcome.problems == [], outcome.explain()
    assert outcome.converged_after is not None


def _status_reads_the_shared_store(fleet: FleetRun) -> None:
    # `omnisdk status` shows what the workers did, from the store alone.
    env = {k: v for k, v in os.environ.items() if k != "OMNISDK_CONFIG"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "omnisdk",
            "-c",
            str(fleet.workdir / "omnisdk.toml"),
            "status",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    report = json.loads(done.stdout)
    assert report["store_dialect"] == "postgresql"
    accounts = {account["account"]: account for account in report["accounts"]}
    assert set(accounts) == set(fleet.outcome.accounts)
    assert all(account["cursors"] for account in accounts.values())  # every account polled
