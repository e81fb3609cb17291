"""The engine commands through ``build_app`` (CliRunner), against two Example shops on loopback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _engine_cli_testkit import CATALOG, Invoke, Shop, json_lines

from omnisdk.models import Order, OrderStatus
from omnisdk.store import open_store
from omnisdk.sync.catalog import ImportStats, Plan
from omnisdk.sync.status import StatusReport


def test_catalog_import_binds_every_sku_and_prints_the_stats(
    invoke: Invoke, shops: list[Shop]
) -> None:
    first = invoke("catalog", "import", "--channel", "hanoi-shop", "--json")
    second = invoke("catalog", "import", "--channel", "saigon-shop", "--json")

    assert first.exit_code == 0, first.output
    stats = ImportStats.model_validate_json(first.stdout)
    assert stats.account == "hanoi-shop"
    assert stats.variants_created == len(CATALOG)
    again = ImportStats.model_validate_json(second.stdout)
    assert again.variants_created == 0
    assert again.variants_matched == len(CATALOG)


def test_catalog_import_of_an_unknown_channel_names_the_configured_ones(
    invoke: Invoke, shops: list[Shop]
) -> None:
    result = invoke("catalog", "import", "--channel", "hanoi-shoop")

    assert result.exit_code == 1
    assert "no channel named 'hanoi-shoop'" in result.stderr
    assert "Did you mean 'hanoi-shop'?" in result.stderr


def test_stock_set_pushes_and_stock_show_reports_pool_and_channels(
    invoke: Invoke, imported: list[Shop]
) -> None:
    result = invoke("stock", "set", "NON-LA-HUE", "7")
    shown = invoke("stock", "show", "NON-LA-HUE", "--json")

    assert result.exit_code == 0, result.output
    assert "on hand set to 7" in result.stderr
    # Quota allocation: the two shops share the 7 units (the odd one to the first by name).
    assert [shop.listed("NON-LA-HUE") for shop in imported] == [4, 3]
    report = json.loads(shown.stdout)
    assert report["sku"] == "NON-LA-HUE"
    assert report["allocation"] == "quota"
    assert report["locations"] == [{"location": "main", "on_hand": 7, "reserved": 0}]
    by_account = {v["account"]: v for v in report["listings"]}
    assert {a: v["sellable"] for a, v in by_account.items()} == {"hanoi-shop": 4, "saigon-shop": 3}
    assert {a: v["share"] for a, v in by_account.items()} == {"hanoi-shop": 4, "saigon-shop": 3}
    assert {a: v["holds"] for a, v in by_account.items()} == {"hanoi-shop": 4, "saigon-shop": 3}
    assert report["listed_now"] == {"hanoi-shop": 4, "saigon-shop": 3}


def test_stock_show_as_a_table(invoke: Invoke, imported: list[Shop]) -> None:
    result = invoke("stock", "show", "TRANH-SON-MAI", "--offline")

    assert result.exit_code == 0, result.output
    assert "TRANH-SON-MAI: stock pool" in result.stdout
    assert "hanoi-shop" in result.stdout and "saigon-shop" in result.stdout
    assert "not read" in result.stdout


def test_stock_adjust_is_idempotent_with_a_key(invoke: Invoke, imported: list[Shop]) -> None:
    first = invoke("stock", "adjust", "AO-THUN-DO-M", "5", "--key", "phieu-nhap-0042")
    again = invoke("stock", "adjust", "AO-THUN-DO-M", "5", "--key", "phieu-nhap-0042")
    shown = json.loads(invoke("stock", "show", "AO-THUN-DO-M", "--json").stdout)

    assert first.exit_code == 0 and again.exit_code == 0
    assert "already applied" in again.stderr
    assert shown["locations"][0]["on_hand"] == 25
    assert [shop.listed("AO-THUN-DO-M") for shop in imported] == [13, 12]


def test_sync_once_ingests_orders_and_tells_the_other_channel(
    invoke: Invoke, imported: list[Shop]
) -> None:
    hanoi, saigon = imported
    hanoi.order("TRANH-SON-MAI", 1, name="Nguyễn Thị Hoa", phone="0912345678")

    result = invoke("sync", "--once", "--json", "--no-reconcile")

    assert result.exit_code == 0, result.output
    cycle = json.loads(result.stdout)
    polls = {poll["account"]: poll for poll in cycle["polls"]}
    assert polls["hanoi-shop"]["new"] == 1
    assert polls["saigon-shop"]["new"] == 0
    # The last unit goes to where it sells: saigon-shop is told to list none.
    assert (hanoi.listed("TRANH-SON-MAI"), saigon.listed("TRANH-SON-MAI")) == (1, 0)
    assert cycle["errors"] == {}


def test_sync_needs_once(invoke: Invoke, shops: list[Shop]) -> None:
    result = invoke("sync")

    assert result.exit_code == 2
    assert "omnisdk run" in result.stderr


def test_orders_list_prints_one_order_json_per_line_with_filters(
    invoke: Invoke, imported: list[Shop]
) -> None:
    hanoi, saigon = imported
    hanoi.order("NON-LA-HUE", 2, name="Trần Văn Bình", phone="+84987654321")
    saigon.order("AO-THUN-DO-M", 1, name="Lê Thị Cúc", email="cuc@example.vn")
    assert invoke("sync", "--once", "--no-reconcile").exit_code == 0

    everything = json_lines(invoke("orders", "list", "--json").stdout)
    saigon_only = json_lines(invoke("orders", "list", "--json", "--channel", "saigon-shop").stdout)
    cancelled = invoke("orders", "list", "--json", "--status", "cancelled")
    table = invoke("orders", "list")

    orders = [Order.model_validate(line) for line in everything]
    assert sorted(o.channel_ref.account for o in orders) == ["hanoi-shop", "saigon-shop"]
    assert set(everything[0]["channel_ref"]) == {"channel", "account", "external_id"}
    [binh] = [o for o in orders if o.channel_ref.account == "hanoi-shop"]
    assert binh.customer is not None and binh.customer.full_name == "Trần Văn Bình"
    assert [line["channel_ref"]["account"] for line in saigon_only] == ["saigon-shop"]
    assert cancelled.exit_code == 0 and cancelled.stdout == ""
    assert table.exit_code == 0
    assert "hanoi-shop" in table.stdout and "Trần Văn Bình" in table.stdout


def test_orders_list_refuses_an_unknown_status(invoke: Invoke, shops: list[Shop]) -> None:
    result = invoke("orders", "list", "--status", "shipped-ish")

    assert result.exit_code == 2
    assert "not an order status" in result.stderr


def test_customers_show_by_phone_gathers_orders_from_every_channel(
    invoke: Invoke, imported: list[Shop]
) -> None:
    hanoi, saigon = imported
    hanoi.order("NON-LA-HUE", 1, name="Phạm Thu Dung", phone="0912000111")
    saigon.order("AO-THUN-DO-M", 1, name="Phạm Thu Dung", phone="+84 912 000 111")
    assert invoke("sync", "--once", "--no-reconcile").exit_code == 0

    result = invoke("customers", "show", "0912000111", "--json")
    table = invoke("customers", "show", "+84912000111")

    assert result.exit_code == 0, result.output
    view = json.loads(result.stdout)
    assert view["customer"]["full_name"] == "Phạm Thu Dung"
    assert sorted(o["channel_ref"]["account"] for o in view["orders"]) == [
        "hanoi-shop",
        "saigon-shop",
    ]
    assert "phone:+84912000111" in view["match_keys"]
    by_id = invoke("customers", "show", view["id"], "--json")
    assert json.loads(by_id.stdout)["id"] == view["id"]
    assert "Phạm Thu Dung" in table.stdout and "2 orders" in table.stdout
    assert "value: " in table.stdout and "last channel: example/" in table.stdout
    assert max(len(line) for line in table.stdout.splitlines()) <= 80
    found = invoke("customers", "find", "84 912 000 111", "--json")
    assert [json.loads(line)["id"] for line in found.stdout.splitlines()] == [view["id"]]
    listed = invoke("customers", "find", "0912.000.111")
    assert view["id"] in listed.stdout and "Phạm Thu Dung" in listed.stdout
    nobody = invoke("customers", "find", "0999 000 000")
    assert nobody.exit_code == 0 and "no customer" in nobody.stderr


def test_customers_show_of_nobody_is_an_error(invoke: Invoke, shops: list[Shop]) -> None:
    result = invoke("customers", "show", "khong-co-ai")

    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert "khong-co-ai" in result.stderr


def test_status_reports_every_account(invoke: Invoke, imported: list[Shop]) -> None:
    result = invoke("status", "--json")
    table = invoke("status")

    assert result.exit_code == 0, result.output
    report = StatusReport.model_validate_json(result.stdout)
    assert [a.account for a in report.accounts] == ["hanoi-shop", "saigon-shop"]
    assert report.totals.variants == len(CATALOG)
    assert "hanoi-shop" in table.stdout


def test_plan_and_apply(invoke: Invoke, imported: list[Shop]) -> None:
    hanoi, _ = imported
    with hanoi.sandbox.lock:
        hanoi.sandbox.variants["NON-LA-HUE"].stock = 30  # someone typed a number in the shop

    planned = invoke("plan", "--json")
    applied = invoke("apply", "--json")
    again = invoke("plan", "--channel", "hanoi-shop")

    assert planned.exit_code == 0, planned.output
    plan = Plan.model_validate_json(planned.stdout)
    assert any(c.sku == "NON-LA-HUE" for c in plan.account("hanoi-shop").changes)
    assert applied.exit_code == 0, applied.output
    assert json.loads(applied.stdout)["accounts"]
    assert hanoi.listed("NON-LA-HUE") == 6  # its quota of the 12
    assert again.exit_code == 0
    assert "nothing to send" in again.stderr


def test_reconcile_prints_its_report(invoke: Invoke, imported: list[Shop]) -> None:
    result = invoke("reconcile", "--json")
    table = invoke("reconcile")

    assert result.exit_code == 0, result.output
    assert isinstance(json.loads(result.stdout), dict)
    assert table.exit_code == 0, table.output


def test_push_drains_the_outbox(invoke: Invoke, imported: list[Shop]) -> None:
    assert invoke("stock", "set", "NON-LA-HUE", "9", "--no-push").exit_code == 0
    assert [shop.listed("NON-LA-HUE") for shop in imported] == [6, 6]

    result = invoke("push", "--json")

    assert result.exit_code == 0, result.output
    pushed = json.loads(result.stdout)
    # 12 listed over 9 units: each shop first comes down to what the other leaves it (a unit
    # is taken from one before it is given to the other), then rises to its share.
    assert 3 <= sum(a["pushed"] for a in pushed["accounts"]) <= 4
    assert [shop.listed("NON-LA-HUE") for shop in imported] == [5, 4]


def test_quarantine_list_and_retry(invoke: Invoke, imported: list[Shop], tmp_path: Path) -> None:
    hanoi, _ = imported
    order_id = hanoi.order("NON-LA-HUE", 1, name="Võ Thị Hạnh", phone="0912345606")
    good = dict(hanoi.sandbox.orders[order_id])
    bad = {**good, "id": "ord_hong", "status": "không rõ"}
    store = open_store(f"sqlite:///{tmp_path / 'omnisdk.db'}")
    try:
        good_id = store.quarantine("hanoi-shop", "order", order_id, "mapping hook failed", good)
        bad_id = store.quarantine("hanoi-shop", "order", "ord_hong", "unknown status", bad)
    finally:
        store.close()

    listed = json_lines(invoke("quarantine", "list", "--json").stdout)
    retried = invoke("quarantine", "retry", str(good_id))
    failing = invoke("quarantine", "retry")
    after = json_lines(invoke("quarantine", "list", "--json", "--all").stdout)

    assert [entry["id"] for entry in listed] == [good_id, bad_id]
    assert listed[0]["reason"] == "mapping hook failed" and listed[0]["payload"] is None
    assert retried.exit_code == 0, retried.output
    assert f"order {order_id} ingested" in retried.stderr
    assert failing.exit_code == 1
    assert "still failing" in failing.stderr
    resolved = {entry["id"]: entry["resolved_at"] is not None for entry in after}
    assert resolved == {good_id: True, bad_id: False}
    assert next(e for e in after if e["id"] == bad_id)["attempts"] == 2
    orders = json_lines(invoke("orders", "list", "--json").stdout)
    assert [o["channel_ref"]["external_id"] for o in orders] == [order_id]
    assert orders[0]["status"] == OrderStatus.PENDING.value


def test_commands_without_a_config_say_so(
    invoke: Invoke, shops: list[Shop], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")

    result = invoke("status", config=False)

    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")


def test_sync_once_and_status_count_a_quarantined_order(
    invoke: Invoke, imported: list[Shop]
) -> None:
    hanoi, _ = imported
    good = hanoi.order("NON-LA-HUE", 1)
    bad = hanoi.order("NON-LA-HUE", 1)
    with hanoi.sandbox.lock:
        hanoi.sandbox.orders[bad]["status"] = "lost-in-transit"  # no canonical status maps it

    result = invoke("sync", "--once", "--json", "--no-reconcile")
    table = invoke("sync", "--once", "--no-reconcile")
    status = StatusReport.model_validate_json(invoke("status", "--json").stdout)

    assert result.exit_code == 0, result.output
    polls = {poll["account"]: poll for poll in json.loads(result.stdout)["polls"]}
    assert (polls["hanoi-shop"]["seen"], polls["hanoi-shop"]["quarantined"]) == (2, 1)
    assert polls["hanoi-shop"]["new"] == 1 and good
    assert "Quarantined" in table.stdout
    assert status.account("hanoi-shop").quarantine_open == 1
    assert status.totals.quarantine_open == 1
