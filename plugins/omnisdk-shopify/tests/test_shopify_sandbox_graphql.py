"""The sandbox's GraphQL Admin API: real schema validation, search, paging, cost, bulk."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from graphql import get_operation_ast, parse

from omnisdk.testing.control import IN_PROCESS_URL, SandboxControl
from omnisdk_shopify import queries
from omnisdk_shopify.sandbox.api.graphql.cost import requested_cost
from omnisdk_shopify.sandbox.api.graphql.schema import admin_schema
from omnisdk_shopify.sandbox.api.graphql.search import parse_search
from omnisdk_shopify.sandbox.app import ShopifySandbox


class _Api:
    """A tiny GraphQL caller for the tests."""

    def __init__(self, client: httpx.AsyncClient, token: str, version: str = "2026-10"):
        self.client, self.token, self.version = client, token, version

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, **headers: str
    ) -> dict[str, Any]:
        response = await self.client.post(
            f"/admin/api/{self.version}/graphql.json",
            json={"query": query, "variables": variables or {}},
            headers={"X-Shopify-Access-Token": self.token, **headers},
        )
        body: dict[str, Any] = response.json()
        return body


@pytest_asyncio.fixture
async def api(sandbox: ShopifySandbox, control: SandboxControl) -> AsyncIterator[_Api]:
    """GraphQL calls to a sandbox holding 7 products (one with two variants) and 3 orders."""
    seeds: list[dict[str, Any]] = [
        {
            "sku": f"NL-{i}",
            "title": f"Nón lá {i}",
            "price": str(40_000 + i),
            "currency": "VND",
            "stock": 10,
        }
        for i in range(6)
    ]
    seeds += [
        {
            "sku": f"AD-{s}",
            "title": "Áo dài",
            "product": "Áo dài lụa",
            "options": {"Size": s},
            "price": "900000",
            "currency": "VND",
            "stock": 3,
        }
        for s in "SM"
    ]
    await control.seed(seeds)
    for sku in ("NL-0", "NL-1", "AD-S"):
        await control.place_order([(sku, 1)])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app), base_url=IN_PROCESS_URL
    ) as client:
        yield _Api(client, sandbox.access_token)


async def test_unknown_fields_fail_validation_like_shopify(api: _Api) -> None:
    """A field the Admin API does not have is a top-level error, no data."""
    body = await api("{ shop { name favouriteColour } }")
    assert "data" not in body
    assert "Cannot query field 'favouriteColour' on type 'Shop'" in body["errors"][0]["message"]
    syntax = await api("{ shop { name ")
    assert "Syntax Error" in syntax["errors"][0]["message"]


async def test_lists_need_first_or_last(api: _Api) -> None:
    """Unbounded lists are refused outside bulk operations."""
    body = await api("{ products { nodes { id } } }")
    assert "first or last" in body["errors"][0]["message"]


async def test_cursor_pages_stay_put_when_objects_are_added(
    api: _Api, control: SandboxControl
) -> None:
    """Keyset cursors: a product created mid-way neither repeats nor shifts a page."""
    query = (
        "query P($after: String) { products(first: 3, after: $after, sortKey: ID) "
        "{ nodes { title } pageInfo { hasNextPage endCursor } } }"
    )
    first = (await api(query))["data"]["products"]
    await control.seed(
        [{"sku": "NEW-1", "title": "Mới", "price": "1000", "currency": "VND", "stock": 1}]
    )
    titles = [n["title"] for n in first["nodes"]]
    after = first["pageInfo"]["endCursor"]
    while True:
        page = (await api(query, {"after": after}))["data"]["products"]
        titles += [n["title"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(titles) == len(set(titles)) == 8
    assert titles[-1] == "Mới"


async def test_search_syntax_filters(api: _Api) -> None:
    """``sku:``, quoted values, OR, negation, dates; unknown fields are warned about."""
    body = await api(
        '{ productVariants(first: 10, query: "sku:\\"NL-1\\" OR sku:AD-*") { nodes { sku } } }'
    )
    assert sorted(n["sku"] for n in body["data"]["productVariants"]["nodes"]) == [
        "AD-M",
        "AD-S",
        "NL-1",
    ]
    body = await api(
        "{ orders(first: 10, query: \"updated_at:>='2000-01-01T00:00:00Z' "
        'AND -sku:NL-0") { nodes { name } } }'
    )
    assert len(body["data"]["orders"]["nodes"]) == 2
    body = await api('{ products(first: 10, query: "colour:red") { nodes { id } } }')
    assert body["extensions"]["search"][0]["field"] == "colour"
    assert len(body["data"]["products"]["nodes"]) == 7


def test_search_parser_handles_groups_and_negation() -> None:
    """Parentheses, NOT, comparison operators."""
    fields = {"sku": lambda o: o["sku"], "qty": lambda o: o["qty"]}
    search = parse_search("(sku:A OR sku:B) AND NOT qty:<3")
    rows = [{"sku": "A", "qty": 5}, {"sku": "B", "qty": 1}, {"sku": "C", "qty": 9}]
    assert [r["sku"] for r in rows if search.matches(r, fields, "sku")] == ["A"]


async def test_cost_is_reported_and_charged(api: _Api, sandbox: ShopifySandbox) -> None:
    """``extensions.cost`` carries requested, actual and the bucket, which goes down."""
    body = await api(queries.PRODUCTS, {"first": 5})
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] > cost["actualQueryCost"] > 0
    status = cost["throttleStatus"]
    assert status["maximumAvailable"] == 2000.0 and status["restoreRate"] == 100.0
    assert status["currentlyAvailable"] < 2000
    sandbox.cost_bucket().drain(2000)
    throttled = await api(queries.PRODUCTS, {"first": 5})
    assert throttled["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert throttled["extensions"]["cost"]["actualQueryCost"] is None


def test_the_channels_queries_stay_under_the_single_query_limit() -> None:
    """Every document the channel sends costs at most 1000 points at its page sizes."""
    schema = admin_schema()
    sizes = {
        "PRODUCTS": queries.PRODUCTS_PAGE,
        "ORDERS": queries.ORDERS_PAGE,
        "CUSTOMERS": queries.CUSTOMERS_PAGE,
        "STOCK_BY_SKU": queries.STOCK_PAGE,
        "VARIANTS_BY_SKU": queries.VARIANT_LOOKUP_PAGE,
    }
    for name in (
        "PRODUCTS",
        "PRODUCT_VARIANTS",
        "ORDERS",
        "ORDER",
        "ORDER_LINES",
        "CUSTOMERS",
        "STOCK_BY_SKU",
        "VARIANTS_BY_SKU",
        "SHOP",
        "WEBHOOK_LIST",
    ):
        document = parse(getattr(queries, name))
        operation = get_operation_ast(document)
        assert operation is not None
        cost = requested_cost(schema, document, operation, {"first": sizes.get(name, 0)})
        assert cost <= 1000, (name, cost)
    document = parse(queries.AVAILABLE_AT)
    operation = get_operation_ast(document)
    assert operation is not None
    ids = [f"gid://shopify/InventoryItem/{n}" for n in range(queries.AVAILABLE_PAGE)]
    variables = {"ids": ids, "location": "gid://shopify/Location/1"}
    assert 0 < requested_cost(schema, document, operation, variables) <= 1000


async def test_inventory_set_requires_an_idempotency_key_from_2026_04(api: _Api) -> None:
    """From 2026-04 ``@idempotent`` is required; before it is optional."""
    mutation = """mutation S($input: InventorySetQuantitiesInput!) {
      inventorySetQuantities(input: $input) { userErrors { code message } } }"""
    variant = (
        await api(
            '{ productVariants(first: 1, query: "sku:NL-3") { nodes { inventoryItem { id } } } }'
        )
    )["data"]["productVariants"]["nodes"][0]
    location = (await api("{ location { id } }"))["data"]["location"]["id"]
    payload = {
        "input": {
            "name": "available",
            "reason": "correction",
            "quantities": [
                {
                    "inventoryItemId": variant["inventoryItem"]["id"],
                    "locationId": location,
                    "quantity": 4,
                    "changeFromQuantity": None,
                }
            ],
        }
    }
    refused = await api(mutation, payload)
    assert (
        refused["data"]["inventorySetQuantities"]["userErrors"][0]["code"]
        == "IDEMPOTENCY_KEY_REQUIRED"
    )
    api.version = "2025-07"
    accepted = await api(mutation, payload)
    assert accepted["data"]["inventorySetQuantities"]["userErrors"] == []


async def _poll_to_end(api: _Api, operation_id: str) -> tuple[dict[str, Any], list[str]]:
    """Poll ``node(id:)`` until the operation is no longer running; the statuses seen."""
    seen: list[str] = []
    for _ in range(500):
        polled: dict[str, Any] = (await api(queries.BULK_POLL, {"id": operation_id}))["data"][
            "node"
        ]
        seen.append(polled["status"])
        if polled["status"] not in ("CREATED", "RUNNING", "CANCELING"):
            return polled, seen
        await asyncio.sleep(0.02)
    raise AssertionError(f"bulk operation {operation_id} never finished: {seen[-3:]}")


async def test_bulk_operation_results_group_children(api: _Api) -> None:
    """A bulk query: CREATED, then COMPLETED with a JSONL file, children after parents."""
    run = await api(queries.BULK_RUN, {"query": queries.BULK_PRODUCTS})
    operation = run["data"]["bulkOperationRunQuery"]["bulkOperation"]
    assert operation["status"] == "CREATED"
    polled, _ = await _poll_to_end(api, operation["id"])
    assert polled["status"] == "COMPLETED" and polled["objectCount"] == "15"
    file = await api.client.get(polled["url"])
    lines = [json.loads(line) for line in file.text.splitlines()]
    parents = [line for line in lines if "__parentId" not in line]
    assert len(parents) == 7
    for index, line in enumerate(lines):
        if "__parentId" in line:
            owner = next(p for p in reversed(lines[:index]) if "__parentId" not in p)
            assert owner["id"] == line["__parentId"]
    forged = await api.client.get(polled["url"].replace("signature=", "signature=x"))
    assert forged.status_code == 403


CURRENT = """
{ currentBulkOperation { id status objectCount rootObjectCount fileSize url createdAt
                         completedAt } }
