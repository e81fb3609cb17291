"""The KiotViet sandbox behaves like KiotViet, and the channel copes: tokens on the sandbox
clock, the ``Retailer`` check, the hourly GET budget, paging, tolerant input, webhook
subscriptions that KiotViet switches off."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio
from omnisdk_pos import PosChannel
from omnisdk_pos.errors import error_mapper
from omnisdk_pos.sandbox import KiotVietSandbox
from omnisdk_pos.webhooks import parse_envelope

from omnisdk.channel import WebhookRequest
from omnisdk.errors import AuthError, RateLimited, ReauthorisationRequired
from omnisdk.testing.clock import SandboxClock
from omnisdk.testing.control import IN_PROCESS_URL
from omnisdk.testing.registration import unthrottled
from omnisdk.testing.sandbox import SeedProduct

START = datetime(2024, 11, 11, 1, 0, tzinfo=UTC)  # 08:00 in Hồ Chí Minh City


@pytest.fixture
def sandbox() -> Iterator[KiotVietSandbox]:
    """A frozen-clock sandbox with 25 products."""
    box = KiotVietSandbox(seed=2, clock=SandboxClock(START, frozen=True), get_budget=40)
    with box.lock:
        box.seed_products(
            [
                SeedProduct(
                    sku=f"BANH-PIA-{i:02d}",
                    title=f"Bánh pía sầu riêng {i}",
                    price=45000 + i * 1000,
                    stock=i,
                )
                for i in range(25)
            ]
        )
    yield box
    box.close()


@pytest_asyncio.fixture
async def http(sandbox: KiotVietSandbox) -> AsyncIterator[httpx.AsyncClient]:
    """A raw client of the sandbox (what an independent KiotViet client sends)."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app), base_url=IN_PROCESS_URL
    ) as client:
        yield client


def channel_of(sandbox: KiotVietSandbox, **settings: Any) -> PosChannel:
    """A channel on the sandbox's clock, in-process, unthrottled."""
    channel = PosChannel(
        {**sandbox.channel_settings(IN_PROCESS_URL), **settings},
        account="cua-hang",
        transport=httpx.ASGITransport(app=sandbox.app),
        clock=sandbox.clock.now,
    )
    unthrottled(channel)
    return channel


async def token(http: httpx.AsyncClient, sandbox: KiotVietSandbox, **form: str) -> httpx.Response:
    """``POST /connect/token`` with the sandbox's credentials (``form`` overrides)."""
    body = {
        "scopes": "PublicApi.Access",
        "grant_type": "client_credentials",
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        **form,
    }
    return await http.post("/connect/token", data=body)


async def test_the_token_lives_24_hours_on_the_sandbox_clock(
    sandbox: KiotVietSandbox, http: httpx.AsyncClient
) -> None:
    """``expires_in`` 86400; the token works until then and is refused after."""
    answer = await token(http, sandbox)
    assert answer.status_code == 200
    body = answer.json()
    assert (body["expires_in"], body["token_type"]) == (86400, "Bearer")
    assert body["access_token"].count(".") == 2  # a JWT
    headers = {"Authorization": f"Bearer {body['access_token']}", "Retailer": sandbox.retailer}
    assert (await http.get("/branches", headers=headers)).status_code == 200
    sandbox.clock.advance(86_399)
    assert (await http.get("/branches", headers=headers)).status_code == 200
    sandbox.clock.advance(2)
    refused = await http.get("/branches", headers=headers)
    assert refused.status_code == 401
    assert refused.json()["responseStatus"]["errorCode"] == "Unauthorized"


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"client_secret": "sai-mat-khau"}, "invalid_client"),
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"scopes": "Other.Scope"}, "invalid_scope"),
    ],
)
async def test_the_identity_server_refuses_like_identityserver(
    sandbox: KiotVietSandbox, http: httpx.AsyncClient, form: dict[str, str], error: str
) -> None:
    """400 ``{"error": ...}``; ``scope`` (OAuth's spelling) works as well as ``scopes``."""
    answer = await token(http, sandbox, **form)
    assert (answer.status_code, answer.json()) == (400, {"error": error})
    spelled = await http.post(
        "/connect/token",
        data={
            "scope": "PublicApi.Access",
            "grant_type": "client_credentials",
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
        },
    )
    assert spelled.status_code == 200


async def test_the_channel_renews_its_token_before_it_expires(sandbox: KiotVietSandbox) -> None:
    """One grant; past half its life (12 h) a new one before the next call; never a 401."""
    async with channel_of(sandbox) as channel:
        await channel.check()
        first = await channel.current_access_token()
        sandbox.clock.advance(11 * 3600)
        assert await channel.current_access_token() == first
        sandbox.clock.advance(2 * 3600)
        await channel.check()
        second = await channel.current_access_token()
        assert second != first
        assert channel.token_keeper.refreshes == 1
        statuses = [r.status for r in sandbox.requests]
        assert 401 not in statuses


