"""ShopifyClient.download_batches: a bulk result file streamed in chunks, resumed after a
broken transfer without losing or repeating a line."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx

from omnisdk.http import HttpClient
from omnisdk_shopify.client import ShopifyClient

LINES = [
    {"id": f"gid://shopify/Order/{i}", "title": "Nón lá\u2028Huế" * (i % 3)} for i in range(40)
]
BODY = b"".join(json.dumps(line, ensure_ascii=False).encode() + b"\n" for line in LINES)


class _Body(httpx.AsyncByteStream):
    """The file in ``size``-byte chunks (lines cut anywhere), broken at ``breaks_at``."""

    def __init__(self, size: int, breaks_at: int | None) -> None:
        self.size = size
        self.breaks_at = breaks_at

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for start in range(0, len(BODY), self.size):
            if self.breaks_at is not None and start >= self.breaks_at:
                raise httpx.ReadError("connection reset mid-file")
            yield BODY[start : start + self.size]


async def _no_sleep(_: float) -> None:
    return None


async def _token() -> str:
    return "shpat_test"


async def test_a_broken_transfer_resumes_after_the_last_line() -> None:
    opened: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        opened.append(1)
        if len(opened) == 1:  # broken mid-line; the second transfer is cut differently
            return httpx.Response(200, stream=_Body(13, len(BODY) // 2 + 5))
        return httpx.Response(200, stream=_Body(len(BODY), None))  # in one chunk

    transport = httpx.MockTransport(handler)
    http = HttpClient(
        base_url="http://127.0.0.1", channel="shopify", account="t", transport=transport
    )
    client = ShopifyClient(
        http, api_version="2026-10", token=_token, transport=transport, sleep=_no_sleep
    )
    try:
        batches = [
            batch async for batch in client.download_batches("http://127.0.0.1/bulk/1.jsonl")
        ]
    finally:
        await client.aclose()
        await http.aclose()
    assert [line for batch in batches for line in batch] == LINES  # each line once, in order
    assert len(opened) == 2
    assert len(batches) > 2  # a chunk's lines at a time
