"""``catalog import --with-stock``: the listed figures become the first count (issue #15 item 4)."""

from __future__ import annotations

import json

from _engine_cli_testkit import CATALOG, Invoke, Shop


def test_with_stock_counts_what_the_shop_lists_once_and_keeps_counted_skus(
    invoke: Invoke, shops: list[Shop]
) -> None:
    plain = invoke("catalog", "import", "--channel", "saigon-shop")
    assert plain.exit_code == 0, plain.output
    said = " ".join(plain.stderr.split())
    assert f"holds no stock for the {len(CATALOG)} new SKUs yet" in said
    assert "--with-stock" in said
    assert invoke("stock", "set", "TRANH-SON-MAI", "1", "--no-push").exit_code == 0

    first = invoke("catalog", "import", "--channel", "hanoi-shop", "--with-stock", "--json")
    again = invoke("catalog", "import", "--channel", "hanoi-shop", "--with-stock", "--json")
    shown = json.loads(invoke("stock", "show", "NON-LA-HUE", "--offline", "--json").stdout)
    reconciled = json.loads(invoke("reconcile", "--json").stdout)

    assert first.exit_code == 0, first.output
    counted = json.loads(first.stdout)["stock"]
    listed = {item.sku: item.stock for item in CATALOG}
    assert counted["location"] == "main"
    assert counted["counted"] == len(CATALOG) - 1
    assert counted["units"] == sum(listed.values()) - listed["TRANH-SON-MAI"]
    assert counted["kept"] == ["TRANH-SON-MAI"]  # a person's count beats a listed figure
    assert json.loads(again.stdout)["stock"]["counted"] == 0
    assert [(level["location"], level["on_hand"]) for level in shown["locations"]] == [
        ("main", listed["NON-LA-HUE"])
    ]
    assert all(account["untracked"] == 0 for account in reconciled["accounts"])
