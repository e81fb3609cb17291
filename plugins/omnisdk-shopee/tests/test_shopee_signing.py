"""Request and push signatures, byte for byte against the worked examples in shopee.md."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from omnisdk_shopee.auth import authorisation_url
from omnisdk_shopee.client import (
    SignatureKind,
    Signer,
    base_string,
    kind_for_path,
    push_signature,
    verify_push_signature,
)

PARTNER_ID = 2001887
PARTNER_KEY = "shpk_example_partner_key_0001"
TIMESTAMP = 1700000000
ACCESS_TOKEN = "6b5a46716e474d6f6e59777659459849"
SHOP_ID = 322300222

PUBLIC_VECTORS = [
    (
        "/api/v2/shop/auth_partner",
        "2001887/api/v2/shop/auth_partner1700000000",
        "3a275d4beb9195ab28b4e840bf56d694d4c81b43d2717274fed248a2ef53798c",
    ),
    (
        "/api/v2/auth/token/get",
        "2001887/api/v2/auth/token/get1700000000",
        "782772db57b6e2ef23a1b3c7976dde5713d7dd9725621aa6a1ed78d7eabaef22",
    ),
    (
        "/api/v2/auth/access_token/get",
        "2001887/api/v2/auth/access_token/get1700000000",
        "6eb1478bf3ec35a4c9182b1eb93b68ac68832f6c1b63bb1f89678adf81ca29ff",
    ),
]
SHOP_VECTORS = [
    (
        "/api/v2/product/get_item_list",
        "2001887/api/v2/product/get_item_list17000000006b5a46716e474d6f6e59777659459849322300222",
        "c9b7969d2136496c6b5c7bbbccd3f3ff8dea8a609ac1c80a1e3bf5e02e007465",
    ),
    (
        "/api/v2/order/get_order_list",
        "2001887/api/v2/order/get_order_list17000000006b5a46716e474d6f6e59777659459849322300222",
        "f1e259ec31ffa0518013de6226572f837038c5458e691286f3cd6f9e6ea96d47",
    ),
]
PUSH_URL = "https://example.com/shopee/push"
PUSH_BODY = (
    b'{"data":{"ordersn":"2311140ABCDEFG","status":"READY_TO_SHIP","completed_scenario":'
    b'"","items":[],"update_time":1700000000},"shop_id":322300222,"code":3,'
    b'"timestamp":1700000001}'
)
PUSH_SIGNATURE = "d421e2d47945a6f20c837d1158a67416690a74f9d9a740362533f444354e61ed"

signer = Signer(PARTNER_ID, PARTNER_KEY)


@pytest.mark.parametrize(("path", "base", "sign"), PUBLIC_VECTORS)
def test_public_calls_match_the_worked_example(path: str, base: str, sign: str) -> None:
    assert base_string(PARTNER_ID, path, TIMESTAMP) == base
    assert signer.sign(path, TIMESTAMP) == sign
    assert kind_for_path(path) is SignatureKind.PUBLIC


@pytest.mark.parametrize(("path", "base", "sign"), SHOP_VECTORS)
def test_shop_calls_match_the_worked_example(path: str, base: str, sign: str) -> None:
    assert (
        base_string(PARTNER_ID, path, TIMESTAMP, access_token=ACCESS_TOKEN, shop_id=SHOP_ID) == base
    )
    assert signer.sign(path, TIMESTAMP, access_token=ACCESS_TOKEN, shop_id=SHOP_ID) == sign
    assert kind_for_path(path) is SignatureKind.SHOP


def test_common_params_carry_the_signature_and_nothing_else_is_signed() -> None:
    params = signer.common_params(
        "/api/v2/product/get_item_list", TIMESTAMP, access_token=ACCESS_TOKEN, shop_id=SHOP_ID
    )
    assert params == {
        "partner_id": "2001887",
        "timestamp": "1700000000",
        "access_token": ACCESS_TOKEN,
        "shop_id": "322300222",
        "sign": SHOP_VECTORS[0][2],
    }
    assert signer.common_params("/api/v2/auth/token/get", TIMESTAMP) == {
        "partner_id": "2001887",
        "timestamp": "1700000000",
        "sign": PUBLIC_VECTORS[1][2],
    }


def test_merchant_calls_put_the_merchant_id_in_the_shop_id_slot() -> None:
    path = "/api/v2/merchant/get_shop_list_by_merchant"
    assert kind_for_path(path) is SignatureKind.MERCHANT
    merchant = signer.sign(path, TIMESTAMP, access_token=ACCESS_TOKEN, merchant_id=1234567)
    same_digits_as_shop = signer.sign(path, TIMESTAMP, access_token=ACCESS_TOKEN, shop_id=1234567)
    assert merchant == same_digits_as_shop
    assert base_string(
        PARTNER_ID, path, TIMESTAMP, access_token=ACCESS_TOKEN, merchant_id=1234567
    ).endswith(f"{ACCESS_TOKEN}1234567")
    params = signer.common_params(path, TIMESTAMP, access_token=ACCESS_TOKEN, merchant_id=1)
    assert "merchant_id" in params and "shop_id" not in params


def test_impossible_combinations_are_refused() -> None:
    with pytest.raises(ValueError, match="path alone"):
        base_string(PARTNER_ID, "/api/v2/product/get_item_list?offset=0", TIMESTAMP)
    with pytest.raises(ValueError, match="access token"):
        base_string(PARTNER_ID, "/api/v2/product/get_item_list", TIMESTAMP, shop_id=SHOP_ID)
    with pytest.raises(ValueError, match="exactly one"):
        base_string(PARTNER_ID, "/api/v2/x", TIMESTAMP, access_token=ACCESS_TOKEN)
    with pytest.raises(ValueError, match="exactly one"):
        base_string(
            PARTNER_ID, "/api/v2/x", TIMESTAMP, access_token=ACCESS_TOKEN, shop_id=1, merchant_id=2
        )


def test_the_partner_key_never_shows_in_a_repr() -> None:
    assert PARTNER_KEY not in repr(signer)
    assert "2001887" in repr(signer)


def test_push_signature_matches_the_worked_example() -> None:
    assert push_signature(PARTNER_KEY, PUSH_URL, PUSH_BODY) == PUSH_SIGNATURE
    assert verify_push_signature(PARTNER_KEY, PUSH_URL, PUSH_BODY, PUSH_SIGNATURE)
    assert verify_push_signature(PARTNER_KEY, PUSH_URL, PUSH_BODY, PUSH_SIGNATURE.upper())


@pytest.mark.parametrize("change", ["body", "url", "key", "missing"])
def test_a_push_changed_anywhere_fails_verification(change: str) -> None:
    body, url, key, header = PUSH_BODY, PUSH_URL, PARTNER_KEY, PUSH_SIGNATURE
    if change == "body":
        body = PUSH_BODY.replace(b"READY_TO_SHIP", b"CANCELLED")
    elif change == "url":
        url = PUSH_URL + "?x=1"
    elif change == "key":
        key = PARTNER_KEY + "x"
    if change == "missing":
        assert not verify_push_signature(key, url, body, None)
        assert not verify_push_signature(key, url, body, "")
    else:
        assert not verify_push_signature(key, url, body, header)


def test_the_authorisation_link_is_signed_like_the_worked_example() -> None:
    url = authorisation_url(
        "https://partner.shopeemobile.com",
        signer,
        "https://cửa-hàng.example.vn/shopee/callback?từ=đâu",
        TIMESTAMP,
    )
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "partner.shopeemobile.com",
        "/api/v2/shop/auth_partner",
    )
    query = parse_qs(parts.query)
    assert query["partner_id"] == ["2001887"] and query["timestamp"] == ["1700000000"]
    assert query["sign"] == [PUBLIC_VECTORS[0][2]]
    assert query["redirect"] == ["https://cửa-hàng.example.vn/shopee/callback?từ=đâu"]
    cancel = authorisation_url(
        "https://partner.shopeemobile.com", signer, "https://x.example/cb", TIMESTAMP, cancel=True
    )
    assert "/api/v2/shop/cancel_auth_partner?" in cancel
    assert signer.sign("/api/v2/shop/cancel_auth_partner", TIMESTAMP) in cancel
