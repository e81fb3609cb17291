"""Signatures: Lazada's documented examples, and what lazop-sdk 1.0.3 computes itself.

lazop-sdk creates ``~/logs`` and a log file when imported, so it runs in a subprocess with
``HOME`` pointing at a temporary directory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from omnisdk_lazada.channel import sku_payload
from omnisdk_lazada.client import (
    PARTNER_ID,
    Signer,
    base_string,
    push_signature,
    sign,
    timestamp_ms,
    verify_push_signature,
)

DOC_PARAMS = {
    "app_key": "123456",
    "access_token": "test",
    "timestamp": "1517820392000",
    "sign_method": "sha256",
    "order_id": "1234",
}


def test_lazadas_documented_example() -> None:
    assert base_string("/order/get", DOC_PARAMS) == (
        "/order/getaccess_tokentestapp_key123456order_id1234sign_methodsha256timestamp1517820392000"
    )
    assert sign("helloworld", "/order/get", DOC_PARAMS) == (
        "4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A"
    )


def test_the_generic_doc_example_and_sign_is_left_out() -> None:
    params = {"foo": "1", "bar": "2", "foo_bar": "3", "foobar": "4", "sign": "IGNORED"}
    assert base_string("/test/api", params) == "/test/apibar2foo1foo_bar3foobar4"
    assert sign("1234", "/test/api", params) == (
        "988085883BF9D32D251478D23122C7ECC91518CDF63BA22F792000A378F52409"
    )


TOKEN = "50000601c30atpedfgu3LVvik87Ixlsvle3mSoB7701ceb156fPunYZ43GBg"


def test_the_captured_sdk_calls() -> None:
    signer = Signer("123456", "example_app_secret_0001")
    stamp = timestamp_ms(datetime.fromtimestamp(1700000000.4, UTC))
    assert stamp == "1700000000000"
    get = signer.signed_params(
        "/products/get",
        {"filter": "live", "offset": 0, "limit": 50},
        timestamp=stamp,
        access_token=TOKEN,
    )
    assert get["partner_id"] == PARTNER_ID
    assert get["sign"] == "12B47BA7741C166F7F221AB24AF9BDE1205693E0285AEA57265F420997C46310"
    assert list(get) == [
        "app_key",
        "sign_method",
        "timestamp",
        "partner_id",
        "access_token",
        "filter",
        "offset",
        "limit",
        "sign",
    ]
    payload = sku_payload(
        [
            {
                "ItemId": 2807246166,
                "SkuId": 13449296008,
                "SellerSku": "12333-poi",
                "Price": "150000",
                "SalePrice": "129000",
                "Quantity": 20,
            }
        ]
    )
    post = signer.signed_params(
        "/product/price_quantity/update", {"payload": payload}, timestamp=stamp, access_token=TOKEN
    )
    assert post["sign"] == "863A61BED30AF75FA11A7403AE8582F2732817D20DA6605BC600B5CAFAF49E6C"


def test_the_push_example_is_lower_case_over_app_key_and_body() -> None:
    body = (
        b'{"seller_id":"1234567","message_type":0,"data":{"order_status":"pending",'
        b'"trade_order_id":"260422900198363","trade_order_line_id":"260422900298363",'
        b'"status_update_time":1700000000},"timestamp":1700000001234,"site":"lazada_vn"}'
    )
    expected = "36f0ce75f9d09757ffd0db954e503baf7da41c7787e5d2a550ab5c264d6ffa19"
    assert push_signature("123456", "example_app_secret_0001", body) == expected
    assert verify_push_signature("123456", "example_app_secret_0001", body, expected.upper())
    assert not verify_push_signature("123456", "example_app_secret_0001", body + b" ", expected)
    assert not verify_push_signature("123456", "wrong", body, expected)
    assert not verify_push_signature("123456", "example_app_secret_0001", body, None)


def test_xml_payload_escapes_every_value() -> None:
    payload = sku_payload([{"SellerSku": "ÁO<DÀI>&\"'", "Price": "1", "Skip": None}])
    assert payload == (
        "<Request><Product><Skus><Sku><SellerSku>ÁO&lt;DÀI&gt;&amp;\"'</SellerSku>"
        "<Price>1</Price></Sku></Skus></Product></Request>"
    )
    with pytest.raises(ValueError):
        sku_payload([])


def test_the_api_path_must_be_bare() -> None:
    with pytest.raises(ValueError, match="API path"):
        base_string("https://api.lazada.vn/rest/orders/get", {})
    with pytest.raises(ValueError):
        base_string("/orders/get?x=1", {})


def test_the_secret_stays_out_of_the_signers_repr() -> None:
    assert "khoá-bí-mật" not in repr(Signer("1", "khoá-bí-mật"))


SDK_DRIVER = r"""
import json, sys
from lazop_sdk.base import sign
cases = json.loads(sys.argv[1])
print(json.dumps([sign(c["secret"], c["api"], c["params"]) for c in cases]))
"""


def _sdk_cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = [
        {"secret": "helloworld", "api": "/order/get", "params": DOC_PARAMS},
        {
            "secret": "khoá-bí-mật-tiếng-Việt",
            "api": "/products/get",
            "params": {
                "app_key": "100200",
                "timestamp": "1741996800000",
                "sign_method": "sha256",
                "partner_id": PARTNER_ID,
                "access_token": "tok",
                "sku_seller_list": json.dumps(["ÁO-DÀI-ĐỎ", "NÓN-LÁ"], ensure_ascii=False),
                "update_after": "2025-03-15T09:00:00+07:00",
            },
        },
    ]
    for index in range(12):
        params = {
            "app_key": str(100000 + 7919 * index),
            "timestamp": str(1600000000000 + 86413000 * index),
            "sign_method": "sha256",
            "partner_id": PARTNER_ID,
            "access_token": f"{index * 982451653:032x}",
            "offset": str(index * 50),
            "limit": "50",
            "payload": sku_payload(
                [{"SellerSku": f"SKU-{index}&<x>", "SellableQuantity": index - 5}]
            ),
            "empty": "",
        }
        cases.append(
            {"secret": f"secret{index:02d}" * (index % 3 + 1), "api": "/x/y", "params": params}
        )
    return cases


def test_signatures_equal_lazop_sdk(tmp_path: Path) -> None:
    cases = _sdk_cases()
    done = subprocess.run(
        [sys.executable, "-c", SDK_DRIVER, json.dumps(cases)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    theirs = json.loads(done.stdout)
    ours = [sign(case["secret"], case["api"], case["params"]) for case in cases]
    assert ours == theirs
    assert theirs[0] == "4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A"
