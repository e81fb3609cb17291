"""Messenger deliveries broken by hypothesis (#10): parsed, or refused as a bad body; never a crash.

Facebook declares no engine webhooks (the Graph API sends no orders), so the conformance
case ``test_signed_broken_webhooks_are_refused_or_ignored_never_500`` skips it; what a chat
app feeds :func:`~omnisdk_facebook.chat.chat_order` comes from
:func:`~omnisdk_facebook.webhooks.messages`, fuzzed here with the same strategies
(:func:`omnisdk.testing.fuzz.malformed_bodies`): fields gone, wrong types, 10**30,
negatives, broken UTF-8, 100,000-deep nesting, in the delivery and in the order payload.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from omnisdk_facebook.chat import ChatLine, chat_order
from omnisdk_facebook.webhooks import messages

from omnisdk.errors import MappingError, WebhookBodyError
from omnisdk.models import MAX_QUANTITY, Money
from omnisdk.testing.fuzz import FUZZ_SETTINGS, malformed_bodies, mutations

ORDER = {"order": [{"retailer_id": "AO-DAI-DO", "quantity": 2}]}


def delivery(payload: Any) -> dict[str, Any]:
    """A Messenger quick-reply delivery whose payload is ``payload`` (JSON text)."""
    return {
        "object": "page",
        "entry": [
            {
                "id": "1234567890",
                "time": 1764840600000,
                "messaging": [
                    {
                        "sender": {"id": "42"},
                        "timestamp": 1764840600000,
                        "message": {
                            "mid": "m_1",
                            "text": "Cho mình đặt 2 áo dài đỏ",
                            "quick_reply": {"payload": payload},
                        },
                    }
                ],
            }
        ],
    }


def check(body: bytes) -> None:
    """``messages`` parses ``body`` or refuses it as a bad body; every order line it gives
    is a SKU and a quantity a chat order can be built from."""
    try:
        found = messages(body)
    except WebhookBodyError:
        return
    for message in found:
        lines = message.order_lines()
        for sku, quantity in lines:
            assert isinstance(sku, str) and sku
            assert 0 < quantity <= MAX_QUANTITY, quantity
        if not lines:
            continue
        # Refused with a reason, or built (an invisible character in a SKU, a bad id...).
        with contextlib.suppress(MappingError, ValueError):
            chat_order(
                account="fb-page",
                conversation=message.mid,
                surface="messenger",
                lines=[ChatLine(sku, q, Money.of(450000, "VND")) for sku, q in lines],
                placed_at=message.sent_at,
            )


@FUZZ_SETTINGS
@given(body=malformed_bodies(delivery(json.dumps(ORDER))))
def test_broken_deliveries_parse_or_are_a_bad_body(body: bytes) -> None:
    check(body)


@FUZZ_SETTINGS
@given(payload=mutations(ORDER))
def test_broken_order_payloads_give_only_lines_an_order_can_take(payload: Any) -> None:
    text = json.dumps(payload, ensure_ascii=False, default=str)
    check(json.dumps(delivery(text), ensure_ascii=False).encode("utf-8", "surrogatepass"))


@given(depth=st.sampled_from([10_000, 100_000]), shape=st.sampled_from(["list", "order"]))
def test_a_deeply_nested_payload_is_no_order(depth: int, shape: str) -> None:
    """The payload is JSON text inside the delivery: the delivery reads, the payload is no
    order (before: RecursionError out of ``order_lines``)."""
    if shape == "list":
        nested = "[" * depth + "]" * depth
    else:
        nested = '{"order":' * depth + "[]" + "}" * depth
    check(json.dumps(delivery(nested)).encode())
