"""``omnisdk channels remove NAME``: listings to 0, webhooks off, archived, history kept."""

from __future__ import annotations

import json
from pathlib import Path

from _engine_cli_testkit import CATALOG, Invoke, Shop, config_text, json_lines

from omnisdk.sync.status import StatusReport


def test_dry_run_changes_nothing_and_remove_retires_the_account(
    invoke: Invoke, imported: list[Shop]
) -> None:
    hanoi, saigon = imported
    unknown = invoke("channels", "remove", "hue-shop")
    assert unknown.exit_code == 1
    assert "hanoi-shop" in unknown.stderr and "hue-shop" in unknown.stderr
    hanoi.order("NON-LA-HUE", 1, name="Đặng Thu Thảo", phone="0912777888")
    assert invoke("sync", "--once", "--no-reconcile").exit_code == 0
    before = {item.sku: hanoi.listed(item.sku) for item in CATALOG}

    dry = invoke("channels", "remove", "hanoi-shop", "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    planned = json.loads(dry.stdout)
    assert planned["dry_run"] and not planned["archived"]
    assert {item["sku"]: item["listed"] for item in planned["listings"]} == before
    assert {item.sku: hanoi.listed(item.sku) for item in CATALOG} == before

    removed = invoke("channels", "remove", "hanoi-shop")
    assert removed.exit_code == 0, removed.output
    assert "hanoi-shop retired" in removed.stderr
    assert all(hanoi.listed(item.sku) == 0 for item in CATALOG)
    status = StatusReport.model_validate_json(invoke("status", "--json").stdout)
    assert status.account("hanoi-shop").status == "archived"

    assert invoke("push").exit_code == 0
    # The quota hanoi-shop held goes to saigon-shop: it now lists the whole free pool.
    assert saigon.listed("NON-LA-HUE") == 12 - 1
    assert all(hanoi.listed(item.sku) == 0 for item in CATALOG)  # never pushed again
    orders = json_lines(invoke("orders", "list", "--json", "--channel", "hanoi-shop").stdout)
    assert [order["customer"]["full_name"] for order in orders] == ["Đặng Thu Thảo"]


def test_stock_show_names_an_account_dropped_from_the_config(
    invoke: Invoke, imported: list[Shop], config_path: Path, tmp_path: Path
) -> None:
    """An account deleted from omnisdk.toml without ``channels remove`` still has listings in
    the store: ``stock show`` says so instead of failing on the missing ``[[channels]]``."""
    _hanoi, saigon = imported
    assert invoke("stock", "set", "NON-LA-HUE", "12").exit_code == 0
    config_path.write_text(config_text([saigon], tmp_path / "omnisdk.db"))

    shown = invoke("stock", "show", "NON-LA-HUE", "--offline")
    assert shown.exit_code == 0, shown.output
    assert "hanoi-shop" in shown.stderr and "no longer in the config" in shown.stderr
    as_json = json.loads(invoke("stock", "show", "NON-LA-HUE", "--offline", "--json").stdout)
    assert [row["account"] for row in as_json["listings"]] == ["saigon-shop"]
    assert as_json["unconfigured"] == ["hanoi-shop"]
    # The pool now goes to the one configured account.
    assert as_json["listings"][0]["sellable"] == 12


def test_reauthorise_takes_the_new_token_from_the_config(
    invoke: Invoke, imported: list[Shop], config_path: Path, tmp_path: Path
) -> None:
    """The merchant installed the app again and got a new token: the stored token (which
    wins over the config's, and is now refused) must give way to the one in omnisdk.toml."""
    hanoi = imported[0]

    def write_config() -> None:  # hanoi-shop (first) stops at its first refusal
        text = config_text(imported, tmp_path / "omnisdk.db")
        config_path.write_text(
            text.replace("[channels.settings]\n", "[channels.settings]\nreauth_after = 1\n", 1)
        )

    write_config()
    with hanoi.sandbox.lock:
        hanoi.sandbox.reset_state()  # a new API token; the old one is refused with 401
    invoke("sync", "--once", "--no-reconcile")
    status = StatusReport.model_validate_json(invoke("status", "--json").stdout)
    assert status.account("hanoi-shop").status == "needs_reauth"

    stale = invoke("channels", "reauthorise", "hanoi-shop")
    assert stale.exit_code == 1
    assert len(stale.stderr.strip().splitlines()) == 1, stale.stderr
    assert "Traceback" not in stale.output
    status = StatusReport.model_validate_json(invoke("status", "--json").stdout)
    assert status.account("hanoi-shop").status == "needs_reauth", "a refused check changes nothing"

    write_config()
    done = invoke("channels", "reauthorise", "hanoi-shop")
    assert done.exit_code == 0, done.output
    assert "hanoi-shop authorised again" in done.stderr
    assert hanoi.sandbox.api_token not in done.output
    status = StatusReport.model_validate_json(invoke("status", "--json").stdout)
    assert status.account("hanoi-shop").status == "active"

    hanoi.sandbox.seed_products(CATALOG)
    hanoi.order("NON-LA-HUE", 2, name="Lê Thị Hồng Nhung", phone="+84 912 345 678")
    synced = invoke("sync", "--once", "--no-reconcile")
    assert synced.exit_code == 0, synced.output
    orders = json_lines(invoke("orders", "list", "--json", "--channel", "hanoi-shop").stdout)
    assert [order["customer"]["full_name"] for order in orders] == ["Lê Thị Hồng Nhung"]