async def test_a_revoked_token_is_renewed_once_and_the_call_repeated(
    sandbox: KiotVietSandbox,
) -> None:
    """The platform refuses the token early (401): one new grant, the call succeeds."""
    async with channel_of(sandbox) as channel:
        await channel.check()
        sandbox.expire_tokens()
        info = await channel.check()
        assert info.details["branches"] == "cn01, cn02"
        assert [r.status for r in sandbox.requests if r.path == "/branches"] == [200, 401, 200]


async def test_wrong_client_credentials_need_a_person(sandbox: KiotVietSandbox) -> None:
    """``invalid_client``: ReauthorisationRequired, reported once, and no secret in it."""
    async with channel_of(sandbox, client_secret="khong-dung-secret") as channel:
        with pytest.raises(ReauthorisationRequired) as lost:
            await channel.check()
        assert "khong-dung-secret" not in str(lost.value)
        with pytest.raises(ReauthorisationRequired, match="stopped"):
            await channel.check()


async def test_a_wrong_retailer_is_refused(sandbox: KiotVietSandbox) -> None:
    """A token is the retailer's: another ``Retailer`` header is a 401."""
    async with channel_of(sandbox, retailer="cuahangkhac") as channel:
        with pytest.raises(AuthError, match="Retailer"):
            await channel.check()


async def test_the_hourly_get_budget_answers_429_with_retry_after(
    sandbox: KiotVietSandbox, http: httpx.AsyncClient
) -> None:
    """40 GETs an hour here: the 41st is 429 with ``Retry-After``; an hour on, it works."""
    access = (await token(http, sandbox)).json()["access_token"]
    headers = {"Authorization": f"Bearer {access}", "Retailer": sandbox.retailer}
    for _ in range(40):
        assert (await http.get("/branches", headers=headers)).status_code == 200
    over = await http.get("/branches", headers=headers)
    assert over.status_code == 429
    assert over.json()["responseStatus"]["errorCode"] == "TooManyRequests"
    assert int(over.headers["Retry-After"]) == 3600
    sandbox.clock.advance(3601)
    assert (await http.get("/branches", headers=headers)).status_code == 200
    mapped = error_mapper(over)
    assert isinstance(mapped, RateLimited) and mapped.retry_after == 3600


async def test_paging_tolerance_and_dates(
    sandbox: KiotVietSandbox, http: httpx.AsyncClient
) -> None:
    """``pageSize``/``currentItem``; case-insensitive paths and keys; arrays three ways;
    REST dates in local time without an offset, ``timestamp`` with one."""
    access = (await token(http, sandbox)).json()["access_token"]
    headers = {"Authorization": f"Bearer {access}", "Retailer": sandbox.retailer}
    page = (
        await http.get("/Products", params={"PageSize": 10, "currentItem": 20}, headers=headers)
    ).json()
    assert (page["total"], page["pageSize"], len(page["data"])) == (25, 10, 5)
    assert page["timestamp"].endswith("+07:00")
    created = page["data"][0]["createdDate"]
    assert created.startswith("2024-11-11T08:00:00.") and len(created) == 27  # 7 digits
    assert (
        await http.get("/products", params={"pageSize": 101}, headers=headers)
    ).status_code == 400
    for query in ("branchIds=20002", "branchIds=20002,20003", "branchIds[]=20002"):
        rows = (await http.get(f"/products?includeInventory=true&{query}", headers=headers)).json()[
            "data"
        ]
        assert {i["branchId"] for r in rows for i in r["inventories"]} == {20002}
    product = (await http.get("/products/code/BANH-PIA-03", headers=headers)).json()
    form = await http.put(
        f"/products/{product['id']}",
        content=b'{"BasePrice": 52000, "Inventories": [{"BranchId": 20002, "OnHand": 7}]}',
        headers={**headers, "Content-Type": "application/json"},
    )
    assert form.status_code == 200
    after = (await http.get("/PRODUCTS/code/BANH-PIA-03", headers=headers)).json()
    assert after["basePrice"] == 52000
    assert [i["onHand"] for i in after["inventories"]] == [3, 7]


