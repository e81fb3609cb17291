"""Lazada's own Python SDK (PyPI ``lazop-sdk`` 1.0.3) against the sandbox, only the server URL
changed: its signatures are accepted, its calls work, a wrong secret gets Lazada's error body.

The SDK writes a log file under ``~/logs`` at import and uses ``requests`` with the real clock,
so it runs in a subprocess with ``HOME`` in a temporary directory, against a sandbox served on
a loopback port on a real-time clock.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from lazada_testkit import BUYER, order, seed
from omnisdk_lazada.sandbox import LazadaSandbox

from omnisdk.testing.server import LoopbackServer

DRIVER = r"""
import json, sys
from importlib.metadata import version
from lazop_sdk.base import LazopClient, LazopRequest

cfg = json.loads(sys.argv[1])
c = cfg["client"]
out = {"version": version("lazop-sdk")}

def run(client, path, method, params, token):
    request = LazopRequest(path, method)
    for key, value in params.items():
        request.add_api_param(key, value)
    response = client.execute(request, token)
    return {"code": response.code, "type": response.type, "message": response.message,
            "request_id": response.request_id, "body": response.body}

client = LazopClient(c["server_url"], c["app_key"], c["app_secret"])
results = {}
for name, (path, method, params, with_token) in cfg["calls"].items():
    results[name] = run(client, path, method, params, c["access_token"] if with_token else None)
if cfg.get("wrong_secret"):
    wrong = LazopClient(c["server_url"], c["app_key"], "not-the-secret")
    results["wrong_secret"] = run(wrong, "/products/get", "GET", {"offset": "0", "limit": "1"},
                                  c["access_token"])
