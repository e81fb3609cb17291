"""The Channel base: batching, per-item failures, mapping through hooks, capabilities."""

import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr

from omnisdk import (
    BadRequest,
    Capability,
    Channel,
    ChannelEvent,
    ChannelLimits,
    ChannelSettings,
    ConfigError,
    EventKind,
    MappingError,
    Order,
    PlatformUnavailable,
    Plugins,
    Product,
    StockUpdate,
    UnsupportedOperation,
    WebhookRequest,
    WriteResult,
    default_plugins,
    hookimpl,
)
from omnisdk.channel import RecordCounts
from omnisdk.hook_registry import default_hook_registry


class Settings(ChannelSettings):
    token: SecretStr


class Recorder(Channel):
    """Records batches instead of calling a platform."""

    name = "recorder"
    capabilities = frozenset({Capability.WRITE_STOCK, Capability.READ_PRODUCTS})
    limits = ChannelLimits(max_stock_batch=3)
    settings_model = Settings
    default_base_url = "http://127.0.0.1:9"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batches: list[list[str]] = []
        self.records: list[dict[str, Any]] = []

    async def fetch_products(
        self, *, updated_since: datetime | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        for raw in self.records:
            yield raw

    async def write_stock_batch(self, batch: Sequence[StockUpdate]) -> list[WriteResult]:
        self.batches.append([u.sku for u in batch])
        if any(u.sku == "DOWN" for u in batch):
            raise PlatformUnavailable("503 after retries", channel=self.name)
        return [WriteResult.failure(u.sku, BadRequest("no such SKU", code="404"))
                if u.sku.startswith("BAD") else WriteResult.success(u.sku) for u in batch]

    def parse_product(self, raw: dict[str, Any]) -> Product:
        return Product.model_validate({
            "title": raw["name"],
            "variants": [{"sku": raw.get("sku", ""), "price": {"amount": raw["price"],
                                                                "currency": "VND"}}],
            "channel_ref": self.ref(raw["id"]),
            "raw": raw,
        })


def make(plugins: Plugins | None = None) -> Recorder:
    return Recorder({"token": "tok-123"}, account="test",
                    plugins=plugins or Plugins(entry_points=False))


async def test_writes_split_at_the_declared_maximum_with_per_item_results() -> None:
    channel = make()
    skus = ["A1", "A2", "BAD3", "A4", "DOWN", "A6", "A7"]
    results = await channel.write_stock(StockUpdate(sku=s, quantity=1) for s in skus)
    assert channel.batches == [["A1", "A2", "BAD3"], ["A4", "DOWN", "A6"], ["A7"]]
    assert [r.key for r in results] == skus
    outcome = {r.key: (r.ok, r.retryable) for r in results}
    assert outcome["A1"] == (True, False) and outcome["A7"] == (True, False)
    assert outcome["BAD3"] == (False, False)
    assert outcome["A4"] == outcome["DOWN"] == outcome["A6"] == (False, True)
    assert results[2].code == "404"


async def test_missing_capability_is_a_clear_error() -> None:
    channel = make()
    with pytest.raises(UnsupportedOperation, match=r"recorder.*write_prices"):
        await channel.write_prices([])
    with pytest.raises(UnsupportedOperation, match="read_orders"):
        channel.stream_orders()
    with pytest.raises(UnsupportedOperation):
        channel.receive_webhook(WebhookRequest(body=b"{}"))


def test_settings_errors_name_the_field_and_never_echo_secrets() -> None:
    with pytest.raises(ConfigError) as info:
        Recorder({"token": "tok-secret-value", "colour": "red"}, account="shop-1")
    assert "colour" in str(info.value) and "shop-1" in str(info.value)
    assert "tok-secret-value" not in str(info.value)
    channel = make()
    assert "tok-123" not in repr(channel) and "tok-123" not in repr(channel.settings)
    assert channel.settings.secret_values() == ["tok-123"]


def test_mapping_goes_through_hooks_which_can_wrap_it() -> None:
    plugins = Plugins(entry_points=False)

    class Tagger:
        @hookimpl(wrapper=True)
        def omnisdk_map_product(self, channel: Channel, raw: dict[str, Any]) -> Any:
            product = yield
            product.tags.append(f"from-{channel.name}")
            return product

    plugins.register(Tagger())
    product = make(plugins).map_product({"id": 7, "name": "Nón lá", "sku": "NON-1",
                                         "price": "50000"})
    assert product.title == "Nón lá" and product.tags == ["from-recorder"]
    assert product.channel_ref is not None and product.channel_ref.external_id == "7"


async def test_bad_payload_becomes_a_mapping_error_and_is_reported_not_raised() -> None:
    plugins = Plugins(entry_points=False)
    rejected: list[tuple[str, str | None, str]] = []

    class Quarantine:
        @hookimpl
        def omnisdk_record_rejected(self, kind: str, external_id: str | None,
                                    reason: str) -> None:
            rejected.append((kind, external_id, reason))

    plugins.register(Quarantine())
    channel = make(plugins)
    with pytest.raises(MappingError, match=r"recorder/test product #8.*variants\.0\.sku"):
        channel.map_product({"id": 8, "name": "Không SKU", "price": "1"})
    channel.records = [{"id": 9, "name": "x", "price": "1.5"},
                       {"id": 10, "name": "Nón", "sku": "NON-2", "price": "1"}]
    streamed = [product async for product in channel.stream_products()]
    assert [p.title for p in streamed] == ["Nón"]
    assert rejected and rejected[0][0] == "product" and rejected[0][1] == "9"
    assert "VND allows (0)" in rejected[0][2]
    assert channel.mapping_stats.product == RecordCounts(mapped=1, rejected=1)
    assert channel.mapping_stats.rejected == 1


def test_order_type_is_exported() -> None:
    assert Order.model_fields["created_at"].annotation is datetime
    assert datetime.now(UTC).tzinfo is UTC


class Announcer(Recorder):
    """Receives product deliveries carrying the product whole, under ``"item"``."""

    capabilities = frozenset({*Recorder.capabilities, Capability.WEBHOOKS})
    external_id_keys = ("item_no",)

    def verify_webhook(self, request: WebhookRequest) -> None:
        pass

    def parse_webhook(self, request: WebhookRequest) -> list[ChannelEvent]:
        payload = json.loads(request.body)
        return [ChannelEvent(kind=EventKind.PRODUCT_UPDATED, channel=self.name,
                             account=self.account, topic="product", raw=payload)]

    def webhook_record(self, event: ChannelEvent) -> dict[str, Any] | None:
        return event.raw["item"] if event.raw else None


def test_the_base_maps_what_a_delivery_carries_and_quarantines_what_it_cannot() -> None:
    plugins = Plugins(entry_points=False)
    rejected: list[str | None] = []

    class Quarantine:
        @hookimpl
        def omnisdk_record_rejected(self, external_id: str | None) -> None:
            rejected.append(external_id)

    plugins.register(Quarantine())
    channel = Announcer({"token": "t"}, account="test", plugins=plugins)
    good = {"item": {"id": 1, "name": "Nón", "sku": "NON-1", "price": "1"}}
    [event] = channel.receive_webhook(WebhookRequest(body=json.dumps(good).encode()))
    assert event.product is not None and event.product.title == "Nón"
    bad = {"item": {"item_no": "N-2", "name": "x", "price": "1"}}
    [hint] = channel.receive_webhook(WebhookRequest(body=json.dumps(bad).encode()))
    assert hint.product is None and hint.raw == bad
    assert rejected == ["N-2"]  # the id under the channel's declared external_id_keys
    assert channel.mapping_stats.product == RecordCounts(mapped=1, rejected=1)


def test_a_channel_built_without_a_registry_maps_through_the_process_default() -> None:
    channel = Recorder({"token": "t"}, account="test")
    assert channel.plugins is default_hook_registry()
    assert default_plugins().hooks is default_hook_registry()


async def test_a_consumer_that_stops_early_closes_the_fetch() -> None:
    closed: list[bool] = []

    class Pages(Recorder):
        async def fetch_products(
            self, *, updated_since: datetime | None = None
        ) -> AsyncIterator[dict[str, Any]]:
            try:
                for n in range(100):
                    yield {"id": n, "name": f"P{n}", "sku": f"P-{n}", "price": "1"}
            finally:
                closed.append(True)

    stream = Pages({"token": "t"}, plugins=Plugins(entry_points=False)).stream_products()
    async for _product in stream:
        break
    await stream.aclose()  # type: ignore[attr-defined]
    assert closed == [True]
