"""End to end: the engine process is killed (SIGKILL) in the middle of a push and restarted.

The sandboxes run on loopback sockets in the test process; the engine runs in a subprocess
on the same store. One sandbox stalls a stock write (after applying it, or before it reaches
the platform) so the kill lands mid-push; buyers keep buying while the engine is down. After
a restart everything converges: every order once, listed stock right on both channels, the
outbox empty, nothing applied twice.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from _engine_testkit import SKU_RED_M, TITLE, plugins_with
from omnisdk_example.channel import ExampleChannel
from omnisdk_example.sandbox import ExampleSandbox

from omnisdk.config import load_config
from omnisdk.store import Store
from omnisdk.sync import Engine
from omnisdk.testing.control import SandboxControl
from omnisdk.testing.registration import unthrottled
from omnisdk.testing.server import LoopbackServer

ENGINE_PROCESS = Path(__file__).with_name("_engine_process.py")


class StallStockWrites:
    """ASGI wrapper: the next ``POST /stock/batch`` is held (after or before it is applied)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.armed: str | None = None
        self.hit = threading.Event()
        self.release = threading.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        is_write = scope["type"] == "http" and scope["path"] == "/stock/batch"
        if not (is_write and self.armed):
            await self.app(scope, receive, send)
            return
        mode, self.armed = self.armed, None
        answer: list[Any] = []

        async def keep(message: Any) -> None:
            answer.append(message)

        if mode == "after":
            await self.app(scope, receive, keep)  # the platform applied the write
        self.hit.set()
        await asyncio.to_thread(self.release.wait, 60)
        try:
            for message in answer or [
                {"type": "http.response.start", "status": 503, "headers": []},
                {"type": "http.response.body", "body": b""},
            ]:
                await send(message)
        except Exception:  # the client is long gone
            return


def write_config(path: Path, url: str, servers: dict[str, tuple[ExampleSandbox, str]]) -> Path:
    """An omnisdk.toml for the engine process (and the test's own engine)."""
    lines = [f'[store]\nurl = "{url}"\n', '[engine]\npush_lease = "1s"\n']
    for name, (sandbox, base_url) in servers.items():
        settings = sandbox.channel_settings(base_url)
        lines.append(f'[[channels]]\nname = "{name}"\ntype = "example"\n[channels.settings]')
        lines += [f'{key} = "{value}"' for key, value in settings.items()]
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def describe(store: Store, *shops: ExampleSandbox) -> str:
    """What the store and the shops hold, for a failure message."""
    orders = [(o.account, o.external_id, o.order.status.value) for o in store.iter_orders()]
    listed = [shop.listing(SKU_RED_M)["stock"] for shop in shops]
    return (
        f"orders={orders} listed={listed} pending={store.pending_pushes()} "
        f"listings={store.list_listings()} level={store.stock_level(SKU_RED_M, 'main')}"
    )


