"""End to end: the scale-out runtime as real processes, under buyers and repeated SIGKILLs.

Four ``omnisdk worker`` processes (one task at a time each), beat and the webhook receiver on
a PostgreSQL store and a RabbitMQ broker (rate budgets shared in Redis), against a sandbox of
every installed online channel. Buyers place and cancel orders on every channel at once
while a worker is SIGKILLed mid-task again and again (and started again). Judged:

- required: no crash, every accepted order stored once with its units held once (0 once
  cancelled), every cancellation seen; no sandbox received more requests than its account's
  budget allows, whichever workers sent them;
- known weak (``xfail``, not strict, as in tests/e2e/test_chaos.py): no unit oversold, and
  every listing what the ledger says with the outbox empty within the window.

The full-size run (5,000 orders over 200 SKUs) is ``benchmarks/celery_scaling.py``.
"""

from __future__ import annotations

import asyncio

import pytest

from omnisdk.testing.chaos import ChaosOutcome, ChaosPlan, run_chaos
from omnisdk.testing.flash_sale import online_shops

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

KILLS = 2

OVERSELL = (
    "the engine's known weakness (tests/e2e/test_chaos.py, OVERSELL): a unit or two are "
    "sometimes oversold on Shopify when Shopee (absolute writes) and Shopify "
    "(compare-and-swap) sell together, with the local runtime as with workers; convergence "
    "can take longer than the window on a loaded machine"
)


@pytest.fixture(scope="module")
def fleet_run(
    tmp_path_factory: pytest.TempPathFactory,
    pg_databases: object,
    redis_url: str,
    rabbitmq_url: str,
) -> ChaosOutcome:
    """One run for the module (the tests below judge it)."""
    from _database_testkit import PostgresDatabases, migrate

    assert isinstance(pg_databases, PostgresDatabases)
    shops = online_shops(7)
    for _, _, sandbox in shops:
        sandbox.close()
    if len(shops) < 2:
        pytest.skip("needs at least two online channels installed")
    plan = ChaosPlan(
        orders=200,
        orders_per_second=40.0,
        buyers=2,
        cancel_share=0.1,
        skus=8,
        units=15,
        kills=KILLS,
        downtime=(0.2, 0.6),
        token_expiries=0,
        faults={},
        converge_within=20.0,
        seed=7,
        workers=4,
        store_url=migrate(pg_databases.create()),
        broker_url=rabbitmq_url,
        rate_limit_url=redis_url,
        requests_per_second=15.0,
        reconcile_interval="10s",
    )
    outcome = asyncio.run(run_chaos(plan, tmp_path_factory.mktemp("fleet")))
    print(f"\nfleet: {outcome.row()} rate peaks {outcome.rate_peaks}\n{outcome.explain()}")
    return outcome


def test_nothing_lost_or_doubled_across_kills(fleet_run: ChaosOutcome) -> None:
    assert fleet_run.kills == KILLS
    assert len(fleet_run.sales) > 50
    assert fleet_run.lost == 0, fleet_run.explain()
    assert fleet_run.doubled == [], fleet_run.explain()


@pytest.mark.xfail(reason=OVERSELL, strict=False)
def test_no_unit_oversold_and_listings_converge(fleet_run: ChaosOutcome) -> None:
    assert fleet_run.oversold == 0, fleet_run.explain()
    assert fleet_run.problems == [], fleet_run.explain()


def test_no_crash_and_no_budget_exceeded(fleet_run: ChaosOutcome) -> None:
    assert fleet_run.engine_errors == [], fleet_run.explain()
    assert fleet_run.rate_peaks, "the sandboxes counted no request"
    assert fleet_run.rate_exceeded == {}, fleet_run.rate_peaks
