"""Fuzzing (hypothesis) the whole intake: a broken order in a poll's page never stops the rest.

A real Shopee order poll (``Engine.poll_orders``, into a SQLite store) whose page holds a good
order, one broken by :func:`omnisdk.testing.fuzz.mutations` and another good order: the poll
never raises, both good orders are stored, and the broken one is either stored (it was still
an order) or quarantined with its reason — mapping or storing, wherever it fails.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from _engine_testkit import Account, engine_config, plugins_with
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnisdk.store import open_store
from omnisdk.sync import SyncEngine
from omnisdk.testing.fuzz import deep_nesting, mutations
from omnisdk.testing.registration import unthrottled
from omnisdk.testing.sandbox import BuyerLine, BuyerOrder, SeedProduct

shopee_channel = pytest.importorskip("omnisdk_shopee.channel")
shopee_sandbox = pytest.importorskip("omnisdk_shopee.sandbox.app")

ACCOUNT = "shopee-vn"


class Intake:
    """A Shopee sandbox with two orders, the raw orders its channel fetches, an engine."""

    def __init__(self, directory: Path) -> None:
        self.sandbox = shopee_sandbox.ShopeeSandbox(seed=9)
        with self.sandbox.lock:
            self.sandbox.seed_products(
                [
                    SeedProduct(
                        sku="TRA-SHAN-TUYET", title="Trà Shan tuyết", price=320000, stock=9
                    ),
                    SeedProduct(sku="GOM-BAT-TRANG", title="Gốm Bát Tràng", price=450000, stock=9),
                ]
            )
            for sku, name in (("TRA-SHAN-TUYET", "Lê Văn Tám"), ("GOM-BAT-TRANG", "Đỗ Thị Mai")):
                self.sandbox.place_order(
                    BuyerOrder(lines=[BuyerLine(sku=sku, quantity=1)], customer={"name": name})
                )
        url = f"sqlite:///{directory / 'omnisdk.db'}"
        open_store(url).close()  # migrated
        channel_class = shopee_channel.ShopeeChannel
        config = engine_config(url, [Account(ACCOUNT, channel_class, sandbox=self.sandbox)])
        self.engine = SyncEngine(
            config,
            plugins=plugins_with(channel_class),
            transports={ACCOUNT: httpx.ASGITransport(app=self.sandbox.app)},
        )
        self.channel = unthrottled(self.engine.engine.channels[ACCOUNT])
        self.good = asyncio.run(self._fetch())
        assert len(self.good) == 2

    async def _fetch(self) -> list[dict[str, Any]]:
        fetcher = shopee_channel.ShopeeChannel(
            self.sandbox.channel_settings("http://sandbox.test"),
            account=ACCOUNT,
            plugins=plugins_with(shopee_channel.ShopeeChannel),
            transport=httpx.ASGITransport(app=self.sandbox.app),
        )
        async with fetcher:
            return [raw async for raw in fetcher.fetch_orders()]

    def poll(self, page: list[Any]) -> None:
        """One order poll whose only page is ``page`` (never raises: that is the point)."""

        async def fetch_orders(**_: Any) -> Any:
            for raw in page:
                yield raw

        self.channel.fetch_orders = fetch_orders  # type: ignore[method-assign]
        self.engine.poll_orders(ACCOUNT)

    def close(self) -> None:
        self.engine.close()
        self.sandbox.close()


def quarantine_attempts(intake: Intake) -> int:
    """Attempts over every quarantine entry of the account (grows with each one quarantined)."""
    store = intake.engine.engine.store
    entries = store.list_quarantine(resolved=None, account=ACCOUNT, limit=100_000)
    return sum(entry.attempts for entry in entries)


@pytest.fixture(scope="module")
def intake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Intake]:
    made = Intake(tmp_path_factory.mktemp("intake-fuzz"))
    yield made
    made.close()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_a_broken_order_is_stored_or_quarantined_and_the_page_goes_on(
    intake: Intake, data: st.DataObject
) -> None:
    first, second = intake.good
    broken = data.draw(mutations(first))
    store = intake.engine.engine.store
    before = quarantine_attempts(intake)

    intake.poll([first, broken, second])

    for raw in (first, second):
        assert store.get_order(ACCOUNT, str(raw["order_sn"])) is not None, raw["order_sn"]
    sn = broken.get("order_sn") if isinstance(broken, dict) else None
    lookable = isinstance(sn, str | int) and not isinstance(sn, bool)
    lookable = lookable and not any("\ud800" <= c <= "\udfff" for c in str(sn))
    stored = lookable and store.get_order(ACCOUNT, str(sn)) is not None
    # A quarantine entry is new (1 attempt) or an unresolved one of the same id gets one more.
    quarantined = quarantine_attempts(intake) > before
    assert stored or quarantined, f"the broken order was neither stored nor quarantined: {sn!r}"


def test_a_record_with_broken_utf8_is_quarantined_not_a_crash(intake: Intake) -> None:
    first, second = intake.good
    broken = dict(first, currency="\udcff", message_to_seller="Giao giờ hành chính \udcff")
    store = intake.engine.engine.store

    intake.poll([first, broken, second])  # the store cannot encode a lone surrogate

    entries = store.list_quarantine(resolved=None, account=ACCOUNT, limit=100_000)
    kept = [e for e in entries if e.external_id == first["order_sn"] and "currency" in e.reason]
    assert kept, entries
    assert kept[-1].payload["currency"] == "\ufffd"  # kept, the surrogate made storable
    for raw in (first, second):
        assert store.get_order(ACCOUNT, str(raw["order_sn"])) is not None


def test_a_known_order_again_with_a_too_deep_payload_does_not_stop_the_page(
    intake: Intake,
) -> None:
    first, second = intake.good
    intake.poll([first])
    # Same update_time as the stored version: the content hash is compared, which dumps the
    # payload, too deep for pydantic's serializer (it raised out of the poll).
    deep = dict(first, region=deep_nesting(400))
    before = quarantine_attempts(intake)

    intake.poll([deep, second])

    assert intake.engine.engine.store.get_order(ACCOUNT, str(second["order_sn"])) is not None
    assert quarantine_attempts(intake) > before
