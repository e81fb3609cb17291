"""An independent KiotViet client against the sandbox: the Singer tap ``tap-kiotviet``.

The tap lives in its own virtualenv (``make tools``: its dependencies clash with omnisdk's)
and runs as a subprocess through ``tests/tools/tap_kiotviet_launcher.py``, which points its
hard-coded hosts at a loopback sandbox (see the launcher for the two other changes it
needs). Set ``OMNISDK_TAP_KIOTVIET_PYTHON`` to that virtualenv's python; without it the
test is skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from omnisdk_pos.sandbox import KiotVietSandbox

from omnisdk.testing.sandbox import SeedProduct
from omnisdk.testing.server import LoopbackServer

LAUNCHER = Path(__file__).parent / "tools" / "tap_kiotviet_launcher.py"
PYTHON = Path(
    os.environ.get(
        "OMNISDK_TAP_KIOTVIET_PYTHON",
        str(Path(__file__).resolve().parents[3] / ".venv-tools/tap-kiotviet/bin/python"),
    )
)

pytestmark = pytest.mark.skipif(
    not PYTHON.exists(), reason=f"tap-kiotviet is not installed at {PYTHON} (make tools)"
)


def run_tap(sandbox: KiotVietSandbox, tmp_path: Path) -> dict[str, list[dict[str, Any]]]:
    """Run the tap against ``sandbox`` over loopback; its RECORD messages by stream."""
    with LoopbackServer(sandbox.app) as server:
        creds = sandbox.client_credentials(server.base_url)
        config = tmp_path / "config.json"
        config.write_text(
            json.dumps(
                {
                    "client_id": creds["client_id"],
                    "client_secret": creds["client_secret"],
                    "retailer": creds["retailer"],
                    "start_date": "2020-01-01T00:00:00",
                }
            )
        )
        env = {
            **os.environ,
            "TAP_KIOTVIET_API_URL": creds["api_url"],
            "TAP_KIOTVIET_TOKEN_URL": creds["token_url"],
        }
        done = subprocess.run(
            [str(PYTHON), str(LAUNCHER), "--config", str(config)],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
    assert done.returncode == 0, done.stderr[-4000:]
    records: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in done.stdout.splitlines():
        message = json.loads(line)
        if message.get("type") == "RECORD":
            records[message["stream"]].append(message["record"])
    return records


def test_the_tap_syncs_what_was_seeded(tmp_path: Path) -> None:
    """Branches, 150 products (two pages of 100), customers, orders and invoices."""
    sandbox = KiotVietSandbox(seed=8)
    try:
        seeds = [
            SeedProduct(
                sku=f"BANH-PIA-{i:03d}",
                title=f"Bánh pía sầu riêng {i}",
                price=Decimal(45000 + 100 * i),
                stock=10,
            )
            for i in range(150)
        ]
        with sandbox.lock:
            sandbox.seed_products(seeds)
        sale = sandbox.counter_sale(
            {"BANH-PIA-001": 2}, customer={"name": "Nguyễn Thị Hoa", "phone": "0912345678"}
        )
        order = sandbox.online_order({"BANH-PIA-002": 1})
        records = run_tap(sandbox, tmp_path)
    finally:
        sandbox.close()

    assert sorted((b["id"], b["branchName"]) for b in records["branches"]) == [
        (20001, "Chi nhánh Quận 1"),
        (20002, "Chi nhánh Hà Nội"),
    ]
    products = {p["code"]: p for p in records["products"]}
    assert set(products) == {seed.sku for seed in seeds}
    assert len(records["products"]) == 150
    assert all(Decimal(str(products[s.sku]["basePrice"])) == s.price for s in seeds)
    assert products["BANH-PIA-007"]["name"] == "Bánh pía sầu riêng 7"
    [customer] = records["customers"]
    assert (customer["name"], customer["contactNumber"]) == ("Nguyễn Thị Hoa", "0912345678")
    [invoice] = records["invoices"]
    assert (invoice["code"], invoice["total"], invoice["branchId"]) == (sale, 90200, 20001)
    [placed] = records["orders"]
    assert (placed["code"], placed["branchId"]) == (order, 20001)
