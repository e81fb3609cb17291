"""Prices and quantities out of range never crash ``pull``, ``catalog import``, ``sync --once``
or ``reconcile``: the bad record is quarantined with the field and the bound, the rest go on."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from _engine_cli_testkit import Invoke, Shop, json_lines

from omnisdk.testing import SeedProduct

GOLD = "VÀNG-9999"
"""A listing priced 10**30 đồng with 10**30 units on the shelf."""


@pytest.fixture
def hostile(shops: list[Shop]) -> list[Shop]:
    """The two shops; the first also lists GOLD, out of every range."""
    hanoi = shops[0]
    with hanoi.sandbox.lock:
        hanoi.sandbox.seed_products(
            [SeedProduct(sku=GOLD, title="Vàng miếng 9999", price=Decimal("1e30"), stock=10**30)]
        )
    return shops


def no_crash(result: object) -> None:
    output = getattr(result, "output", "")
    assert "Traceback" not in output
    assert getattr(result, "exception", None) is None or isinstance(
        result.exception,  # type: ignore[attr-defined]
        SystemExit,
    ), output


def test_pull_streams_the_good_products_and_sets_the_bad_one_aside(
    invoke: Invoke, hostile: list[Shop]
) -> None:
    result = invoke("pull", "--channel", "hanoi-shop", "products", "--json")

    no_crash(result)
    assert result.exit_code == 0, result.output
    skus = {v["sku"] for product in json_lines(result.stdout) for v in product["variants"]}
    assert GOLD not in skus and "NON-LA-HUE" in skus
    assert "1E+30 VND is out of range" in result.stderr


def test_import_sync_and_reconcile_go_on_past_the_bad_records(
    invoke: Invoke, hostile: list[Shop]
) -> None:
    hanoi, _ = hostile
    imported = invoke("catalog", "import", "--channel", "hanoi-shop", "--json")
    invoke("catalog", "import", "--channel", "saigon-shop")
    stocked = invoke("stock", "set", "NON-LA-HUE", "12")
    hanoi.order(GOLD, 10**20)  # 10**20 units at 10**30 đồng each
    hanoi.order("NON-LA-HUE", 1)
    synced = invoke("sync", "--once", "--json")
    reconciled = invoke("reconcile", "--json")
    kept = invoke("quarantine", "list", "--json")

    for result in (imported, stocked, synced, reconciled, kept):
        no_crash(result)
    assert imported.exit_code == 0, imported.output
    assert stocked.exit_code == 0, stocked.output
    assert synced.exit_code == 0, synced.output
    cycle = json.loads(synced.stdout)
    polls = {poll["account"]: poll for poll in cycle["polls"]}
    assert (polls["hanoi-shop"]["new"], polls["hanoi-shop"]["quarantined"]) == (1, 1)
    assert "hanoi-shop" not in cycle["errors"]
    # The ordinary order reached the book and moved stock; the other shop was told.
    assert hanoi.listed("NON-LA-HUE") + hostile[1].listed("NON-LA-HUE") <= 11
    reasons = {(e["kind"], e["reason"]) for e in json_lines(kept.stdout)}
    assert any(kind == "product" and "out of range" in why for kind, why in reasons)
    assert any(kind == "order" and "out of range" in why for kind, why in reasons)
    # Reconciliation reads every other listing of the account: the one figure out of range
    # is set aside (quarantined as "stock", naming the account and the SKU), not the account.
    assert reconciled.exit_code in (0, 1), reconciled.output
    report = json.loads(reconciled.stdout)
    accounts = {a["account"]: a for a in report["accounts"]}
    assert accounts["hanoi-shop"]["error"] is None, accounts["hanoi-shop"]
    assert accounts["saigon-shop"]["error"] is None
    stock = [e for e in json_lines(kept.stdout) if e["kind"] == "stock"]
    assert [(e["account"], e["external_id"]) for e in stock] == [("hanoi-shop", GOLD)], stock
    assert "example/hanoi-shop stock #VÀNG-9999: listed stock not read" in stock[0]["reason"]
    assert "available 1.000e+30 is out of range" in stock[0]["reason"]
