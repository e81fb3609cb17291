"""KiotViet webhooks: every signature variant, the envelope, and deliveries that come twice
or out of order changing nothing twice."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from omnisdk_pos import PosChannel
from omnisdk_pos.sandbox import KiotVietSandbox
from omnisdk_pos.webhooks import Digest, KeyMode, parse_envelope, sign, verify_signature

from omnisdk.channel import WebhookRequest
from omnisdk.config import ChannelConfig, Config, EngineConfig, StoreConfig
from omnisdk.errors import WebhookVerificationError
from omnisdk.models import EventKind, OrderStatus
from omnisdk.plugins import Plugins
from omnisdk.store import Store
from omnisdk.sync import Engine
from omnisdk.testing.control import IN_PROCESS_URL
from omnisdk.testing.registration import ContributeChannels, unthrottled
from omnisdk.testing.sandbox import SeedProduct
from omnisdk.webhooks import WebhookReceiver

# pos.md section 4's worked example: 298 UTF-8 bytes and the four header values.
SECRET = "a3YtZGVtby1zZWNyZXQtMjAyNA=="
BODY = (
    '{"Id":"3f2b8c1e-7d4a-4e55-9a61-0c9d2b7e4f10","Attempt":1,"Notifications":[{"Action":'
    '"stock.update.500123456","Data":[{"ProductId":1000001,"ProductCode":"AT-TRANG-M",'
    '"ProductName":"Áo thun - Trắng - M","BranchId":20001,"BranchName":"Chi nhánh Quận 1",'
    '"Cost":85000,"OnHand":12,"Reserved":2}]}]}'
).encode()
VARIANTS = {
    "A": (
        KeyMode.TEXT,
        Digest.HEX,
        "696512d5c2571db512a842c207c31a5764a37ca427900e4be3587f1c8149bd88",
    ),
    "B": (KeyMode.TEXT, Digest.BASE64, "aWUS1cJXHbUSqELCB8MaV2SjfKQnkA5L41h/HIFJvYg="),
    "C": (
        KeyMode.DECODED,
        Digest.HEX,
        "3ea8028c6526c4d8f516009a6abd058fbb3520cece7462a75b69bd7e8d95b45d",
    ),
    "D": (KeyMode.DECODED, Digest.BASE64, "PqgCjGUmxNj1FgCaar0Fj7s1IM7OdGKnW2m9fo2VtF0="),
}


def test_the_worked_example_is_298_bytes() -> None:
    """The body the vectors were computed over."""
    assert len(BODY) == 298


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_signature_variant_signs_and_verifies(variant: str) -> None:
    """Each of A-D reproduces pos.md's value and verifies, with or without ``sha256=``."""
    mode, digest, expected = VARIANTS[variant]
    assert sign(SECRET, BODY, key_mode=mode, digest=digest) == expected
    assert verify_signature(SECRET, BODY, expected)
    assert verify_signature(SECRET, BODY, "sha256=" + expected)
    if digest is Digest.HEX:
        assert verify_signature(SECRET, BODY, expected.upper())


def test_a_wrong_secret_body_or_empty_header_does_not_verify() -> None:
    """The secret is always needed; one changed byte fails; re-serialised JSON fails."""
    good = VARIANTS["A"][2]
    assert not verify_signature("b3RoZXItc2VjcmV0LTEyMzQ=", BODY, good)
    assert not verify_signature(SECRET, BODY.replace(b"12", b"13", 1), good)
    again = json.dumps(json.loads(BODY), ensure_ascii=True).encode()
    assert not verify_signature(SECRET, again, good)
    assert not verify_signature(SECRET, BODY, None)
    assert not verify_signature(SECRET, BODY, "")
    assert not verify_signature("", BODY, good)


def test_the_envelope_reads_updates_and_both_delete_shapes() -> None:
    """``Action`` splits into type and retailer; PascalCase becomes REST's camelCase."""
    envelope = parse_envelope(BODY)
    assert (envelope.id, envelope.attempt) == ("3f2b8c1e-7d4a-4e55-9a61-0c9d2b7e4f10", 1)
    [note] = envelope.notifications
    assert (note.type, note.retailer_id) == ("stock.update", 500123456)
    assert note.objects[0]["onHand"] == 12 and note.objects[0]["productCode"] == "AT-TRANG-M"
    for data in ([1000002], {"RemoveId": [1000002]}):
        body = json.dumps(
            {
                "Id": "x",
                "Attempt": 2,
                "Notifications": [{"Action": "product.delete.500123456", "Data": data}],
            }
        ).encode()
        [delete] = parse_envelope(body).notifications
        assert (delete.type, delete.removed_ids) == ("product.delete", [1000002])
    with pytest.raises(ValueError, match="no Id"):
        parse_envelope(b'{"Notifications": []}')
    with pytest.raises(ValueError, match="Action"):
        parse_envelope(b'{"Id": "x", "Notifications": [{"Action": "nodot"}]}')


