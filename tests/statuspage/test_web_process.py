"""The scale-out deployment's web process (``omnisdk webhooks``) serves the same status page
as ``omnisdk run``, from the shared store, beside its webhook receiver."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from _engine_testkit import Harness
from _page_testkit import HANOI_SHOP, SAIGON_SHOP

from omnisdk.runtime.celery.receiver import BrokerReceiver

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_the_web_process_serves_the_status_page_and_stops_it(shop: Harness) -> None:
    receiver = BrokerReceiver(
        shop.engine, host="127.0.0.1", port=0, enqueue=lambda *_: None, status_page="127.0.0.1:0"
    )
    stop = asyncio.Event()
    serving = asyncio.create_task(receiver.serve(stop))
    try:
        for _ in range(500):
            if receiver.status_page_url is not None or serving.done():
                break
            await asyncio.sleep(0.01)
        url = receiver.status_page_url
        assert url is not None, "the status page did not start"
        async with httpx.AsyncClient() as client:
            page = await client.get(url + "/")
        assert page.status_code == 200
        assert "text/html" in page.headers["content-type"]
        assert HANOI_SHOP in page.text and SAIGON_SHOP in page.text, "both accounts shown"
    finally:
        stop.set()
        await asyncio.wait_for(serving, 15)
    assert receiver.status_page is None
    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(url + "/")


async def test_without_an_address_the_web_process_serves_no_page(shop: Harness) -> None:
    receiver = BrokerReceiver(shop.engine, host="127.0.0.1", port=0, enqueue=lambda *_: None)
    assert shop.engine.config.engine.status_page is None
    assert receiver.status_page_address is None and receiver.status_page_url is None
