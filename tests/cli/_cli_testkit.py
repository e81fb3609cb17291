"""CLI test helpers: an in-memory channel type (no HTTP, data from module-level lists).

Its ``shop`` setting picks behaviours: ``"slow"`` never answers ``check``, ``"buggy"`` raises a
plain RuntimeError, ``"endless"`` streams products forever, ``"flaky"`` drops the connection
after two products. An access token other than ``shpat_ok`` is refused by ``check`` with a
message that (carelessly) contains the token, so the CLI's redaction is exercised.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import SecretStr
from typer.testing import Result

from omnisdk import (
    AuthError,
    Capability,
    Channel,
    ChannelInfo,
    ChannelSettings,
    Location,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    PlatformUnavailable,
    Plugins,
    Product,
    Variant,
    hookimpl,
)

GOOD_TOKEN = "shpat_ok"

Invoke = Callable[..., Result]
"""The ``invoke`` fixture: runs ``omnisdk ARGS`` in-process."""

RAW_PRODUCTS: list[dict[str, Any]] = [
    {
        "id": "p1",
        "title": "Áo thun cổ tròn",
        "updated_at": "2024-05-01T08:00:00+07:00",
        "variants": [
            {"sku": "AO-THUN-M", "price": "129000", "options": {"Size": "M"}},
            {"sku": "AO-THUN-L", "price": "139000", "options": {"Size": "L"}},
        ],
    },
    {
        "id": "p2",
        "title": "Nón lá Huế",
        "updated_at": "2024-06-01T08:00:00+07:00",
        "variants": [{"sku": "NON-LA", "price": "85000"}],
    },
    {
        "id": "bad-1",
        "title": "Hàng lỗi",
        "updated_at": "2024-06-02T08:00:00+07:00",
        "variants": [{"sku": "", "price": "1000"}],
    },
    {
        "id": "p3",
        "title": "Cà phê Buôn Ma Thuột",
        "updated_at": "2024-07-01T08:00:00+07:00",
        "variants": [{"sku": "CA-PHE-500G", "price": "165000"}],
    },
]


class MemShopSettings(ChannelSettings):
    """A shop name and its token."""

    shop: str
    access_token: SecretStr


class MemShopChannel(Channel):
    """Products, orders and locations from memory."""

    name = "memshop"
    title = "Memory shop"
    capabilities = frozenset(
        {Capability.READ_PRODUCTS, Capability.READ_ORDERS, Capability.READ_LOCATIONS}
    )
    settings_model = MemShopSettings

    @property
    def shop(self) -> str:
        assert isinstance(self.settings, MemShopSettings)
        return self.settings.shop

    async def check(self) -> ChannelInfo:
        assert isinstance(self.settings, MemShopSettings)
        token = self.settings.access_token.get_secret_value()
        if self.shop == "slow":
            await asyncio.sleep(30)
        if self.shop == "buggy":
            raise RuntimeError(f"boom while using {token}")
        if token != GOOD_TOKEN:
            raise AuthError(f"token {token} refused", channel=self.name, account=self.account)
        return ChannelInfo(
            name=f"Cửa hàng {self.shop}",
            currency="VND",
            timezone="Asia/Ho_Chi_Minh",
            details={"plan": "basic"},
        )

    def parse_product(self, raw: dict[str, Any]) -> Product:
        return Product(
            title=raw["title"],
            variants=[
                Variant(
                    sku=v["sku"], price=Money.of(v["price"], "VND"), options=v.get("options", {})
                )
                for v in raw["variants"]
            ],
            updated_at=datetime.fromisoformat(raw["updated_at"]),
            channel_ref=self.ref(raw["id"]),
            raw=raw,
        )

    async def fetch_products(
        self, *, updated_since: datetime | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        source = RAW_PRODUCTS
        if self.shop == "endless":
            source = ({**RAW_PRODUCTS[0], "id": f"p{n}"} for n in itertools.count())  # type: ignore[assignment]
        for index, raw in enumerate(source):
            if self.shop == "flaky" and index == 2:
                raise PlatformUnavailable("connection dropped", channel=self.name)
            if updated_since and datetime.fromisoformat(raw["updated_at"]) < updated_since:
                continue
            yield raw
            await asyncio.sleep(0)

    async def stream_orders(self, *, updated_since: datetime | None = None) -> AsyncIterator[Order]:
        moment = datetime(2024, 7, 2, 9, 30, tzinfo=UTC)
        price = Money.of(129000, "VND")
        yield Order(
            channel_ref=self.ref("o-1001"),
            number="#1001",
            status=OrderStatus.CONFIRMED,
            currency="VND",
            lines=[OrderLine(sku="AO-THUN-M", quantity=2, unit_price=price)],
            subtotal=price * 2,
            total=price * 2,
            created_at=moment,
            updated_at=moment,
        )

    async def stream_locations(self) -> AsyncIterator[Location]:
        yield Location(
            code="hn-kho-1", name="Kho Hà Nội", pickup=True, channel_ref=self.ref("loc-1")
        )


class MemShopPlugin:
    """Contributes :class:`MemShopChannel`."""

    @hookimpl
    def omnisdk_register_channels(self, register: Callable[[type[Channel]], None]) -> None:
        register(MemShopChannel)


def memshop_plugins() -> Plugins:
    """A registry with only the memshop channel type."""
    plugins = Plugins(entry_points=False)
    plugins.register(MemShopPlugin(), name="memshop-plugin")
    return plugins


def memshop_config(*shops: tuple[str, str, str]) -> str:
    """An omnisdk.toml with one memshop entry per (name, shop, token)."""
    return "".join(
        f'[[channels]]\nname = "{name}"\ntype = "memshop"\n'
        f'[channels.settings]\nshop = "{shop}"\naccess_token = "{token}"\n\n'
        for name, shop, token in shops
    )
