"""``json_error_mapper``: the part of an error mapper every JSON platform shares."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx

from omnisdk.errors import BadRequest, ChannelError, PlatformUnavailable
from omnisdk.http import json_error_mapper

REQUEST = httpx.Request("GET", "https://banhang.example.vn/api/v2/product/get_item_list")


def answer(status: int, content: bytes) -> httpx.Response:
    return httpx.Response(status, content=content, request=REQUEST)


def test_the_body_is_read_only_when_it_is_json() -> None:
    seen: list[Any] = []

    def read(response: httpx.Response, body: Any) -> ChannelError | None:
        seen.append(body)
        return BadRequest(str(body["message"])) if body.get("error") else None

    mapper = json_error_mapper(
        "Sàn Việt", read, parse=lambda content: json.loads(content, parse_float=Decimal)
    )
    assert mapper(answer(200, b"")) is None
    assert mapper(answer(204, b"  \n")) is None
    assert mapper(answer(502, b"<html>Bad gateway</html>")) is None  # a proxy's page
    unreadable = mapper(answer(200, b"<html>b\xe1o tr\xec</html>"))
    assert isinstance(unreadable, PlatformUnavailable)
    assert str(unreadable).startswith("Sàn Việt answered with a body that is not JSON")
    assert unreadable.status == 200
    assert seen == []

    refused = mapper(answer(200, '{"error": "sai_gia", "message": "Giá 1.5 đ"}'.encode()))
    assert isinstance(refused, BadRequest) and str(refused).startswith("Giá 1.5 đ")
    assert mapper(answer(200, b'{"price": 150000.50}')) is None
    assert seen[-1] == {"price": Decimal("150000.50")}
