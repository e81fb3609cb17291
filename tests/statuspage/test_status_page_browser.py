"""The status page in a real browser: Debian's Chromium, driven by Playwright.

``omnisdk run``'s runtime serves the page on loopback over the module's stocked shop; one
browser serves every test of the module. The tests look at what a person sees: the key
text visible, a screenshot that is a real, drawn picture, a new order showing up on the
open page without a reload, hostile names shown as text, and the page whole with
JavaScript off. Without ``/usr/bin/chromium`` the tests are skipped (they fail when
``CI=true``: ``.ci/run`` installs it).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from _database_testkit import in_ci
from _engine_testkit import Harness
from _page_testkit import HOSTILE_TITLE, SAIGON_SHOP, SHIRT_TITLE, SKU_SHIRT
from _png import count_ink, png_size

from omnisdk.runtime import LocalRuntime

pytestmark = pytest.mark.asyncio(loop_scope="module")

CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = {"width": 1280, "height": 900}
PAPER = (0xF6, 0xF7, 0xF9)  # the page's background colour (status.css --paper)
SCREENSHOT_ENV = "OMNISDK_STATUS_SCREENSHOT"
"""Set to a path to keep a full-page screenshot of the overview there (docs/ has one)."""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Any]:
    if shutil.which(str(CHROMIUM)) is None:
        message = f"{CHROMIUM} is missing: apt-get install -y chromium"
        if in_ci():
            pytest.fail(f"CI=true requires Chromium. {message}")
        pytest.skip(message)
    from playwright.async_api import async_playwright

    async with async_playwright() as driver:
        launched = await driver.chromium.launch(executable_path=str(CHROMIUM))
        try:
            yield launched
        finally:
            await launched.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def served(shop: Harness) -> AsyncIterator[LocalRuntime]:
    """The shop's engine in the local runtime, its status page on a free loopback port."""
    runtime = LocalRuntime(
        shop.engine,
        webhooks=False,
        status_page="127.0.0.1:0",
        initial_poll=False,
        reconcile=False,
        grace=2,
    )
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


@pytest_asyncio.fixture(loop_scope="module")
async def page(browser: Any, served: LocalRuntime) -> AsyncIterator[Any]:
    context = await browser.new_context(viewport=VIEWPORT, locale="vi-VN")
    try:
        opened = await context.new_page()
        yield opened
    finally:
        await context.close()


def _url(served: LocalRuntime, path: str = "") -> str:
    assert served.status_page_url is not None
    return served.status_page_url + path


