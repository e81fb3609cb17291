"""Shared data and helpers of the engine command tests (fixtures live in conftest.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omnisdk_example.sandbox import ExampleSandbox
from typer.testing import Result

from omnisdk.testing import LoopbackServer, SeedProduct

CATALOG = [
    SeedProduct(
        sku="AO-THUN-DO-M",
        title="Áo thun cổ tròn - Đỏ / M",
        product="Áo thun cổ tròn",
        options={"Màu": "Đỏ", "Size": "M"},
        price=129000,
        stock=20,
    ),
    SeedProduct(sku="NON-LA-HUE", title="Nón lá Huế", price=85000, stock=12),
    SeedProduct(sku="TRANH-SON-MAI", title="Tranh sơn mài Hội An", price=2400000, stock=2),
]

Invoke = Callable[..., Result]


@dataclass
class Shop:
    """One Example account: its sandbox, served on loopback."""

    account: str
    sandbox: ExampleSandbox
    server: LoopbackServer

    def order(self, sku: str, quantity: int = 1, **customer: str) -> str:
        from omnisdk.testing import BuyerLine, BuyerOrder

        with self.sandbox.lock:
            return self.sandbox.place_order(
                BuyerOrder(lines=[BuyerLine(sku=sku, quantity=quantity)], customer=customer or None)
            )

    def listed(self, sku: str) -> int:
        return int(self.sandbox.listing(sku)["stock"])


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every non-empty line of ``text`` as JSON."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def config_text(shops: list[Shop], store: Path) -> str:
    """An omnisdk.toml for ``shops`` with its SQLite store at ``store``."""
    lines = [f"[store]\nurl = {json.dumps(f'sqlite:///{store}')}\n"]
    for shop in shops:
        settings = shop.sandbox.channel_settings(shop.server.base_url)
        lines.append(f'[[channels]]\nname = {json.dumps(shop.account)}\ntype = "example"')
        lines.append("[channels.settings]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
        lines.append("")
    return "\n".join(lines)
