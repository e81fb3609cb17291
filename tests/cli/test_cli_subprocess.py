"""The real thing: ``python -m omnisdk`` in subprocesses, end to end against a served sandbox.

The end-to-end tests need the example plugin installed (``pip install -e tests/example_plugin``,
done by the CI setup). Without it they are skipped locally and fail in CI.
"""

from __future__ import annotations

import importlib.util
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from omnisdk.models import Product

HAVE_EXAMPLE = importlib.util.find_spec("omnisdk_example") is not None
IN_CI = os.environ.get("CI") == "true"
needs_example = pytest.mark.skipif(
    not HAVE_EXAMPLE and not IN_CI,
    reason="the example plugin is not installed (pip install -e tests/example_plugin)",
)


def omnisdk_env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("OMNISDK_CONFIG", "OMNISDK_DISABLE_PLUGINS", "COLUMNS")
    }
    env.update({"OMNISDK_LOAD_PLUGINS": "example", "PYTHONUNBUFFERED": "1", **extra})
    return env


def omnisdk(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "omnisdk", *args],
        cwd=cwd,
        env=env or omnisdk_env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )


def test_python_m_omnisdk_version(tmp_path: Path) -> None:
    result = omnisdk("version", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["python"] == ".".join(map(str, sys.version_info[:3]))


def test_python_m_omnisdk_error_is_one_line_and_usage_is_2(tmp_path: Path) -> None:
    result = omnisdk("pull", "--channel", "x", "products", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        "error: omnisdk.toml: config file not found (pass -c PATH or set "
        "OMNISDK_CONFIG to use another file)\n"
    )
    usage = omnisdk("pull", "--channel", cwd=tmp_path)
    assert usage.returncode == 2
    assert "Traceback" not in usage.stderr


@needs_example
def test_installed_plugin_is_listed_with_its_distribution(tmp_path: Path) -> None:
    if not HAVE_EXAMPLE:
        pytest.fail("CI must install the example plugin: pip install -e tests/example_plugin")
    plugins = omnisdk("plugins", "--json", cwd=tmp_path)
    assert plugins.returncode == 0, plugins.stderr
    [example] = [item for item in json.loads(plugins.stdout) if item["name"] == "example"]
    assert example["distribution"] == "omnisdk-example"
    assert example["version"]
    assert "read_products" in example["capabilities"]
    version = json.loads(omnisdk("version", "--json", cwd=tmp_path).stdout)
    assert {
        "entry_point": "example",
        "distribution": "omnisdk-example",
        "version": example["version"],
        "status": "loaded",
    } in version["plugins"]


# -- the sandbox, served -------------------------------------------------------------------------


def read_line(process: subprocess.Popen[str], timeout: float = 30.0) -> str:
    """The next stdout line of ``process``, failing (with its stderr) if none comes in time."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            process.kill()
            raise AssertionError(f"no line within {timeout}s; stderr: {process.communicate()[1]}")
    line = process.stdout.readline()
    if not line:
        raise AssertionError(f"the sandbox exited ({process.wait()}): {process.communicate()[1]}")
    return line


class Served:
    """A ``python -m omnisdk sandbox`` process and the JSON line it announced."""

    def __init__(self, *args: str, cwd: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "omnisdk", "sandbox", *args],
            cwd=cwd,
            env=omnisdk_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self.announcement: dict[str, Any] = json.loads(read_line(self.process))
        self.base_url: str = self.announcement["base_url"]

    def stop(self, sig: int) -> int:
        """Send ``sig`` and wait for the exit status."""
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=15)
        finally:
            self.process.communicate()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    if not HAVE_EXAMPLE:
        pytest.fail("CI must install the example plugin: pip install -e tests/example_plugin")
    server = Served("example", "--port", "0", "--empty", cwd=tmp_path)
    yield server
    server.kill()


SEED = [
    {
        "sku": "AO-THUN-DO-M",
        "title": "Áo thun cổ tròn",
        "product": "Áo thun cổ tròn",
        "options": {"Màu": "Đỏ", "Size": "M"},
        "price": "129000",
        "currency": "VND",
        "stock": 7,
    },
    {
        "sku": "AO-THUN-DO-L",
        "title": "Áo thun cổ tròn",
        "product": "Áo thun cổ tròn",
        "options": {"Màu": "Đỏ", "Size": "L"},
        "price": "139000",
        "currency": "VND",
        "stock": 3,
    },
    {"sku": "NON-LA-HUE", "title": "Nón lá Huế", "price": "85000", "currency": "VND", "stock": 40},
]


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a TOML basic string


@needs_example
def test_sandbox_check_and_pull_end_to_end(served: Served, tmp_path: Path) -> None:
    announced = served.announcement
    assert set(announced) == {"type", "base_url", "settings", "client"}
    assert announced["type"] == "example"
    assert announced["base_url"].startswith("http://127.0.0.1:")
    assert not announced["base_url"].endswith(":0")

    with httpx.Client(base_url=served.base_url, timeout=10) as control:
        assert control.get("/_sandbox/state").json()["listings"] == []
        seeded = control.post("/_sandbox/seed", json={"products": SEED})
        assert seeded.status_code == 201, seeded.text

    # The config references the token through the environment, as a real one would.
    settings = {k: v for k, v in announced["settings"].items() if v is not None}
    token_key = next(key for key in settings if "token" in key)
    token = settings.pop(token_key)
    lines = [
        "[[channels]]",
        'name = "cửa-hàng-demo"',
        'type = "example"',
        "[channels.settings]",
        f'{token_key} = "${{DEMO_TOKEN}}"',
    ]
    lines += [f"{key} = {toml_value(value)}" for key, value in settings.items()]
    config = tmp_path / "omnisdk.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = omnisdk_env(DEMO_TOKEN=token)

    check = omnisdk("-c", str(config), "check", "--json", cwd=tmp_path, env=env)
    assert check.returncode == 0, check.stderr
    [result] = json.loads(check.stdout)
    assert result["name"] == "cửa-hàng-demo" and result["ok"] is True
    assert result["info"]["name"]

    pull = omnisdk(
        "-c",
        str(config),
        "pull",
        "--channel",
        "cửa-hàng-demo",
        "products",
        "--json",
        cwd=tmp_path,
        env=env,
    )
    assert pull.returncode == 0, pull.stderr
    assert token not in pull.stdout + pull.stderr + check.stdout + check.stderr
    products = [Product.model_validate_json(line) for line in pull.stdout.splitlines()]
    variants = {v.sku: (p, v) for p in products for v in p.variants}
    assert set(variants) == {item["sku"] for item in SEED}
    for item in SEED:
        product, variant = variants[item["sku"]]
        assert product.title == item.get("product", item["title"])
        assert variant.price.amount == Decimal(item["price"])
        assert variant.price.currency == "VND"
        assert variant.options == item.get("options", {})
        assert product.channel_ref is not None
        assert product.channel_ref.channel == "example"
        assert product.channel_ref.account == "cửa-hàng-demo"
    assert len(products) == 2  # the two T-shirt sizes are one product

    assert served.stop(signal.SIGTERM) == 0


@needs_example
def test_sandbox_seed_demo_and_ctrl_c(tmp_path: Path) -> None:
    if not HAVE_EXAMPLE:
        pytest.fail("CI must install the example plugin: pip install -e tests/example_plugin")
    server = Served("example", "--port", "0", "--seed-demo", cwd=tmp_path)
    try:
        state = httpx.get(f"{server.base_url}/_sandbox/state", timeout=10).json()
        titles = {listing["sku"] for listing in state["listings"]}
        assert "NON-LA-HUE" in titles and "AO-DAI-LUA-XANH" in titles
        assert all(listing["currency"] == "VND" for listing in state["listings"])
        started = time.monotonic()
        assert server.stop(signal.SIGINT) == 0
        assert time.monotonic() - started < 10
    finally:
        server.kill()


def test_sandbox_refuses_remote_hosts(tmp_path: Path) -> None:
    result = omnisdk("sandbox", "example", "--host", "0.0.0.0", cwd=tmp_path)
    assert result.returncode == 2
    assert "not a loopback address" in result.stderr and "--allow-remote" in result.stderr
    assert result.stdout == ""
