"""``omnisdk sandbox`` in-process: the announcement line, demo seeding and clear refusals.

Serving itself is replaced by a recorder here; test_cli_subprocess.py serves for real.
"""

from __future__ import annotations

import json
import socket
import tomllib
from pathlib import Path
from typing import Any

import pytest
from _cli_testkit import Invoke, MemShopChannel
from starlette.routing import BaseRoute

from omnisdk import Plugins
from omnisdk.cli import sandbox as sandbox_command
from omnisdk.cli.sandbox import is_loopback
from omnisdk.testing.sandbox import BuyerOrder, Sandbox, SeedProduct


class MemSandbox(Sandbox):
    """Just enough of a sandbox to be announced and seeded."""

    channel_type = "memshop"

    def reset_state(self) -> None:
        self.seeded: list[SeedProduct] = []

    def platform_routes(self) -> list[BaseRoute]:
        return []

    def seed_products(self, products: list[SeedProduct]) -> list[dict[str, Any]]:
        self.seeded.extend(products)
        return [{"sku": p.sku, "id": f"m-{p.sku}"} for p in products]

    def place_order(self, order: BuyerOrder) -> str:
        raise NotImplementedError

    def cancel_order(self, order_id: str) -> None:
        raise NotImplementedError

    def advance_order(self, order_id: str) -> str:
        raise NotImplementedError

    def listings(self) -> list[dict[str, Any]]:
        return [
            {"sku": p.sku, "stock": p.stock, "price": str(p.price), "currency": p.currency}
            for p in self.seeded
        ]

    def orders_state(self) -> list[dict[str, Any]]:
        return []

    def channel_settings(self, base_url: str) -> dict[str, Any]:
        return {"base_url": base_url, "shop": "Hội An", "access_token": "shpat_ok"}

    def client_credentials(self, base_url: str) -> dict[str, Any]:
        return {"endpoint": base_url + "/api", "token": "shpat_ok"}

    def sign_webhook(self, topic: str, body: bytes) -> dict[str, str]:
        return {}


class Recorder:
    """Stands in for uvicorn: notes what it was asked to serve, checks the socket listens."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, int]] = []
        self.seeded: list[SeedProduct] = []

    def __call__(self, app: Any, sock: socket.socket, *, verbose: bool) -> None:
        port = sock.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # the socket accepts connections before serving starts
        self.calls.append((app, port))


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recording = Recorder()
    monkeypatch.setattr(sandbox_command, "_serve", recording)
    original = sandbox_command.load_sandbox_class

    def load(channel_type: str, spec: str | None) -> type[Sandbox]:
        cls = original(channel_type, spec)

        class Kept(cls):  # type: ignore[valid-type,misc]
            def seed_products(self, products: list[SeedProduct]) -> list[dict[str, Any]]:
                recording.seeded.extend(products)
                return super().seed_products(products)

        return Kept

    monkeypatch.setattr(sandbox_command, "load_sandbox_class", load)
    monkeypatch.setattr(MemShopChannel, "sandbox", f"{__name__}:MemSandbox")
    return recording


def test_the_first_stdout_line_announces_settings_and_client(
    invoke: Invoke, recorder: Recorder
) -> None:
    result = invoke("sandbox", "memshop", "--port", "0", "--empty")
    assert result.exit_code == 0, result.stderr
    first, *rest = result.stdout.splitlines()
    assert rest == []
    announced = json.loads(first)
    [(app, port)] = recorder.calls
    assert callable(app)  # the sandbox's ASGI app
    base_url = f"http://127.0.0.1:{port}"
    assert announced == {
        "type": "memshop",
        "base_url": base_url,
        "settings": {"base_url": base_url, "shop": "Hội An", "access_token": "shpat_ok"},
        "client": {"endpoint": base_url + "/api", "token": "shpat_ok"},
    }
    assert port != 0
    assert f"memshop sandbox serving at {base_url}: it is empty" in result.stderr
    assert recorder.seeded == []


def test_the_sandbox_lists_the_demo_catalog_unless_empty_and_says_what_it_holds(
    invoke: Invoke, recorder: Recorder
) -> None:
    result = invoke("sandbox", "memshop")

    assert result.exit_code == 0, result.stderr
    assert len(recorder.seeded) > 0
    units = sum(product.stock for product in recorder.seeded)
    assert f"{len(recorder.seeded)} SKUs listed ({units} units in stock), 0 orders" in (
        result.stderr
    )


def test_toml_prints_a_channels_entry_that_loads(
    invoke: Invoke, recorder: Recorder, tmp_path: Path
) -> None:
    result = invoke("sandbox", "memshop", "--toml", "--name", "hội-an")

    assert result.exit_code == 0, result.stderr
    [(_, port)] = recorder.calls
    document = tomllib.loads(result.stdout)
    assert document == {
        "channels": [
            {
                "name": "hội-an",
                "type": "memshop",
                "settings": {
                    "base_url": f"http://127.0.0.1:{port}",
                    "shop": "Hội An",
                    "access_token": "shpat_ok",
                },
            }
        ]
    }
    assert "paste the block above into omnisdk.toml" in result.stderr


def test_seed_demo_lists_vietnamese_products(invoke: Invoke, recorder: Recorder) -> None:
    result = invoke("sandbox", "memshop", "--seed-demo")
    assert result.exit_code == 0, result.stderr
    skus = {product.sku for product in recorder.seeded}
    assert {"AO-THUN-TRANG-M", "NON-LA-HUE", "AO-DAI-LUA-XANH"} <= skus
    assert all(product.currency == "VND" for product in recorder.seeded)
    assert any(product.title == "Nón lá Huế" for product in recorder.seeded)


def test_a_busy_port_is_one_clear_error(invoke: Invoke, recorder: Recorder) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = invoke("sandbox", "memshop", "--port", str(port))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port}: ")
    assert result.stdout == ""


def test_a_type_without_sandbox_is_refused(invoke: Invoke) -> None:
    result = invoke("sandbox", "memshop")
    assert result.exit_code == 1
    assert result.stderr == "error: channel type 'memshop' ships no sandbox\n"


def test_an_unknown_type_lists_the_known_ones(invoke: Invoke) -> None:
    result = invoke("sandbox", "memshp")
    assert result.exit_code == 1
    assert "no channel type 'memshp'" in result.stderr and "Did you mean 'memshop'" in result.stderr


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("not_a_module_anywhere:Sandbox", "cannot import the sandbox"),
        ("omnisdk.models:Money", "is not a Sandbox subclass"),
        ("omnisdk.models", "is not a Sandbox subclass"),
    ],
)
def test_a_broken_sandbox_spec_is_a_plugin_error(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch, spec: str, message: str
) -> None:
    monkeypatch.setattr(MemShopChannel, "sandbox", spec)
    result = invoke("sandbox", "memshop")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: plugin 'memshop': ")
    assert message in result.stderr


def test_remote_hosts_need_allow_remote(invoke: Invoke, recorder: Recorder) -> None:
    refused = invoke("sandbox", "memshop", "--host", "0.0.0.0")
    assert refused.exit_code == 2 and recorder.calls == []
    allowed = invoke("sandbox", "memshop", "--host", "0.0.0.0", "--allow-remote")
    assert allowed.exit_code == 0, allowed.stderr
    assert json.loads(allowed.stdout)["base_url"].startswith("http://127.0.0.1:")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("192.168.1.20", False),
        ("example.com", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_memshop_registry_is_untouched(plugins: Plugins) -> None:
    assert MemShopChannel.sandbox is None
    assert list(plugins.channel_types()) == ["memshop"]
