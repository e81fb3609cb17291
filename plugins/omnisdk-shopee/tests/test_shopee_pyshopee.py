"""Cross-checks against independent Shopee client libraries from PyPI.

``pyshopee`` 1.4.0 (module ``pyshopee2``) and ``mcp-shopee-seller`` 0.5.0 (module
``shopee_mcp``) live in their own virtualenv: pyshopee imports ``requests`` and ``selenium``
at module level and prints request URLs (with tokens) to stdout, so it is run as a subprocess
with its output captured. Set ``OMNISDK_PYSHOPEE_PYTHON`` to that virtualenv's python (default
``/tmp/venv-pyshopee/bin/python``); the test setup creates it with::

    python -m venv /tmp/venv-pyshopee
    /tmp/venv-pyshopee/bin/pip install pyshopee==1.4.0 requests selenium
    /tmp/venv-pyshopee/bin/pip install --no-deps mcp-shopee-seller==0.5.0
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from omnisdk_shopee.client import Signer
from omnisdk_shopee.sandbox import ShopeeSandbox
from shopee_testkit import seed

from omnisdk.testing.server import LoopbackServer

PYTHON = Path(os.environ.get("OMNISDK_PYSHOPEE_PYTHON", "/tmp/venv-pyshopee/bin/python"))

if not PYTHON.exists() and os.environ.get("CI") == "true":
    # CI must prove the cross-check; `make tools` creates the virtualenv.
    raise RuntimeError(f"no pyshopee virtualenv at {PYTHON}: run `make tools`")

pytestmark = pytest.mark.skipif(
    not PYTHON.exists(),
    reason=f"no pyshopee virtualenv at {PYTHON} (run `make tools`)",
)

DRIVER = r"""
import contextlib, io, json, sys
from importlib.metadata import version
from pyshopee2.client import Client
from shopee_mcp import signing as mcp

cfg = json.loads(sys.argv[1])
out = {"versions": {"pyshopee": version("pyshopee"),
                    "mcp-shopee-seller": version("mcp-shopee-seller")}}
if cfg["mode"] == "sign":
    rows = []
    for case in cfg["cases"]:
        client = Client(case["shop_id"], case["partner_id"], case["partner_key"],
                        "https://example.vn/cb", access_token=case["access_token"])
        rows.append({
            "pyshopee_shop": client._api_sign(case["path"], case["timestamp"]),
            "pyshopee_public": client._api_short_sign(case["path"], case["timestamp"]),
            "mcp_shop": mcp.sign_shop(case["partner_id"], case["path"], case["partner_key"],
                                      case["timestamp"], case["access_token"], case["shop_id"]),
            "mcp_public": mcp.sign_public(case["partner_id"], case["path"],
                                          case["partner_key"], case["timestamp"]),
        })
    out["rows"] = rows
elif cfg["mode"] == "auth":
    import requests
    from urllib.parse import parse_qs, urlsplit
    c = cfg["credentials"]
    client = Client(c["shop_id"], c["partner_id"], c["partner_key"], c["redirect_url"])
    client.host = c["host"]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        link = client.shop_authorization(c["redirect_url"])
        approved = requests.get(link, allow_redirects=False, timeout=10)
        query = parse_qs(urlsplit(approved.headers["location"]).query)
        client.code = query["code"][0]
        access, expire_in, refresh = client.get_token()
        items = client.product.get_item_list(offset=0, page_size=5, item_status="NORMAL")
    out["results"] = {"status": approved.status_code, "shop_id": query["shop_id"][0],
                      "expire_in": expire_in, "got_tokens": bool(access and refresh),
                      "items": items}
else:
    c = cfg["credentials"]
    client = Client(c["shop_id"], c["partner_id"], c["partner_key"], c["redirect_url"],
                    access_token=c["access_token"], refresh_token=c["refresh_token"])
    client.host = c["host"]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):  # pyshopee prints URLs, tokens included
        results = {
            "items": client.product.get_item_list(offset=0, page_size=10,
                                                  item_status="NORMAL"),
            "base": client.product.get_item_base_info(item_id_list=cfg["item_ids"]),
            "orders": client.order.get_order_list(
                time_range_field="create_time", time_from=cfg["time_from"],
                time_to=cfg["time_to"], page_size=20, response_optional_fields="order_status"),
            "stock": client.product.update_stock(
                item_id=cfg["item_ids"][0],
                stock_list=[{"model_id": 0, "seller_stock": [{"stock": 7}]}]),
        }
        if cfg.get("refresh"):
            client.get_access_token(c["shop_id"], c["partner_id"], c["partner_key"],
                                    c["refresh_token"])
            results["refreshed"] = bool(client.access_token)
            results["after_refresh"] = client.product.get_item_list(
                offset=0, page_size=1, item_status="NORMAL")
    out["results"] = results