async def test_the_overview_reads_well_and_its_screenshot_is_a_real_picture(
    browser: Any, page: Any, served: LocalRuntime, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    await page.goto(_url(served))
    await expect(page.locator("#live")).to_have_text("live")
    for heading in ("Engine status", "Channels", "Failing pushes", "Quarantine", "Newest orders"):
        await expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    quotas = page.get_by_role("heading", name="Oversells prevented, buyers refused")
    await expect(quotas).to_be_visible()
    await expect(page.get_by_text("0/2", exact=True)).to_be_visible()
    await expect(page.locator("#s-channels").get_by_text(SAIGON_SHOP)).to_be_visible()
    await expect(page.get_by_text("sản phẩm bị khoá")).to_be_visible()
    # Times are shown as "… ago" by the page's script (the server sends them in UTC).
    await expect(page.locator("#s-orders time").first).to_have_text(
        re.compile(r"(just now|\d+ (s|min) ago)")
    )

    shot = tmp_path / "status-page.png"
    data = await page.screenshot(path=str(shot))
    assert png_size(data) == (VIEWPORT["width"], VIEWPORT["height"])
    blank = await browser.new_page()
    try:
        ink = await count_ink(blank, data, PAPER)
    finally:
        await blank.close()
    assert (ink.width, ink.height) == png_size(data)
    assert ink.inked > 0.08, ink  # the dark header, cards, tables and their text
    assert ink.colours > 100, ink  # anti-aliased text, badges: not a flat fill
    if keep := os.environ.get(SCREENSHOT_ENV):
        await page.screenshot(path=keep, full_page=True)


async def test_a_new_order_appears_on_the_open_page_without_a_reload(
    page: Any, shop: Harness, served: LocalRuntime
) -> None:
    from playwright.async_api import expect

    await page.goto(_url(served))
    await expect(page.locator("#live")).to_have_text("live")
    await page.evaluate("window.__notReloaded = true")
    rows = page.locator("#s-orders tbody tr")
    before = await rows.count()
    order_id = await shop.controls[SAIGON_SHOP].place_order([(SKU_SHIRT, 1)])

    await shop.engine.poll_orders(SAIGON_SHOP)  # the buyer's order is recorded in the store

    stored = await asyncio.to_thread(shop.store.get_order, SAIGON_SHOP, order_id)
    assert stored is not None and stored.order.number
    await expect(rows).to_have_count(before + 1, timeout=10_000)
    await expect(rows.first).to_contain_text(stored.order.number)
    assert await page.evaluate("window.__notReloaded === true")
    await expect(rows.first).to_contain_text(SHIRT_TITLE)
    await expect(rows.first).to_contain_text("1,450,000 VND")


async def test_a_hostile_product_name_shows_as_text_and_runs_nothing(
    page: Any, served: LocalRuntime
) -> None:
    from playwright.async_api import expect

    await page.goto(_url(served))
    await expect(page.get_by_text(HOSTILE_TITLE, exact=True).first).to_be_visible()
    assert await page.evaluate("typeof window.pwned") == "undefined"
    assert await page.locator("script").count() == 1  # the page's own
    assert await page.locator("img").count() == 0  # the quarantined "<img onerror>" reason


async def test_the_lookup_form_opens_a_skus_stock_and_quotas(
    page: Any, served: LocalRuntime
) -> None:
    from playwright.async_api import expect

    await page.goto(_url(served))
    await page.get_by_label("SKU").fill(SKU_SHIRT)
    await page.get_by_role("button", name="Show stock").click()
    await expect(page.get_by_role("heading", name=SHIRT_TITLE)).to_be_visible()
    await expect(page.get_by_role("heading", name="Per channel")).to_be_visible()
    await expect(page.get_by_role("columnheader", name="Quota")).to_be_visible()
    await expect(page.locator("#live")).to_have_text("live")


async def test_with_javascript_off_the_page_is_whole(browser: Any, served: LocalRuntime) -> None:
    from playwright.async_api import expect

    context = await browser.new_context(viewport=VIEWPORT, java_script_enabled=False)
    try:
        page = await context.new_page()
        await page.goto(_url(served))
        await expect(page.get_by_role("heading", name="Newest orders")).to_be_visible()
        await expect(page.locator("#s-orders").get_by_text(SHIRT_TITLE).first).to_be_visible()
        await expect(page.locator("#live")).to_be_hidden()
        await expect(page.locator("#s-orders time").first).to_contain_text("UTC")
    finally:
        await context.close()


async def test_the_sales_link_opens_charts_drawn_as_svg_with_the_shops_figures(
    page: Any, served: LocalRuntime
) -> None:
    from playwright.async_api import expect

    await page.goto(_url(served))
    await page.get_by_role("link", name="Sales", exact=True).click()
    await expect(page.get_by_role("heading", name="Sales", exact=True)).to_be_visible()
    chart = page.locator('figure[data-by="channel"][data-currency="VND"] svg')
    await expect(chart).to_be_visible()
    await expect(chart.locator("text").last).to_have_text("2,900,000 VND")
    box = await chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 30  # drawn, not empty
    await page.get_by_role("link", name="90 days").click()
    await expect(page.locator("strong[aria-current=page]")).to_have_text("90 days")
    await expect(page.locator("#live")).to_have_text("live")
