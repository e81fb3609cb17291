"""Meta's own SDK (``facebook-business`` 26.0.3) against the sandbox over loopback.

It reaches the sandbox by setting ``FacebookSession.GRAPH`` to its base URL and nothing else:
``FacebookAdsApi.init`` takes the sandbox's ``client`` credentials by their own names. The SDK
reads a catalog across pages, sends an items batch the sandbox applies once its handle is
checked, and a wrong app secret (hence a wrong ``appsecret_proof``) is refused with Meta's
error body. The proof the channel computes is the SDK's, byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from facebook_business.adobjects.productcatalog import ProductCatalog
from facebook_business.api import FacebookAdsApi
from facebook_business.exceptions import FacebookRequestError
from facebook_business.session import FacebookSession
from omnisdk_facebook import appsecret_proof
from omnisdk_facebook.sandbox import FacebookSandbox

from omnisdk.testing.conformance import vietnamese_catalog
from omnisdk.testing.server import LoopbackServer


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FacebookSandbox, dict[str, Any]]]:
    """The sandbox on loopback with 7 items, and its ``client`` credentials; the SDK's
    ``GRAPH`` points at it for the test only."""
    sandbox = FacebookSandbox(seed=21)
    with sandbox.lock:
        from omnisdk.testing.sandbox import SeedProduct

        sandbox.seed_products(
            [SeedProduct.model_validate(s) for s in vietnamese_catalog(7, prefix="FB")]
        )
    with LoopbackServer(sandbox.app) as server:
        client = sandbox.client_credentials(server.base_url)
        monkeypatch.setattr(FacebookSession, "GRAPH", client["base_url"])
        yield sandbox, client
    sandbox.close()


def _init(client: dict[str, Any], **override: str) -> FacebookAdsApi:
    arguments = {name: client[name] for name in ("app_id", "app_secret", "access_token")}
    arguments.update(override)
    return FacebookAdsApi.init(**arguments, api_version=client["api_version"], crash_log=False)


def test_the_proof_is_the_sdks_own() -> None:
    for secret, token in [("fb_app_secret_123", "EAAGm0PX4ZCpsBAtestpagetoken"),
                          ("bí-mật-ứng-dụng", "EAAG" + "x" * 180)]:
        session = FacebookSession(app_id="1", app_secret=secret, access_token=token)
        assert appsecret_proof(secret, token) == session._gen_appsecret_proof()
    assert appsecret_proof("fb_app_secret_123", "EAAGm0PX4ZCpsBAtestpagetoken") == (
        "030737e2d144e883bd4bc54ba45b50f94835ac4f80953060afdf29840e7eaa4b"
    )


def test_the_sdk_reads_the_catalog_across_pages(
    served: tuple[FacebookSandbox, dict[str, Any]],
) -> None:
    sandbox, client = served
    api = _init(client)
    catalog = ProductCatalog(client["catalog_id"], api=api)
    node = catalog.api_get(fields=["id", "name", "product_count"])
    assert node["product_count"] == 7 and node["name"] == sandbox.catalog.name
    items = catalog.get_products(fields=["retailer_id", "name", "price", "currency"],
                                 params={"limit": 3})
    seen = [item["retailer_id"] for item in items]  # the Cursor loads pages 2 and 3 itself
    assert sorted(seen) == sorted(sandbox.catalog.items)
    assert len(seen) == len(set(seen)) == 7
    pages = [r for r in sandbox.requests if r.path.endswith("/products")]
    assert len(pages) == 3, [r.path for r in pages]
    first = sandbox.catalog.items["FB-0000"]
    assert first.name == "Áo dài lụa tơ tằm"


# The SDK types ``requests`` as a map and warns about the list Meta's own docs send.
@pytest.mark.filterwarnings("ignore:value of requests might not be compatible:UserWarning")
def test_the_sdk_sends_an_items_batch_the_sandbox_applies(
    served: tuple[FacebookSandbox, dict[str, Any]],
) -> None:
    sandbox, client = served
    api = _init(client)
    catalog = ProductCatalog(client["catalog_id"], api=api)
    requests = [
        {"method": "UPDATE", "data": {"id": "FB-0003", "quantity_to_sell_on_facebook": 42,
                                      "price": "150000 VND", "availability": "in stock"}},
        {"method": "UPDATE", "data": {"id": "FB-0004", "price": "150000.5 VND"}},  # refused
        {"method": "CREATE", "data": {
            "id": "NON-LA-HUE", "title": "Nón lá Huế", "description": "Nón lá bài thơ",
            "price": "85000 VND", "availability": "in stock", "condition": "new",
            "link": "https://shop.example.vn/p/non-la", "image_link": "https://shop.example.vn/i/nl.jpg",
        }},
    ]
    answer = catalog.create_items_batch(params={
        "item_type": "PRODUCT_ITEM", "allow_upsert": False, "requests": requests,
    })
    [handle] = answer["handles"]
    [refused] = answer["validation_status"]
    assert refused["retailer_id"] == "FB-0004"
    statuses = []
    for _ in range(3):
        [status] = catalog.get_check_batch_request_status(params={"handle": handle})
        statuses.append(status["status"])
    assert statuses == ["in_progress", "finished", "finished"]
    assert status["errors_total_count"] == 0
    assert sandbox.listing("FB-0003")["stock"] == 42
    assert sandbox.listing("FB-0003")["price"] == "150000"
    assert sandbox.listing("NON-LA-HUE")["price"] == "85000"
    assert sandbox.catalog.items["FB-0004"].price != 150000


def test_a_wrong_app_secret_proof_is_refused_with_metas_error(
    served: tuple[FacebookSandbox, dict[str, Any]],
) -> None:
    _sandbox, client = served
    api = _init(client, app_secret="sai-" + client["app_secret"][4:])
    with pytest.raises(FacebookRequestError) as refused:
        ProductCatalog(client["catalog_id"], api=api).api_get(fields=["id", "name"])
    error = refused.value
    assert error.http_status() == 400
    assert error.api_error_code() == 100
    assert error.api_error_type() == "GraphMethodException"
    assert "appsecret_proof" in error.api_error_message()
    body = json.loads(error.body()) if isinstance(error.body(), str) else error.body()
    assert body["error"]["fbtrace_id"]


def test_the_removed_order_endpoints_answer_metas_error(
    served: tuple[FacebookSandbox, dict[str, Any]],
) -> None:
    from facebook_business.api import FacebookRequest

    sandbox, client = served
    api = _init(client)
    with pytest.raises(FacebookRequestError) as refused:
        FacebookRequest(node_id=sandbox.page_id, method="GET", endpoint="/commerce_orders",
                        api=api).execute()
    assert refused.value.api_error_code() == 12
    assert "removed" in refused.value.api_error_message()