sys.__stdout__.write(json.dumps(out) + "\n")
"""


def _run(config: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        [str(PYTHON), "-c", DRIVER, json.dumps(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["versions"] == {"pyshopee": "1.4.0", "mcp-shopee-seller": "0.5.0"}
    return result


CASES: list[dict[str, Any]] = [
    {
        "partner_id": 2001887,
        "partner_key": "shpk_example_partner_key_0001",
        "timestamp": 1700000000,
        "access_token": "6b5a46716e474d6f6e59777659459849",
        "shop_id": 322300222,
        "path": "/api/v2/product/get_item_list",
    },
    *(
        {
            "partner_id": 1000000 + 7919 * i,
            "partner_key": f"shpk{i:02d}" + "ab" * (i % 9),
            "timestamp": 1600000000 + 86413 * i,
            "access_token": f"{i * 982451653:032x}",
            "shop_id": 10_000 + 104729 * i,
            "path": path,
        }
        for i, path in enumerate(
            [
                "/api/v2/order/get_order_detail",
                "/api/v2/product/update_stock",
                "/api/v2/product/update_price",
                "/api/v2/auth/access_token/get",
                "/api/v2/push/set_app_push_config",
                "/api/v2/shop/get_shop_info",
                "/api/v2/logistics/ship_order",
                "/api/v2/product/get_model_list",
            ],
            start=1,
        )
    ),
    {
        "partner_id": 2001887,
        "partner_key": "khoá-bí-mật-tiếng-Việt",
        "timestamp": 1741996800,
        "access_token": "token",
        "shop_id": 1,
        "path": "/api/v2/product/get_item_base_info",
    },
]


def test_signatures_equal_pyshopee_and_mcp_shopee_seller() -> None:
    rows = _run({"mode": "sign", "cases": CASES})["rows"]
    for case, theirs in zip(CASES, rows, strict=True):
        signer = Signer(case["partner_id"], case["partner_key"])
        shop = signer.sign(
            case["path"],
            case["timestamp"],
            access_token=case["access_token"],
            shop_id=case["shop_id"],
        )
        public = signer.sign(case["path"], case["timestamp"])
        assert shop == theirs["pyshopee_shop"] == theirs["mcp_shop"], case
        assert public == theirs["pyshopee_public"] == theirs["mcp_public"], case


def _credentials(sandbox: ShopeeSandbox, base_url: str) -> dict[str, Any]:
    return sandbox.client_credentials(base_url)


def test_requests_signed_by_pyshopee_are_accepted_by_the_sandbox() -> None:
    sandbox = ShopeeSandbox(seed=3)  # real-time clock: pyshopee stamps with time.time()
    created = seed(sandbox)
    item_ids = sorted({entry["item_id"] for entry in created})
    single = next(e["item_id"] for e in created if e["model_id"] == 0)
    now = int(sandbox.clock.time())
    with LoopbackServer(sandbox.app) as server:
        results = _run(
            {
                "mode": "call",
                "credentials": _credentials(sandbox, server.base_url),
                "item_ids": [single, *[i for i in item_ids if i != single]],
                "time_from": now - 86400,
                "time_to": now,
                "refresh": True,
            }
        )["results"]
    for name, answer in results.items():
        if isinstance(answer, dict):
            assert answer.get("error") == "", (name, answer)
    assert results["items"]["response"]["total_count"] == 3
    names = {item["item_name"] for item in results["base"]["response"]["item_list"]}
    assert names == {"Áo thun cổ tròn trắng", "Nón lá Huế", "Áo dài lụa tơ tằm"}
    assert results["stock"]["response"]["success_list"] == [
        {"model_id": 0, "location_id": "", "stock": 7}
    ]
    assert results["refreshed"] and sandbox.grants.refreshes == 1
    with sandbox.lock:
        assert sandbox.catalog.items[single].stock == {"": 7}
        # pyshopee writes list parameters with Python's repr: "[800000001, 800000008]".
        base_call = next(
            r for r in sandbox.requests if r.path == "/api/v2/product/get_item_base_info"
        )
    assert "%5B" in base_call.query or "[" in base_call.query


def test_a_pyshopee_request_with_a_wrong_key_gets_shopees_error_body() -> None:
    sandbox = ShopeeSandbox(seed=4, error_statuses={"error_sign": 200})
    seed(sandbox)
    now = int(sandbox.clock.time())
    with LoopbackServer(sandbox.app) as server:
        credentials = {
            **_credentials(sandbox, server.base_url),
            "partner_key": "shpk_not_the_right_key",
        }
        results = _run(
            {
                "mode": "call",
                "credentials": credentials,
                "item_ids": [1],
                "time_from": now - 60,
                "time_to": now,
            }
        )["results"]
    for name in ("items", "base", "orders", "stock"):
        assert results[name]["error"] == "error_sign", results[name]
        assert results[name]["message"] == "Wrong sign."
        assert len(results[name]["request_id"]) == 32


def test_pyshopees_authorisation_link_and_code_exchange_work_against_the_sandbox() -> None:
    sandbox = ShopeeSandbox(seed=6)
    seed(sandbox)
    with LoopbackServer(sandbox.app) as server:
        results = _run({"mode": "auth", "credentials": _credentials(sandbox, server.base_url)})[
            "results"
        ]
    assert results["status"] == 302 and results["shop_id"] == str(sandbox.shop_id)
    assert results["got_tokens"] and results["expire_in"] == 14400
    assert results["items"]["error"] == "" and results["items"]["response"]["total_count"] == 3