"""


async def test_bulk_operation_runs_in_the_background_like_shopify(
    api: _Api, sandbox: ShopifySandbox
) -> None:
    """The mutation answers at once; the operation is RUNNING meanwhile (a second one is
    refused with OPERATION_IN_PROGRESS), then COMPLETED with its counts and a file on disk
    that is streamed to the client."""
    sandbox.bulk.duration = 0.5
    run = await api(queries.BULK_RUN, {"query": queries.BULK_PRODUCTS})
    operation = run["data"]["bulkOperationRunQuery"]["bulkOperation"]
    assert operation["status"] == "CREATED"
    await asyncio.sleep(0.1)
    current = (await api(CURRENT))["data"]["currentBulkOperation"]
    assert current["id"] == operation["id"] and current["status"] == "RUNNING"
    assert current["url"] is None and current["completedAt"] is None
    second = (await api(queries.BULK_RUN, {"query": queries.BULK_PRODUCTS}))["data"]
    assert second["bulkOperationRunQuery"]["bulkOperation"] is None
    refusal = second["bulkOperationRunQuery"]["userErrors"][0]
    assert refusal["code"] == "OPERATION_IN_PROGRESS"
    assert "already in progress" in refusal["message"] and operation["id"] in refusal["message"]
    polled, seen = await _poll_to_end(api, operation["id"])
    assert seen[0] == "RUNNING" and polled["status"] == "COMPLETED"
    done = (await api(CURRENT))["data"]["currentBulkOperation"]
    assert done["objectCount"] == "15" and done["rootObjectCount"] == "7"
    assert done["completedAt"] is not None
    stored = sandbox.bulk.get(int(operation["id"].rsplit("/", 1)[1]))
    assert stored is not None and stored.path is not None and stored.path.exists()
    async with api.client.stream("GET", polled["url"]) as response:
        streamed = b"".join([chunk async for chunk in response.aiter_bytes()])
    assert streamed == stored.path.read_bytes() and int(done["fileSize"]) == len(streamed)
    assert len(streamed.splitlines()) == 15
    assert [r.operation for r in sandbox.requests].count("bulk.start") == 1


async def test_bulk_operation_cancel_stops_it(api: _Api, sandbox: ShopifySandbox) -> None:
    """``bulkOperationCancel`` on a running operation: CANCELING, then CANCELED, no file."""
    sandbox.bulk.duration = 5.0
    run = await api(queries.BULK_RUN, {"query": queries.BULK_PRODUCTS})
    operation = run["data"]["bulkOperationRunQuery"]["bulkOperation"]
    cancel = await api(
        "mutation($id: ID!) { bulkOperationCancel(id: $id) { bulkOperation { status } } }",
        {"id": operation["id"]},
    )
    assert cancel["data"]["bulkOperationCancel"]["bulkOperation"]["status"] == "CANCELING"
    polled, _ = await _poll_to_end(api, operation["id"])
    assert polled["status"] == "CANCELED" and polled["url"] is None
    again = await api(queries.BULK_RUN, {"query": queries.BULK_PRODUCTS})
    assert again["data"]["bulkOperationRunQuery"]["userErrors"] == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("{ shop { name } }", "at least one connection"),
        (
            "{ products { edges { node { variants { edges { node { inventoryItem { inventoryLevels "
            "{ edges { node { id } } } } } } } } } } }",
            "nesting depth",
        ),
        ("{ products { edges { node { nope } } } }", "Cannot query field"),
    ],
)
async def test_invalid_bulk_queries_are_refused_at_submission(
    api: _Api, query: str, message: str
) -> None:
    """Shape and schema errors come back as ``userErrors``; nothing runs."""
    run = await api(queries.BULK_RUN, {"query": query})
    errors = run["data"]["bulkOperationRunQuery"]["userErrors"]
    assert message in errors[0]["message"]


async def test_rest_and_graphql_show_the_same_shop(api: _Api) -> None:
    """One state, two views: stock and prices agree between REST and GraphQL."""
    rest = await api.client.get(
        f"/admin/api/{api.version}/products.json", headers={"X-Shopify-Access-Token": api.token}
    )
    rest_variants = {
        v["sku"]: (v["price"], v["inventory_quantity"])
        for p in rest.json()["products"]
        for v in p["variants"]
    }
    body = await api("{ productVariants(first: 20) { nodes { sku price inventoryQuantity } } }")
    graph_variants = {
        n["sku"]: (n["price"], n["inventoryQuantity"])
        for n in body["data"]["productVariants"]["nodes"]
    }
    assert rest_variants == graph_variants
    assert graph_variants["NL-0"] == ("40000.00", 9)


@pytest.mark.parametrize("grouped", [True, False])
async def test_bulk_operation_reads_a_long_list_in_slices(
    sandbox: ShopifySandbox, control: SandboxControl, grouped: bool
) -> None:
    """More roots than one slice: every product and variant exactly once, in order; the
    ungrouped file holds every parent before any child."""
    await control.seed(
        [
            {
                "sku": f"KH-{i}",
                "title": "Khăn rằn",
                "product": f"Khăn rằn {i // 2}",
                "options": {"Màu": "Đỏ" if i % 2 else "Đen"},
                "price": "55000",
                "stock": 1,
            }
            for i in range(1204)
        ]
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app), base_url=IN_PROCESS_URL
    ) as client:
        api = _Api(client, sandbox.access_token)
        run = await api(
            "mutation($q: String!, $g: Boolean) { bulkOperationRunQuery(query: $q, "
            "groupObjects: $g) { bulkOperation { id } userErrors { message } } }",
            {"q": queries.BULK_PRODUCTS, "g": grouped},
        )
        operation = run["data"]["bulkOperationRunQuery"]["bulkOperation"]
        polled, _ = await _poll_to_end(api, operation["id"])
        lines = [json.loads(line) for line in (await client.get(polled["url"])).text.splitlines()]
    roots = [line["id"] for line in lines if "__parentId" not in line]
    children = [line["id"] for line in lines if "__parentId" in line]
    assert len(roots) == len(set(roots)) == 602 and len(children) == len(set(children)) == 1204
    assert polled["objectCount"] == str(602 + 1204)
    if not grouped:
        assert all("__parentId" not in line for line in lines[:602])


async def test_a_reset_stops_a_running_bulk_operation_at_once(
    api: _Api, sandbox: ShopifySandbox, control: SandboxControl
) -> None:
    """Resetting the shop while an export runs neither waits for it nor keeps it."""
    sandbox.bulk.duration = 30.0
    run = await api(queries.BULK_RUN, {"query": queries.BULK_PRODUCTS})
    assert run["data"]["bulkOperationRunQuery"]["userErrors"] == []
    await asyncio.sleep(0.05)
    started = asyncio.get_running_loop().time()
    await control.reset()
    assert asyncio.get_running_loop().time() - started < 2
    assert (await api(CURRENT))["data"]["currentBulkOperation"] is None