out["results"] = results
print(json.dumps(out))
"""


def _run(config: dict[str, Any], home: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, json.dumps(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "HOME": str(home)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["version"] == "1.0.3"
    return dict(result["results"])


def _xml(entries: list[dict[str, Any]]) -> str:
    skus = "".join(
        "<Sku>" + "".join(f"<{k}>{v}</{k}>" for k, v in e.items()) + "</Sku>" for e in entries
    )
    return f"<Request><Product><Skus>{skus}</Skus></Product></Request>"


def test_lazop_sdk_lists_updates_and_reads_orders_against_the_sandbox(tmp_path: Path) -> None:
    sandbox = LazadaSandbox(seed=21)  # real-time clock: the SDK stamps with time.time()
    catalog = [
        {"sku": "ÁO-DÀI-ĐỎ", "title": "Áo dài đỏ", "price": "650000", "stock": 5},
        {"sku": "NÓN-LÁ&QUAI", "title": "Nón lá có quai", "price": "85000", "stock": 7},
        {"sku": "CÀ-PHÊ-1KG", "title": "Cà phê Buôn Ma Thuột", "price": "320000", "stock": 9},
    ]
    created = {entry["sku"]: entry for entry in seed(sandbox, catalog)}
    first = order(sandbox, {"ÁO-DÀI-ĐỎ": 2, "CÀ-PHÊ-1KG": 1}, customer=BUYER)
    second = order(sandbox, {"NÓN-LÁ&QUAI": 1})
    hat = created["NÓN-LÁ&QUAI"]
    payload = _xml(
        [
            {
                "ItemId": hat["item_id"],
                "SkuId": hat["sku_id"],
                "SellerSku": "NÓN-LÁ&amp;QUAI",
                "Price": "99000",
                "Quantity": "12",
            },
            {"SellerSku": "CÀ-PHÊ-1KG", "Price": "310000"},
        ]
    )
    since = "2000-01-01T00:00:00+07:00"
    with LoopbackServer(sandbox.app) as server:
        credentials = sandbox.client_credentials(server.base_url)
        results = _run(
            {
                "client": credentials,
                "wrong_secret": True,
                "calls": {
                    "page1": (
                        "/products/get",
                        "GET",
                        {"filter": "all", "offset": "0", "limit": "2"},
                        True,
                    ),
                    "page2": (
                        "/products/get",
                        "GET",
                        {"filter": "all", "offset": "2", "limit": "2"},
                        True,
                    ),
                    "update": (
                        "/product/price_quantity/update",
                        "POST",
                        {"payload": payload},
                        True,
                    ),
                    "bad_xml": (
                        "/product/price_quantity/update",
                        "POST",
                        {"payload": "<Request><Product><Skus><Sku>"},
                        True,
                    ),
                    "orders": ("/orders/get", "GET", {"created_after": since, "limit": "10"}, True),
                    "items": (
                        "/orders/items/get",
                        "GET",
                        {"order_ids": f"[{first},{second}]"},
                        True,
                    ),
                    "refresh": (
                        "/auth/token/refresh",
                        "POST",
                        {"refresh_token": credentials["refresh_token"]},
                        False,
                    ),
                },
            },
            tmp_path,
        )
    for name in ("page1", "page2", "update", "orders", "items", "refresh"):
        assert results[name]["code"] == "0", (name, results[name])
    page1, page2 = results["page1"]["body"]["data"], results["page2"]["body"]["data"]
    assert page1["total_products"] == page2["total_products"] == 3
    listed = [sku["SellerSku"] for p in page1["products"] + page2["products"] for sku in p["skus"]]
    assert sorted(listed) == sorted(created)
    with sandbox.lock:
        by_sku = {entry["sku"]: entry for entry in sandbox.listings()}
    assert (by_sku["NÓN-LÁ&QUAI"]["price"], by_sku["NÓN-LÁ&QUAI"]["quantity"]) == ("99000", 12)
    assert by_sku["NÓN-LÁ&QUAI"]["stock"] == 11  # one unit of order `second` is occupied
    assert by_sku["CÀ-PHÊ-1KG"]["price"] == "310000"
    assert results["bad_xml"]["code"] == "5" and results["bad_xml"]["type"] == "ISV"
    orders = results["orders"]["body"]["data"]
    assert orders["countTotal"] == 2
    assert {str(o["order_id"]) for o in orders["orders"]} == {first, second}
    items = {str(e["order_id"]): e["order_items"] for e in results["items"]["body"]["data"]}
    assert sorted(i["sku"] for i in items[first]) == ["CÀ-PHÊ-1KG", "ÁO-DÀI-ĐỎ", "ÁO-DÀI-ĐỎ"]
    assert len({i["order_item_id"] for i in items[first]}) == 3  # one item per unit
    assert results["refresh"]["body"]["access_token"] != credentials["access_token"]
    assert sandbox.grants.refreshes == 1
    wrong = results["wrong_secret"]
    assert wrong["code"] == "IncompleteSignature" and wrong["type"] == "ISV"
    assert wrong["message"] == "The request signature does not conform to lazop standards"
    assert wrong["request_id"] and set(wrong["body"]) == {"code", "type", "message", "request_id"}
    with sandbox.lock:
        sdk_calls = [r for r in sandbox.requests if r.path == "/rest/products/get"]
    assert sdk_calls and all("partner_id=lazop-sdk-python-20181207" in r.query for r in sdk_calls)
    sandbox.close()


def test_omnisdk_sandbox_lazada_announces_the_sdks_own_arguments(tmp_path: Path) -> None:
    """``omnisdk sandbox lazada`` prints a ``client`` object whose keys are the SDK's own
    argument names; the SDK, given exactly those, lists the demo products."""
    omnisdk = Path(sys.executable).with_name("omnisdk")
    process = subprocess.Popen(
        [str(omnisdk), "sandbox", "lazada", "--port", "0", "--seed-demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    try:
        assert process.stdout is not None
        announced = json.loads(process.stdout.readline())
        client = announced["client"]
        assert {"server_url", "app_key", "app_secret", "access_token"} <= set(client)
        assert client["server_url"] == announced["base_url"] + "/rest"
        assert announced["settings"]["base_url"] == client["server_url"]
        results = _run(
            {
                "client": client,
                "calls": {
                    "products": ("/products/get", "GET", {"filter": "all", "limit": "50"}, True)
                },
            },
            tmp_path,
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
    answer = results["products"]
    assert answer["code"] == "0", answer
    names = {p["attributes"]["name"] for p in answer["body"]["data"]["products"]}
    assert "Nón lá Huế" in names
