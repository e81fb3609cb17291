"""End to end, reduced chaos: ``omnisdk run`` under faults, token expiries and SIGKILLs.

The CI-sized run of ``benchmarks/chaos.py`` (see :mod:`omnisdk.testing.chaos`): a sandbox
of every installed online channel on loopback, ``omnisdk run`` as a real process on a SQLite
store, buyers placing and cancelling 400 orders over 10 s while the sandboxes fail 15 % of
the calls (429 with Retry-After, 5xx), drop 5 %, add 20 ms, deliver webhooks twice, late and
out of order; every access token expires once and the engine is SIGKILLed twice and started
again. Then the faults stop. One run (about 25 s), judged by two tests:

- required: no crash, nothing lost (every accepted order stored, every cancellation seen,
  every order's units held), nothing doubled;
- known weak (``xfail``, not strict): no unit oversold and converged within 10 s. Runs of
  this plan oversell a unit or two now and then (see :data:`OVERSELL` and
  docs/benchmarks.md, "Chaos"): a finding, not yet fixed.
"""

from __future__ import annotations

import asyncio

import pytest

from omnisdk.testing.chaos import DEFAULT_FAULTS, ChaosOutcome, ChaosPlan, run_chaos
from omnisdk.testing.flash_sale import online_shops

PLAN = ChaosPlan(
    orders=400,
    orders_per_second=40.0,
    buyers=3,
    skus=6,
    units=25,
    kills=2,
    token_expiries=1,
    faults=DEFAULT_FAULTS,
    converge_within=10.0,
    seed=2611,
    client_credentials=("shopify-1",),  # a Shopify token that expires, beside Shopee's
)

OVERSELL = (
    "convergence within 10 s is not reliable on a loaded machine: the last SIGKILL's restart "
    "often lands when the faults stop, and a restart took 5-15 s at load 11-13 before the "
    "catch-up on orders; a SIGKILL between a token refresh and storing its new pair leaves a "
    "dead refresh token (the account stops until the kit authorises it again, as its "
    "operator would; meanwhile others may oversell). "
    "Units are sometimes oversold when absolute and compare-and-swap channels sell together, "
    "or when a platform puts a cancelled order's units back on sale while the engine is down "
    "(1 unit in a fresh-clone CI run on 2026-12-08 after 11 clean runs) "
    "(docs/benchmarks.md, Chaos)"
)


@pytest.fixture(scope="module")
def chaos(tmp_path_factory: pytest.TempPathFactory) -> ChaosOutcome:
    """One reduced chaos run for the module (both tests judge it)."""
    shops = online_shops(PLAN.seed)
    for _, _, sandbox in shops:
        sandbox.close()
    if len(shops) < 2:
        pytest.skip("a chaos run needs at least two online channels installed")
    outcome = asyncio.run(run_chaos(PLAN, tmp_path_factory.mktemp("chaos")))
    print(f"\nchaos: {outcome.row()}\n{outcome.explain()}")
    return outcome


def report(outcome: ChaosOutcome) -> str:
    """The run's figures and findings, for failure messages."""
    return f"{outcome.row()}\n{outcome.explain()}"


@pytest.mark.slow
def test_chaos_loses_nothing_and_doubles_nothing(chaos: ChaosOutcome) -> None:
    assert chaos.kills == PLAN.kills and chaos.token_expiries == PLAN.token_expiries
    assert chaos.faults_injected > 0, "no fault was injected: the run proves nothing"
    assert len(chaos.sales) > 100 and chaos.cancellations, report(chaos)
    assert not chaos.engine_errors, report(chaos)
    assert not chaos.lost_orders and not chaos.lost_cancellations, report(chaos)
    assert not chaos.held_short and not chaos.doubled, report(chaos)


@pytest.mark.slow
@pytest.mark.xfail(reason=OVERSELL, strict=False)
def test_chaos_oversells_nothing_and_converges_within_10_s(chaos: ChaosOutcome) -> None:
    assert chaos.oversold == 0, report(chaos)
    assert chaos.converged_after is not None, report(chaos)
    assert chaos.converged_after <= PLAN.converge_within, report(chaos)
