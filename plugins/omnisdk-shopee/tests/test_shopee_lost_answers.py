"""Calls whose answer is lost after Shopee acted (the kit's ``timeout_after_acting``).

The audit of every Shopee call that changes something:

- ``auth/token/get`` and ``auth/access_token/get`` spend a single-use code or refresh token:
  sent with ``retry=False``, never again after a lost answer (Shopee issued a pair the client
  never saw; only a fresh authorisation helps, and the channel says so, it does not guess);
- ``product/update_stock`` and ``product/update_price`` carry absolute values (no deltas):
  the HTTP layer may repeat them, the listing ends as asked, once;
- ``push/set_app_push_config`` sets the push URL and codes absolutely: repeatable;
- ``push/confirm_consumed_lost_push_message`` confirms up to a message id: repeatable.
"""

from __future__ import annotations

import pytest
from omnisdk_shopee import ShopeeChannel
from omnisdk_shopee.auth import REFRESH_PATH
from shopee_testkit import channel, frozen_sandbox, requests_to, seed

from omnisdk import Money, PlatformUnavailable, PriceUpdate, StockUpdate
from omnisdk.testing.faults import FaultKind, FaultSettings

UPDATE_STOCK = "/api/v2/product/update_stock"
UPDATE_PRICE = "/api/v2/product/update_price"
PUSH_CONFIG = "/api/v2/push/set_app_push_config"


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry back-off of milliseconds, so injected failures cost no real time."""
    monkeypatch.setattr(ShopeeChannel, "retry_backoff", 0.01)


def _lost(sandbox: object, path: str) -> int:
    requests = requests_to(sandbox, path)  # type: ignore[arg-type]
    return sum(1 for r in requests if r.fault is FaultKind.TIMEOUT_AFTER_ACTING)


async def test_a_stock_write_whose_answer_is_lost_lands_as_asked() -> None:
    """update_stock is absolute: repeated by the HTTP layer, the listing holds the value."""
    sandbox = frozen_sandbox()
    seed(sandbox)
    shop = channel(sandbox)
    await shop.check()
    sandbox.faults = FaultSettings(timeout_after_acting=1, only_paths=[UPDATE_STOCK])
    [result] = await shop.write_stock([StockUpdate(sku="NON-LA-HUE", quantity=3)])
    assert result.ok, result
    assert _lost(sandbox, UPDATE_STOCK) == 1 and len(requests_to(sandbox, UPDATE_STOCK)) == 2
    assert sandbox.listing("NON-LA-HUE")["stock"] == 3
    await shop.aclose()


async def test_a_price_write_whose_answer_is_lost_lands_as_asked() -> None:
    """update_price is absolute too."""
    sandbox = frozen_sandbox()
    seed(sandbox)
    shop = channel(sandbox)
    await shop.check()
    sandbox.faults = FaultSettings(timeout_after_acting=1, only_paths=[UPDATE_PRICE])
    [result] = await shop.write_prices(
        [PriceUpdate(sku="AO-DAI-DO", price=Money.of(599_000, "VND"))]
    )
    assert result.ok, result
    assert _lost(sandbox, UPDATE_PRICE) == 1
    assert Money.of(sandbox.listing("AO-DAI-DO")["price"], "VND") == Money.of(599_000, "VND")
    await shop.aclose()


async def test_a_push_config_whose_answer_is_lost_is_set_once() -> None:
    """set_app_push_config is absolute: repeated, the app's push ends as asked."""
    sandbox = frozen_sandbox()
    shop = channel(sandbox)
    sandbox.faults = FaultSettings(timeout_after_acting=1, only_paths=[PUSH_CONFIG])
    url = "https://omnisdk.example.vn/hooks/shopee"
    assert await shop.register_webhooks(url)
    assert _lost(sandbox, PUSH_CONFIG) == 1
    assert sandbox.push_config["callback_url"] == url
    await shop.aclose()


async def test_a_refresh_whose_answer_is_lost_is_never_sent_again() -> None:
    """The sandbox really rotates the pair, then the answer is lost: the spent refresh token
    is not sent a second time (Shopee would refuse it, and the error would hide the lost
    pair); the caller gets the transient failure."""
    sandbox = frozen_sandbox()
    seed(sandbox)
    shop = channel(sandbox)
    await shop.check()
    sandbox.expire_access_tokens()
    sandbox.faults = FaultSettings(timeout_after_acting=1, only_paths=[REFRESH_PATH])
    with pytest.raises(PlatformUnavailable):
        await shop.check()
    assert sandbox.grants.refreshes == 1
    assert len(requests_to(sandbox, REFRESH_PATH)) == 1
    await shop.aclose()