async def test_a_subscriber_answering_404_is_switched_off(sandbox: KiotVietSandbox) -> None:
    """KiotViet stops sending to a URL that answers 400/401/403/404/405."""

    def gone(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404)

    async with channel_of(sandbox) as channel:
        await channel.register_webhooks("http://receiver.test/kiotviet")
        subscribed = {s.type for s in sandbox.subscriptions.values() if s.active}
        assert "invoice.update" in subscribed
        sandbox.webhook_transport = httpx.MockTransport(gone)
        sandbox.counter_sale({"BANH-PIA-05": 1})
        await sandbox.drain_webhooks()
        assert not any(
            s.active
            for s in sandbox.subscriptions.values()
            if s.url == "http://receiver.test/kiotviet"
        )
        await channel.register_webhooks("http://receiver.test/kiotviet")
        assert len(sandbox.subscriptions) == len(subscribed)  # one per type, replaced


async def test_catalog_and_customer_writes(
    sandbox: KiotVietSandbox, http: httpx.AsyncClient
) -> None:
    """Categories (3 levels, a tree with ``hierachicalData``), products one by one and in a
    list (a variant and a unit are products), deletes listed as ``removeId``, customers
    added and updated in lists (``/listaddcutomers``, sic)."""
    access = (await token(http, sandbox)).json()["access_token"]
    headers = {"Authorization": f"Bearer {access}", "Retailer": sandbox.retailer}
    parent = (
        await http.post("/categories", json={"categoryName": "Bánh kẹo"}, headers=headers)
    ).json()["data"]
    child = (
        await http.post(
            "/categories",
            json={"categoryName": "Bánh pía", "parentId": parent["categoryId"]},
            headers=headers,
        )
    ).json()["data"]
    grandchild = await http.post(
        "/categories",
        json={"categoryName": "Sầu riêng", "parentId": child["categoryId"]},
        headers=headers,
    )
    assert grandchild.status_code == 200
    too_deep = await http.post(
        "/categories",
        json={"categoryName": "Quá sâu", "parentId": grandchild.json()["data"]["categoryId"]},
        headers=headers,
    )
    assert too_deep.status_code == 400
    tree = (await http.get("/categories?hierachicalData=true", headers=headers)).json()["data"]
    [cakes] = [node for node in tree if node["categoryName"] == "Bánh kẹo"]
    assert cakes["children"][0]["children"][0]["categoryName"] == "Sầu riêng"
    master = (
        await http.post(
            "/products",
            json={
                "code": "TRA-SEN",
                "name": "Trà sen Tây Hồ",
                "basePrice": 120000,
                "categoryId": child["categoryId"],
                "attributes": [{"attributeName": "TRỌNG LƯỢNG", "attributeValue": "100g"}],
                "inventories": [{"branchId": 20002, "onHand": 6}],
            },
            headers=headers,
        )
    ).json()
    added = (
        await http.post(
            "/listaddproducts",
            json={
                "listProducts": [
                    {
                        "code": "TRA-SEN-200",
                        "name": "Trà sen Tây Hồ",
                        "basePrice": 230000,
                        "masterProductId": master["id"],
                        "attributes": [{"attributeName": "TRỌNG LƯỢNG", "attributeValue": "200g"}],
                    },
                    {
                        "code": "TRA-SEN-HOP",
                        "name": "Trà sen Tây Hồ",
                        "basePrice": 1150000,
                        "masterUnitId": master["id"],
                        "conversionValue": 10,
                        "unit": "Hộp",
                    },
                ]
            },
            headers=headers,
        )
    ).json()["data"]
    assert [p["code"] for p in added] == ["TRA-SEN-200", "TRA-SEN-HOP"]
    assert added[1]["inventories"][1]["onHand"] == 0  # 6 packs are not a box of 10
    duplicate = await http.post("/products", json={"code": "TRA-SEN", "name": "x"}, headers=headers)
    assert duplicate.status_code == 400
    async with channel_of(sandbox) as channel:
        products = [p async for p in channel.stream_products()]
        tea = next(p for p in products if "TRA-SEN" in p.skus)
        assert tea.skus == ["TRA-SEN", "TRA-SEN-200", "TRA-SEN-HOP"]
        assert tea.product_type == "Bánh pía"
    gone = await http.delete(f"/products/{added[0]['id']}", headers=headers)
    assert gone.json() == {"message": "Xóa dữ liệu thành công"}
    listed = (await http.get("/products?includeRemoveIds=true&pageSize=1", headers=headers)).json()
    assert listed["removeId"] == [added[0]["id"]]
    made = (
        await http.post(
            "/listaddcutomers",
            json={
                "listCustomers": [
                    {"name": "Lê Văn Cường", "contactNumber": "0903111222"},
                    {"name": "Phạm Thị Dung", "contactNumber": "0903111333"},
                ]
            },
            headers=headers,
        )
    ).json()["data"]
    clash = await http.post(
        "/listaddcutomers",
        json={"listCustomers": [{"name": "Ai đó", "contactNumber": "0903111222"}]},
        headers=headers,
    )
    assert clash.status_code == 400
    changed = await http.put(
        "/listupdatecustomers",
        json={
            "listCustomers": [
                {"id": made[0]["id"], "address": "7 Trần Phú", "wardName": "Phường 4"}
            ]
        },
        headers=headers,
    )
    assert changed.json()["data"][0]["wardName"] == "Phường 4"
    await http.delete(f"/customers/{made[1]['id']}", headers=headers)
    customers = (await http.get("/customers?includeRemoveIds=true", headers=headers)).json()
    assert [c["name"] for c in customers["data"]] == ["Lê Văn Cường"]
    assert customers["removeId"] == [made[1]["id"]]


