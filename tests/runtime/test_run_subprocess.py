"""``omnisdk run`` as a real process: webhooks in, stock out, then SIGTERM/SIGINT and a clean exit.

Two Example shops are served on loopback by the test; the engine process is configured to
poll rarely and push on a slow tick, so a sale reaching the other shop within seconds proves
the path webhook -> ingest -> pushers woken at once.
"""

from __future__ import annotations

import asyncio
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from omnisdk_example.channel import ExampleChannel
from omnisdk_example.sandbox import ExampleSandbox

from omnisdk import Plugins
from omnisdk.config import load_config
from omnisdk.store import open_store
from omnisdk.sync import Engine
from omnisdk.testing import (
    BuyerLine,
    BuyerOrder,
    ContributeChannels,
    LoopbackServer,
    SeedProduct,
)

ACCOUNTS = ("hanoi-shop", "saigon-shop")
SKU = "AO-DAI-LUA-XANH"


def omnisdk_env() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("OMNISDK_CONFIG", "OMNISDK_DISABLE_PLUGINS", "COLUMNS")
    }
    env.update({"OMNISDK_LOAD_PLUGINS": "example", "PYTHONUNBUFFERED": "1"})
    return env


def omnisdk(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "omnisdk", *args],
        cwd=cwd,
        env=omnisdk_env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )


@pytest.fixture
def shops() -> Iterator[dict[str, tuple[ExampleSandbox, LoopbackServer]]]:
    served: dict[str, tuple[ExampleSandbox, LoopbackServer]] = {}
    try:
        for index, account in enumerate(ACCOUNTS):
            sandbox = ExampleSandbox(seed=index)
            with sandbox.lock:
                sandbox.seed_products(
                    [SeedProduct(sku=SKU, title="Áo dài lụa tơ tằm", price=1850000, stock=5)]
                )
            served[account] = (sandbox, LoopbackServer(sandbox.app).start())
        yield served
    finally:
        for sandbox, server in served.values():
            server.stop()
            sandbox.close()


@pytest.fixture
def workdir(tmp_path: Path, shops: dict[str, tuple[ExampleSandbox, LoopbackServer]]) -> Path:
    lines = [
        '[store]\nurl = "sqlite:///omnisdk.db"\n',
        '[engine]\npush_interval = "1h"\nreconcile_interval = "1h"\n',
    ]
    for account, (sandbox, server) in shops.items():
        lines.append(f'[[channels]]\nname = "{account}"\ntype = "example"\n[channels.settings]')
        lines += [
            f"{k} = {json.dumps(v)}" for k, v in sandbox.channel_settings(server.base_url).items()
        ]
        lines.append('[channels.poll]\norders = "1h"\n')
    (tmp_path / "omnisdk.toml").write_text("\n".join(lines), encoding="utf-8")
    asyncio.run(_prepare(tmp_path / "omnisdk.toml"))
    return tmp_path


async def _prepare(config: Path) -> None:
    """Import the catalog from both shops and count the stock in (in-process: faster)."""
    plugins = Plugins(entry_points=False)
    plugins.register(ContributeChannels(ExampleChannel), name="example")
    async with Engine(load_config(config, plugins=plugins), plugins=plugins) as engine:
        for account in ACCOUNTS:
            await engine.import_catalog(account)
        await engine.set_stock(SKU, 5)
        await engine.push()


class Running:
    """An ``omnisdk run --json`` process and its output, read line by line."""

    def __init__(self, cwd: Path, *options: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "omnisdk", "run", "--json", "--webhook-port", "0", *options],
            cwd=cwd,
            env=omnisdk_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def next_json(self, within: float = 30.0) -> dict[str, Any]:
        assert self.process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if selector.select(timeout=0.2):
                line = self.process.stdout.readline()
                if not line:
                    break
                if line.strip():
                    return dict(json.loads(line))
        raise AssertionError(f"no JSON line from omnisdk run: {self.stop()[1]}")

    def stop(self, sig: int = signal.SIGTERM, within: float = 20.0) -> tuple[int, str, str]:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            out, err = self.process.communicate(timeout=within)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, err = self.process.communicate()
            raise AssertionError(f"omnisdk run did not stop within {within} s: {err}") from None
        return self.process.returncode, out, err


def outbox_depth(workdir: Path) -> int:
    """Pushes queued in the running engine's store."""
    store = open_store(f"sqlite:///{workdir / 'omnisdk.db'}", migrate=False)
    try:
        return store.outbox_depth()
    finally:
        store.close()


