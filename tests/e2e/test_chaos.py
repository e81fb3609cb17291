"""End to end, reduced chaos: ``omnisdk run`` under faults, token expiries and SIGKILLs.

The CI-sized run of ``benchmarks/chaos.py`` (see :mod:`omnisdk.testing.chaos`): a sandbox
of every installed online channel on loopback, ``omnisdk run`` as a real process on a SQLite
store, buyers placing and cancelling 400 orders over 10 s while the sandboxes fail 15 % of
the calls (429 with Retry-After, 5xx), drop 5 %, add latency, deliver webhooks twice, late
and out of order, every access token expires once and the engine is SIGKILLed twice and
started again. Then the faults stop. Required: nothing lost, nothing doubled, no oversell on
a compare-and-swap channel, converged within 10 s.

Known weak (an xfail, not a pass, when it is the only thing wrong): an **absolute** channel
(Shopee) can resell units between the engine's read and its write — the documented
exposure of that push mode (docs/concepts.md) — and under faults and kills its listing can
take longer than 10 s to settle (see docs/benchmarks.md, "Chaos").
"""

from __future__ import annotations

from pathlib import Path

import pytest

from omnisdk.testing.chaos import DEFAULT_FAULTS, ChaosPlan, run_chaos
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
)

ABSOLUTE = {"shopee"}
"""Channel types that take absolute stock writes (their known exposure, see the module doc)."""

WEAK_REASON = (
    "absolute push mode (Shopee): units bought between the engine's read and its write can be "
    "sold again on that channel, and under faults and kills its listing may settle later than "
    "10 s (docs/benchmarks.md, Chaos)"
)


@pytest.mark.slow
async def test_chaos_loses_nothing_doubles_nothing_and_converges(tmp_path: Path) -> None:
    shops = online_shops(PLAN.seed)
    types = {name: sandbox.channel_type for name, _, sandbox in shops}
    for _, _, sandbox in shops:
        sandbox.close()
    if len(types) < 2:
        pytest.skip("a chaos run needs at least two online channels installed")

    outcome = await run_chaos(PLAN, tmp_path)
    report = f"{outcome.row()}\n{outcome.explain()}"
    print(report)

    assert outcome.kills == PLAN.kills and outcome.token_expiries == PLAN.token_expiries
    assert outcome.faults_injected > 0, "no fault was injected: the run proves nothing"
    assert len(outcome.sales) > 100 and outcome.cancellations, report
    assert not outcome.engine_errors, report
    assert outcome.lost == 0, report
    assert not outcome.doubled, report
    strong = {a: n for a, n in outcome.oversold_on.items() if types[a] not in ABSOLUTE}
    assert not strong, f"oversold on a compare-and-swap channel: {report}"
    slow = [p for p in outcome.problems if not any(types[a] in ABSOLUTE and a in p for a in types)]
    assert not slow, f"not converged {PLAN.converge_within:g} s after the faults: {report}"
    if outcome.oversold or outcome.problems:
        pytest.xfail(f"{WEAK_REASON}: {report}")