def start_engine(config: Path, stop: Path) -> subprocess.Popen[str]:
    """The engine in a subprocess, once it said it is ready."""
    process = subprocess.Popen(
        [sys.executable, str(ENGINE_PROCESS), str(config), str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if line.strip() != "ready":
        process.kill()
        raise AssertionError(f"the engine process did not start: {line}{process.stderr.read()}")
    return process


async def wait_for(condition: Any, within: float, what: str) -> None:
    """Poll ``condition()`` (may be async) until true, for ``within`` seconds at most."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize("landed", [True, False], ids=["write-landed", "write-lost"])
async def test_a_killed_engine_restarts_and_converges(
    store_url: str, tmp_path: Path, landed: bool
) -> None:
    shop_a, shop_b = ExampleSandbox(seed=31), ExampleSandbox(seed=32)
    stall = StallStockWrites(shop_b.app)
    control_a, control_b = SandboxControl.for_sandbox(shop_a), SandboxControl.for_sandbox(shop_b)
    for control in (control_a, control_b):
        await control.seed([{"sku": SKU_RED_M, "title": TITLE, "price": "129000", "stock": 0}])
    with LoopbackServer(shop_a.app) as server_a, LoopbackServer(stall) as server_b:
        config_path = write_config(
            tmp_path / "omnisdk.toml",
            store_url,
            {"shop-a": (shop_a, server_a.base_url), "shop-b": (shop_b, server_b.base_url)},
        )
        plugins = plugins_with(ExampleChannel)
        async with Engine(load_config(config_path, plugins=plugins), plugins=plugins) as engine:
            for channel in engine.channels.values():
                unthrottled(channel)
            for account in ("shop-a", "shop-b"):
                await engine.add_listing(account, SKU_RED_M)
            await engine.set_stock(SKU_RED_M, 8)
            await engine.push()
        # Quota allocation: the two listings share the 8 units.
        assert (shop_a.listing(SKU_RED_M)["stock"], shop_b.listing(SKU_RED_M)["stock"]) == (4, 4)

        await control_a.place_order(
            [(SKU_RED_M, 2)], customer={"name": "Phạm Minh Tú", "phone": "0903 111 222"}
        )
        stall.armed = "after" if landed else "before"
        stop = tmp_path / "stop"
        first = start_engine(config_path, stop)
        try:
            hit = await asyncio.to_thread(stall.hit.wait, 20)
            assert hit, "the engine never pushed to shop-b"
            first.send_signal(signal.SIGKILL)  # mid-push: the write is in flight
            assert first.wait(10) == -signal.SIGKILL
        finally:
            if first.poll() is None:
                first.kill()
        with Store(store_url) as crashed:
            intent = crashed.get_listing("shop-b", SKU_RED_M)
        assert intent is not None and intent.inflight_quantity is not None
        # shop-a sold 2: shop-b gives units up first (its write is the one in flight).
        assert intent.inflight_quantity < 4
        assert shop_b.listing(SKU_RED_M)["stock"] == (intent.inflight_quantity if landed else 4)
        # Business goes on while the engine is down.
        await control_b.place_order([(SKU_RED_M, 1)], customer={"name": "Võ Thị Lan"})
        await control_a.place_order([(SKU_RED_M, 1)])
        stall.release.set()

        second = start_engine(config_path, stop)
        store = Store(store_url)
        try:

            def converged() -> bool:
                orders = list(store.iter_orders())
                listed = [shop.listing(SKU_RED_M)["stock"] for shop in (shop_a, shop_b)]
                return (
                    len(orders) == 3
                    and sum(listed) == 4  # 8 on hand, 4 reserved: every free unit listed once
                    and min(listed) >= 1  # both sold lately: each keeps a share
                    and not store.pending_pushes()
                    and all(s.inflight_quantity is None for s in store.list_listings())
                )

            try:
                await wait_for(converged, 15, "the restarted engine to converge")
            except AssertionError:
                second.kill()
                stderr = second.stderr.read() if second.stderr else ""
                raise AssertionError(f"{describe(store, shop_a, shop_b)}\n{stderr}") from None
            stop.touch()
            assert second.wait(20) == 0, second.stderr.read() if second.stderr else ""
            orders = list(store.iter_orders())
            assert sorted((o.account, o.external_id) for o in orders) == sorted(
                [("shop-a", o["id"]) for o in shop_a.orders_state()]
                + [("shop-b", o["id"]) for o in shop_b.orders_state()]
            )
            level = store.stock_level(SKU_RED_M, "main")
            assert (level.on_hand, level.reserved) == (8, 4)
            reserves = [e for e in store.ledger_entries(sku=SKU_RED_M) if e.kind.value == "reserve"]
            assert len(reserves) == 3
            assert store.list_listings(failed=True) == []
        finally:
            if second.poll() is None:
                second.kill()
            store.close()
    for control in (control_a, control_b):
        await control.aclose()
    shop_a.close()
    shop_b.close()