def until(condition: Any, within: float = 15.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_run_takes_webhooks_pushes_at_once_and_stops_cleanly_on_a_signal(
    workdir: Path, shops: dict[str, tuple[ExampleSandbox, LoopbackServer]], sig: int
) -> None:
    running = Running(workdir, "--status-page", "127.0.0.1:0")
    viewer: httpx.Client | None = None
    try:
        started = running.next_json()
        assert started["event"] == "started"
        assert sorted(started["accounts"]) == sorted(ACCOUNTS)
        status_page = started["status_page_url"]
        assert status_page.startswith("http://127.0.0.1:")
        template = started["webhook_url"]
        assert template.startswith("http://127.0.0.1:")
        for account, (sandbox, _) in shops.items():
            sandbox.webhook_url = template.replace("{account}", account)
        hanoi, saigon = shops["hanoi-shop"][0], shops["saigon-shop"][0]
        # Quota allocation: the two shops share the 5 units.
        assert until(
            lambda: (int(hanoi.listing(SKU)["stock"]), int(saigon.listing(SKU)["stock"])) == (3, 2)
        )

        with hanoi.lock:
            hanoi.place_order(
                BuyerOrder(
                    lines=[BuyerLine(sku=SKU, quantity=2)],
                    customer={"name": "Đặng Quốc Khánh", "phone": "0912345607"},
                )
            )

        # 3 units left, and they go where they sell: saigon-shop gives its 2 up to hanoi-shop.
        assert until(
            lambda: (int(hanoi.listing(SKU)["stock"]), int(saigon.listing(SKU)["stock"])) == (3, 0)
        ), "the sale never propagated"
        # A push may follow the last move (the other account is asked to check its share).
        assert until(lambda: outbox_depth(workdir) == 0), "pushes left queued"
        # The status page shows the order; a viewer's live stream left open does not hold up
        # the stop.
        viewer = httpx.Client(base_url=status_page, timeout=10)
        overview = viewer.get("/")
        assert overview.status_code == 200
        assert "hanoi-shop" in overview.text and "#1001" in overview.text
        with viewer.stream("GET", "/events") as live:
            assert next(live.iter_lines()) == "retry: 3000"
            stopped_at = time.monotonic()
            code, out, err = running.stop(sig)
    finally:
        if viewer is not None:
            viewer.close()
        if running.process.poll() is None:
            running.process.kill()
            running.process.communicate()

    assert code == 0, err
    assert time.monotonic() - stopped_at < 15
    assert "Traceback" not in err
    last = json.loads(out.strip().splitlines()[-1])
    assert last["event"] == "stopped"
    assert last["accounts"]["hanoi-shop"]["webhook_batches"] >= 1
    assert last["accounts"]["saigon-shop"]["pushes"] >= 1
    listed = omnisdk("orders", "list", "--json", cwd=workdir)
    assert listed.returncode == 0, listed.stderr
    [line] = listed.stdout.splitlines()
    assert json.loads(line)["customer"]["full_name"] == "Đặng Quốc Khánh"
    store = open_store(f"sqlite:///{workdir / 'omnisdk.db'}")
    try:
        assert store.outbox_depth() == 0
        [order] = list(store.iter_orders())
        assert order.account == "hanoi-shop"
        [level] = store.stock_levels(SKU)
        assert (level.on_hand, level.reserved) == (5, 2)
    finally:
        store.close()


def test_run_refuses_a_port_in_use(workdir: Path) -> None:
    with LoopbackServer(lambda scope, receive, send: None) as busy:
        result = omnisdk("run", "--webhook-port", str(busy.port), cwd=workdir)

    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot listen on 127.0.0.1:")
    assert "Traceback" not in result.stderr


def test_a_second_run_on_the_store_exits_naming_the_holder_and_a_killed_one_frees_it(
    workdir: Path,
) -> None:
    """Issue #10 item 6: two ``omnisdk run`` on one SQLite file both ran."""
    first = Running(workdir)
    try:
        assert first.next_json()["event"] == "started"
        second = omnisdk("run", "--webhook-port", "0", cwd=workdir)
        assert second.returncode == 1
        [line] = second.stderr.splitlines()
        assert line.startswith("error: another omnisdk run holds the store ")
        assert str(workdir / "omnisdk.db") in line
        assert f"pid {first.process.pid} on host " in line and " since " in line
        assert first.process.poll() is None, "the first run goes on"

        first.process.send_signal(signal.SIGKILL)  # a crash frees the lock with the process
        first.process.communicate(timeout=20)
        third = Running(workdir)
        try:
            assert third.next_json()["event"] == "started"
            code, _, err = third.stop()
        finally:
            if third.process.poll() is None:
                third.process.kill()
                third.process.communicate()
        assert code == 0, err
    finally:
        if first.process.poll() is None:
            first.process.kill()
            first.process.communicate()