@pytest.fixture
def sandbox() -> Iterator[KiotVietSandbox]:
    """A sandbox with one product, webhooks going nowhere (captured by the test)."""
    box = KiotVietSandbox(seed=9)
    with box.lock:
        box.seed_products(
            [SeedProduct(sku="NON-LA-HUE", title="Nón lá Huế", price=85000, stock=20)]
        )
    yield box
    box.close()


def _channel(sandbox: KiotVietSandbox, **settings: object) -> PosChannel:
    channel = PosChannel(
        {**sandbox.channel_settings(IN_PROCESS_URL), **settings},
        account="cua-hang",
        transport=httpx.ASGITransport(app=sandbox.app),
        clock=sandbox.clock.now,
    )
    unthrottled(channel)
    return channel


def _deliveries(sandbox: KiotVietSandbox, action: str) -> list[WebhookRequest]:
    """Deliveries the sandbox would send for ``action``, captured through a transport."""
    captured: list[WebhookRequest] = []

    def keep(request: httpx.Request) -> httpx.Response:
        captured.append(WebhookRequest(body=request.content, headers=dict(request.headers)))
        return httpx.Response(200)

    sandbox.webhook_transport = httpx.MockTransport(keep)
    sandbox.webhook_url = "http://receiver.test/hooks/pos"
    action()  # type: ignore[operator]
    return captured


@pytest.mark.parametrize("variant", sorted(VARIANTS))
async def test_the_channel_accepts_deliveries_in_every_variant(variant: str) -> None:
    """A sandbox configured for each variant: the channel verifies its deliveries."""
    mode, digest, _ = VARIANTS[variant]
    box = KiotVietSandbox(
        seed=4, key_mode=mode, digest=digest, signature_prefix="sha256=" if variant == "D" else ""
    )
    try:
        with box.lock:
            box.seed_products([SeedProduct(sku="X-1", title="Ấm trà", price=120000, stock=3)])
        async with _channel(box) as channel:
            await channel.load_branches()
            deliveries = _deliveries(box, lambda: box.counter_sale({"X-1": 1}))
            await box.drain_webhooks()
            assert deliveries
            for delivery in deliveries:
                assert channel.receive_webhook(delivery)
            forged = WebhookRequest(body=deliveries[0].body + b" ", headers=deliveries[0].headers)
            with pytest.raises(WebhookVerificationError):
                channel.receive_webhook(forged)
    finally:
        box.close()


async def test_an_invoice_delivery_carries_its_sale_whole(sandbox: KiotVietSandbox) -> None:
    """``invoice.update`` -> an order event with the mapped order; stock and product too."""
    async with _channel(sandbox) as channel:
        await channel.load_branches()
        code = ""

        def sell() -> None:
            nonlocal code
            code = sandbox.counter_sale({"NON-LA-HUE": 3})

        deliveries = _deliveries(sandbox, sell)
        await sandbox.drain_webhooks()
        events = [e for d in deliveries for e in channel.receive_webhook(d)]
        kinds = {e.topic: e for e in events}
        assert set(kinds) == {"invoice.update", "stock.update", "product.update"}
        sale = kinds["invoice.update"]
        assert sale.kind is EventKind.ORDER_UPDATED and sale.external_id == code
        assert sale.order is not None and sale.order.status is OrderStatus.COMPLETED
        assert sale.order.pickup_location == "cn01"
        assert kinds["stock.update"].kind is EventKind.STOCK_CHANGED
        assert len({e.delivery_id for e in events}) == len(events)


async def test_a_marketplace_delivery_is_not_a_sale(sandbox: KiotVietSandbox) -> None:
    """A mirrored Shopee invoice arrives as ``OTHER``: nothing for the engine to count."""
    async with _channel(sandbox) as channel:
        await channel.load_branches()
        deliveries = _deliveries(sandbox, lambda: sandbox.marketplace_sale({"NON-LA-HUE": 1}))
        await sandbox.drain_webhooks()
        events = [e for d in deliveries for e in channel.receive_webhook(d)]
        [mirrored] = [e for e in events if e.topic == "invoice.update"]
        assert mirrored.kind is EventKind.OTHER and mirrored.order is None


async def test_without_a_secret_nothing_verifies(sandbox: KiotVietSandbox) -> None:
    """No ``webhook_secret`` configured: every delivery is refused, clearly."""
    async with _channel(sandbox, webhook_secret=None) as channel:
        with pytest.raises(WebhookVerificationError, match="no webhook_secret"):
            channel.verify_webhook(WebhookRequest(body=BODY, headers={}))