async def test_a_retry_carries_a_rising_attempt_signed_again(sandbox: KiotVietSandbox) -> None:
    """After a 503 the same delivery (same ``Id``) comes with ``"Attempt": 2``, signed for
    its new bytes; a 404 is not retried."""
    seen: list[WebhookRequest] = []
    answers = iter([503, 200])

    def receiver(request: httpx.Request) -> httpx.Response:
        seen.append(WebhookRequest(body=request.content, headers=dict(request.headers)))
        return httpx.Response(next(answers, 200))

    sandbox.webhook_transport = httpx.MockTransport(receiver)
    sandbox.webhook_url = "http://receiver.test/kiotviet"
    sandbox.notify("customer.update", [{"id": 1, "name": "Võ Thị Sáu"}])
    await sandbox.drain_webhooks()
    first, second = (parse_envelope(r.body) for r in seen)
    assert (first.id, first.attempt) == (second.id, 1)
    assert second.attempt == 2
    async with channel_of(sandbox) as channel:
        for request in seen:
            assert channel.receive_webhook(request)
    sandbox.webhook_transport = httpx.MockTransport(lambda request: httpx.Response(404))
    sandbox.notify("customer.update", [{"id": 2, "name": "Võ Thị Sáu"}])
    await sandbox.drain_webhooks()
    assert [e["status"] for e in sandbox.webhook_log] == [503, 200, 404]


async def test_documents_move_stock_like_kiotviet(
    sandbox: KiotVietSandbox, http: httpx.AsyncClient
) -> None:
    """An order reserves, ``makeInvoice`` sells it (reservation released, onHand down), a
    sale beyond the shelf is a 400 (``AllowSellWhenOutStock`` is off), a cancelled invoice
    (id in the body, as the doc shows) puts the stock back; bodies may be form-encoded."""
    access = (await token(http, sandbox)).json()["access_token"]
    headers = {"Authorization": f"Bearer {access}", "Retailer": sandbox.retailer}

    async def stock() -> tuple[int, int]:
        body = (await http.get("/products/code/BANH-PIA-09", headers=headers)).json()
        row = body["inventories"][0]
        return int(row["onHand"]), int(row["reserved"])

    product = (await http.get("/products/code/BANH-PIA-09", headers=headers)).json()
    line = {"productId": product["id"], "quantity": 3, "price": 54000}
    order = (
        await http.post(
            "/orders", json={"branchId": 20001, "orderDetails": [line]}, headers=headers
        )
    ).json()
    assert (order["code"][:2], order["status"], await stock()) == ("DH", 1, (9, 3))
    sold = (
        await http.post(
            "/orders",
            json={"branchId": 20001, "makeInvoice": True, "OrderDetails": [line]},
            headers=headers,
        )
    ).json()
    assert sold["code"].startswith("DH") and await stock() == (6, 3)
    too_many = await http.post(
        "/invoices",
        json={"branchId": 20001, "invoiceDetails": [{**line, "quantity": 4}]},
        headers=headers,
    )
    assert too_many.status_code == 400
    assert "tồn kho" in too_many.json()["responseStatus"]["message"]
    invoice = (
        await http.post(
            "/invoices", json={"branchId": 20001, "orderId": order["id"]}, headers=headers
        )
    ).json()
    assert (invoice["orderCode"], await stock()) == (order["code"], (3, 0))
    cancelled = await http.request(
        "DELETE", "/invoices", json={"id": invoice["id"]}, headers=headers
    )
    assert cancelled.json()["status"] == 2 and await stock() == (6, 0)
    form = await http.post(
        "/customers", data={"name": "Hồ Văn Em", "contactNumber": "0935123456"}, headers=headers
    )
    assert form.json()["data"]["contactNumber"] == "0935123456"
