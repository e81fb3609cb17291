"""The fixtures of the ``omnisdk`` pytest plugin, used the way plugin authors use them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from omnisdk_example.channel import ExampleChannel
from omnisdk_example.sandbox import ExampleSandbox

from omnisdk import Channel, Plugins, StockUpdate
from omnisdk.testing import LoopbackServer, SecretLeakGuard, WebhookRecorder
from omnisdk.testing.pytest_plugin import SandboxedChannel


def test_omnisdk_plugins_is_fresh_and_empty(omnisdk_plugins: Plugins) -> None:
    assert omnisdk_plugins.channel_types() == {}
    assert omnisdk_plugins.failures == []


def test_loopback_server_factory_serves_and_stops(
    loopback_server: Callable[..., LoopbackServer],
) -> None:
    recorder = WebhookRecorder()
    server = loopback_server(recorder.app)
    assert httpx.post(server.url("/hooks"), content=b"{}").status_code == 200
    assert recorder.deliveries[0].path == "/hooks"


async def test_sandbox_channel_gives_a_connected_channel(
    sandbox_channel: Callable[..., SandboxedChannel],
) -> None:
    env = sandbox_channel(ExampleSandbox, ExampleChannel, unthrottled=True)
    assert isinstance(env.channel, ExampleChannel) and isinstance(env.sandbox, ExampleSandbox)
    await env.control.seed(
        [
            {
                "sku": "CA-PHE",
                "title": "Cà phê sữa đá",
                "price": "29000",
                "currency": "VND",
                "stock": 12,
            }
        ]
    )
    [product] = [p async for p in env.channel.stream_products()]
    assert product.title == "Cà phê sữa đá" and str(product.variants[0].price) == "29,000 VND"
    [result] = await env.channel.write_stock([StockUpdate(sku="CA-PHE", quantity=5, expected=12)])
    assert result.ok and (await env.control.listed_stock()) == {"CA-PHE": 5}
    assert env.channel.plugins.channel_class("example") is ExampleChannel


async def test_sandbox_server_and_make_channel_go_over_a_socket(
    sandbox_server: Callable[[Any], str], make_channel: Callable[..., Channel]
) -> None:
    with ExampleSandbox() as sandbox:
        url = sandbox_server(sandbox)
        channel = make_channel(ExampleChannel, sandbox, base_url=url)
        assert url.startswith("http://127.0.0.1:")
        info = await channel.check()
        assert info.name == "Cửa hàng Ví Dụ" and info.currency == "VND"
        assert [r.path for r in sandbox.requests] == ["/shop"]


def test_log_secrets_guard_passes_a_clean_test(log_secrets_guard: SecretLeakGuard) -> None:
    log_secrets_guard.add("whsec_khong-bao-gio-lo")
    logging.getLogger("omnisdk.test").debug("signing with %s", "***")


def test_the_guard_finds_secrets_in_messages_arguments_extras_and_errors() -> None:
    secret = "exk_0123456789abcdef"
    with SecretLeakGuard([secret, "ngan"]) as guard:
        log = logging.getLogger("omnisdk.test.leaky")
        log.debug("token=%s", secret)
        log.info("ok", extra={"http_url": f"https://x.test/?access_token={secret}"})
        try:
            raise RuntimeError(f"refused {secret}")
        except RuntimeError:
            log.exception("call failed")
        guard.check_exception(ValueError("wrapped"))
        guard.check_text("nothing here", "text")
    leaks = guard.leaks()
    assert len(leaks) == 3, leaks  # one per leaking record
    assert all(secret not in leak for leak in leaks)  # reported masked
    assert "ngan" not in guard.secrets  # too short to watch
    with pytest.raises(AssertionError, match="secrets leaked"):
        guard.assert_clean()


def test_the_guard_sees_exception_causes() -> None:
    guard = SecretLeakGuard(["shpat_bi-mat-lam"])
    try:
        try:
            raise KeyError("shpat_bi-mat-lam")
        except KeyError as inner:
            raise RuntimeError("outer") from inner
    except RuntimeError as outer:
        guard.check_exception(outer)
    assert guard.leaks()