@contextlib.asynccontextmanager
async def _engine_with_stock(
    sandbox: KiotVietSandbox, tmp_path: Path
) -> AsyncIterator[tuple[Engine, PosChannel, Store]]:
    """An engine (SQLite in ``tmp_path``, quota allocation) over the sandbox as account
    ``cua-hang`` at branch ``cn01``, its branches loaded and 20 NON-LA-HUE counted there."""
    url = f"sqlite:///{tmp_path / 'omnisdk.db'}"
    store = Store(url)
    store.migrate()
    plugins = Plugins(entry_points=False)
    plugins.register(ContributeChannels(PosChannel), name="pos-webhook-test")
    config = Config(
        store=StoreConfig(url=url),
        engine=EngineConfig(allocation="quota"),
        channels=[
            ChannelConfig(
                name="cua-hang",
                type="pos",
                location="cn01",
                settings=sandbox.channel_settings(IN_PROCESS_URL),
            )
        ],
    )
    engine = Engine(
        config,
        plugins=plugins,
        store=store,
        transports={"cua-hang": httpx.ASGITransport(app=sandbox.app)},
    )
    await engine.open()
    try:
        channel = engine.channel("cua-hang")
        assert isinstance(channel, PosChannel)
        unthrottled(channel)
        await channel.load_branches()
        # The branch's own stock take (no master catalog in this test): see count_into_engine.
        await engine.set_stock("NON-LA-HUE", 20, location="cn01", key="count-1", create=True)
        yield engine, channel, store
    finally:
        await engine.aclose()
        store.close()


async def test_duplicate_and_out_of_order_deliveries_change_nothing_twice(
    sandbox: KiotVietSandbox, tmp_path: Path
) -> None:
    """An order reserved then invoiced: its deliveries handled twice, newest first, then
    oldest: the engine ends with one sale of 2, committed once at the branch."""
    async with _engine_with_stock(sandbox, tmp_path) as (engine, channel, store):
        code = ""

        def reserve_then_invoice() -> None:
            nonlocal code
            code = sandbox.online_order({"NON-LA-HUE": 2})
            sandbox.invoice_order(code)

        deliveries = _deliveries(sandbox, reserve_then_invoice)
        await sandbox.drain_webhooks()
        sales = [d for d in deliveries if b"order.update" in d.body or b"invoice.update" in d.body]
        assert len(sales) >= 3  # order created, order completed, invoice
        for delivery in [*reversed(sales), *sales, *reversed(sales)]:
            await engine.handle_events("cua-hang", channel.receive_webhook(delivery))
        view = await engine.stock_view("NON-LA-HUE")
        [branch] = [lv for lv in view.locations if lv.location == "cn01"]
        assert (branch.on_hand, branch.reserved) == (18, 0)
        stored = list(store.iter_orders(account="cua-hang"))
        assert [(o.external_id, o.order.status) for o in stored] == [(code, OrderStatus.COMPLETED)]


async def test_a_product_delete_is_an_event_naming_the_id(sandbox: KiotVietSandbox) -> None:
    """``product.delete`` with ``Data: [id]``: a PRODUCT_DELETED event per removed id."""
    async with _channel(sandbox) as channel:
        await channel.load_branches()
        deliveries = _deliveries(
            sandbox, lambda: sandbox.notify_removed("product.delete", [1000002, 1000003])
        )
        await sandbox.drain_webhooks()
        events = [e for d in deliveries for e in channel.receive_webhook(d)]
        assert [(e.kind, e.external_id) for e in events] == [
            (EventKind.PRODUCT_DELETED, "1000002"),
            (EventKind.PRODUCT_DELETED, "1000003"),
        ]


async def test_the_receiver_answers_2xx_and_401_only_for_a_bad_signature(
    sandbox: KiotVietSandbox, tmp_path: Path
) -> None:
    """Through the core's webhook receiver: every genuine delivery 200 (a redelivery too:
    KiotViet drops a URL that answers 4xx), a forged one 401; the queue then ingests the
    counter sale once."""
    async with _engine_with_stock(sandbox, tmp_path) as (engine, _, store):
        receiver = WebhookReceiver(engine.channels, store)
        code = ""

        def sell() -> None:
            nonlocal code
            code = sandbox.counter_sale({"NON-LA-HUE": 4})

        deliveries = _deliveries(sandbox, sell)
        await sandbox.drain_webhooks()
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=receiver.app), base_url="http://receiver.test"
        ) as http:
            answers = []
            for delivery in [*deliveries, *deliveries]:
                response = await http.post(
                    "/webhooks/cua-hang", content=delivery.body, headers=delivery.headers
                )
                answers.append((response.status_code, response.json()["status"]))
            forged = await http.post(
                "/webhooks/cua-hang",
                content=deliveries[0].body.replace(b'"Attempt":1', b'"Attempt":9'),
                headers=deliveries[0].headers,
            )
        assert {status for status, _ in answers} == {200}
        assert [kind for _, kind in answers[len(deliveries) :]] == ["duplicate"] * len(deliveries)
        assert forged.status_code == 401
        await receiver.drain(engine.handle_events)
        view = await engine.stock_view("NON-LA-HUE")
        [branch] = [lv for lv in view.locations if lv.location == "cn01"]
        assert branch.on_hand == 16
        assert [o.external_id for o in store.iter_orders(account="cua-hang")] == [code]
