"""status(): per-account health from the store, JSON-serialisable, secrets masked."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from _sync_testkit import SKU_HAT, SKU_RED_M, Account
from sqlalchemy import make_url

from omnisdk.cli.engine_render import result_text
from omnisdk.store import Store
from omnisdk.sync.engine import Engine
from omnisdk.sync.status import StatusReport, cursor_lag

SHOPEE = "shopee-hà-nội"
POS = "pos-quận-1"


async def test_a_fresh_engine_is_healthy(make_world):
    world = await make_world(Account(SHOPEE), Account(POS))

    report = await world.engine.status()

    assert [a.account for a in report.accounts] == [SHOPEE, POS]
    assert all(a.status == "active" and a.healthy for a in report.accounts)
    assert report.healthy
    assert report.totals.accounts == 2 and report.totals.by_status == {"active": 2}
    assert report.store_dialect == "sqlite"
    assert report.account(SHOPEE).channel == "example"


async def test_status_shows_lag_outbox_failures_and_quarantine(make_world):
    world = await make_world(Account(SHOPEE), Account(POS))
    engine, store = world.engine, world.engine.store
    now = store.now()
    polled = (now - timedelta(minutes=7)).isoformat()
    store.set_cursor(SHOPEE, "orders", polled)
    store.set_cursor(SHOPEE, "products", "trang-3")  # a page token: no lag
    with store.session() as session:
        store.mark_dirty(session, SHOPEE, SKU_RED_M)
        store.mark_dirty(session, SHOPEE, SKU_HAT)
        store.mark_dirty(session, POS, SKU_HAT)
    store.fail(SHOPEE, SKU_RED_M, "HTTP 503 từ sàn, thử lại sau", now + timedelta(minutes=1))
    store.record_push_failure(POS, SKU_HAT, "SKU bị khoá trên kênh", code="item_banned")
    for number in range(7):
        store.quarantine(
            SHOPEE,
            "order",
            f"2407VN{number:04d}",
            f"đơn hàng {number}: thiếu mã SKU",
            {"id": number},
        )
    store.quarantine(SHOPEE, "order", "2407VN0000", "đã sửa", {"id": 0})  # same entry again
    resolved = store.quarantine(POS, "product", "prd_9", "giá không hợp lệ", {})
    store.mark_resolved(resolved)

    report = await engine.status()

    shopee = report.account(SHOPEE)
    orders_cursor = next(c for c in shopee.cursors if c.stream == "orders")
    assert orders_cursor.value == polled
    assert orders_cursor.lag_seconds == pytest.approx(420, abs=30)
    assert next(c for c in shopee.cursors if c.stream == "products").lag_seconds is None
    assert shopee.max_lag_seconds == orders_cursor.lag_seconds
    assert shopee.last_sync_at is not None
    assert (shopee.outbox_depth, shopee.outbox_retrying) == (2, 1)
    [failing] = shopee.failing
    assert (failing.sku, failing.source, failing.attempts) == (SKU_RED_M, "outbox", 1)
    assert "503" in failing.error
    assert shopee.quarantine_open == 7
    assert len(shopee.quarantine_recent) == 5
    assert shopee.quarantine_recent[0].external_id == "2407VN0006"  # newest first
    assert not shopee.healthy

    pos = report.account(POS)
    assert (pos.outbox_depth, pos.failed_pushes, pos.quarantine_open) == (1, 1, 0)
    assert pos.failing[0].source == "listing" and pos.failing[0].code == "item_banned"
    assert report.totals.outbox_depth == 3 and report.totals.quarantine_open == 7
    assert report.totals.failed_pushes == 1 and report.totals.outbox_retrying == 1

    document = json.loads(report.model_dump_json())
    assert document["accounts"][0]["quarantine_recent"][0]["reason"] == "đơn hàng 6: thiếu mã SKU"
    assert StatusReport.model_validate(document) == report
    text = result_text(report, width=200)
    assert SHOPEE in text and "thiếu mã SKU" in text and "7m" in text


async def test_accounts_needing_reauth_and_forgotten_accounts_show(make_world):
    world = await make_world(Account(SHOPEE))
    store = world.engine.store
    store.set_account_status(SHOPEE, "needs_reauth")
    store.ensure_account("tiki-cũ", "example")
    store.set_account_status("tiki-cũ", "archived")

    report = await world.engine.status()

    assert [(a.account, a.status, a.configured) for a in report.accounts] == [
        (SHOPEE, "needs_reauth", True),
        ("tiki-cũ", "archived", False),
    ]
    assert not report.healthy
    assert "not configured" in result_text(report, width=200)


async def test_catalog_size_is_counted(make_world):
    world = await make_world(Account(SHOPEE))
    await world.shops[SHOPEE].control.seed(
        [
            {"sku": SKU_HAT, "title": "Nón lá Huế", "price": "85000"},
            {"sku": SKU_RED_M, "title": "Áo thun", "price": "129000"},
        ]
    )
    await world.engine.import_catalog(SHOPEE)

    report = await world.engine.status()

    assert (report.totals.products, report.totals.variants) == (2, 2)
    assert report.account(SHOPEE).listings == 0  # no push or read-back yet


@pytest.mark.postgres
async def test_the_store_password_never_shows(pg_url, make_world):
    world = await make_world(Account(SHOPEE))
    secret_url = make_url(pg_url).set(password="mật-khẩu-bí-mật")
    store = Store(secret_url)
    try:
        engine = Engine(world.engine.config, plugins=world.engine.plugins, store=store)
        await engine.open()
        try:
            report = await engine.status()
        finally:
            await engine.aclose()
    finally:
        store.close()
    assert report.store_dialect == "postgresql"
    assert "mật-khẩu" not in report.model_dump_json() and "mật-khẩu" not in result_text(report)
    assert "***" in report.store_url


def test_cursor_lag_reads_iso_times_only():
    now = datetime(2024, 7, 1, 12, 0, tzinfo=UTC)
    assert cursor_lag("2024-07-01T11:59:00+00:00", now) == 60
    assert cursor_lag("2024-07-01T11:59:00", now) == 60  # naive: UTC
    assert cursor_lag("eyJwYWdlIjogM30=", now) is None
