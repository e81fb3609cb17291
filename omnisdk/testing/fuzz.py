"""Hypothesis strategies that break platform payloads, to fuzz a plugin's mapping and webhooks.

Start from a record the platform really sends (fetched from your sandbox, or a fixture) and
let :func:`mutations` break it: keys removed at any depth, values swapped for wrong types,
huge or negative numbers, unknown currencies, lone surrogates and control characters, deep
nesting. :func:`check_mapping` then says whether your channel held the contract: a record
maps, or fails with a :class:`~omnisdk.errors.MappingError` (which the engine quarantines
with its message as the reason), never with any other exception::

    from hypothesis import given
    from omnisdk.testing.fuzz import check_mapping, mutations

    @given(raw=mutations(VALID_ORDER))
    def test_any_broken_order_maps_or_is_quarantined(raw):
        check_mapping(channel, "order", raw)

For webhooks, :func:`malformed_bodies` gives request bodies (broken JSON and UTF-8, deep
nesting, huge numbers, mutations of a valid body); sign each as the platform would and post
it to the receiver: the answer must be 200 (ignored or accepted) or a 4xx, never a 5xx.

Needs ``hypothesis`` (in ``omnisdk[testing]``).
"""

from __future__ import annotations

import asyncio
import json
import reprlib
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from omnisdk.errors import MappingError, WebhookVerificationError

if TYPE_CHECKING:
    from pydantic import BaseModel

    from omnisdk.channel import Channel, WebhookRequest
    from omnisdk.webhooks import WebhookReceiver

__all__ = [
    "FUZZ_SETTINGS",
    "HOSTILE_NUMBERS",
    "HOSTILE_STRINGS",
    "check_mapping",
    "deep_nesting",
    "hostile_values",
    "malformed_bodies",
    "mutations",
    "paths",
    "post_to_receiver",
    "webhook_refusal",
]

Path = tuple[str | int, ...]

FUZZ_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
"""Hypothesis settings for fuzzing a plugin: 150 examples, no deadline (a sandbox round trip
varies), fixtures shared across examples allowed."""

HOSTILE_NUMBERS: tuple[Any, ...] = (
    0,
    -1,
    -(10**30),
    10**17,
    10**20,
    10**30,
    2**63,
    2**64 + 1,
    10**400,
    Decimal("1E+30"),
    Decimal("-0.5"),
    Decimal("0.000000001"),
    Decimal("NaN"),
    Decimal("Infinity"),
    Decimal("-Infinity"),
    1.5,
    -1e308,
    float("inf"),
    float("nan"),
    True,
)
"""Numbers no platform should send: out of every range, negative, not finite, a bool."""

HOSTILE_STRINGS: tuple[str, ...] = (
    "",
    " ",
    "1e30",
    "-1",
    "NaN",
    "Infinity",
    "1" * 400,
    "12.345678901234567890123",
    "XYZ",
    "VNĐ",
    "đồng",
    "\udcff",
    "\ud800sku",
    "\x00",
    "SKU\u200b-1",
    "Áo\u0301 dài",
    "9999-99-99T99:99:99Z",
    "1970-01-01T00:00:00",
    "0000-00-00",
    "x" * 20000,
)
"""Strings that break parsers: empty, numbers that overflow, unknown currencies, lone
surrogates (broken UTF-8 once encoded), NUL, invisible and combining characters, impossible
dates, very long text."""


def deep_nesting(depth: int, *, leaf: Any = 1) -> Any:
    """``leaf`` inside ``depth`` nested one-element lists and dicts, alternately."""
    value: Any = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"a": value}
    return value


def hostile_values() -> st.SearchStrategy[Any]:
    """A value of the wrong kind for almost any field (see the two constants, plus containers
    and nesting 50 and 400 deep: a decoded JSON record cannot be much deeper, the decoder
    stops near the interpreter's recursion limit; :func:`malformed_bodies` sends deeper)."""
    return st.one_of(
        st.none(),
        st.sampled_from(HOSTILE_NUMBERS),
        st.sampled_from(HOSTILE_STRINGS),
        st.integers(),
        st.text(max_size=20),
        st.just([]),
        st.just({}),
        st.just([None]),
        st.just({"": None}),
        st.sampled_from((50, 400)).map(deep_nesting),
    )


def paths(document: Any, prefix: Path = ()) -> list[Path]:
    """Every path into ``document`` (dict keys and list indices), the document's own ``()``
    first."""
    found = [prefix]
    if isinstance(document, Mapping):
        for key, value in document.items():
            found += paths(value, (*prefix, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found += paths(value, (*prefix, index))
    return found


def _copy(document: Any) -> Any:
    if isinstance(document, Mapping):
        return {key: _copy(value) for key, value in document.items()}
    if isinstance(document, list):
        return [_copy(value) for value in document]
    return document


def _apply(document: Any, path: Path, action: str, value: Any) -> Any:
    if not path:
        return value if action == "replace" else document
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if action == "delete":
        del parent[last]
    elif action == "replace":
        parent[last] = value
    elif action == "wrap":
        parent[last] = [parent[last]]
    elif action == "duplicate" and isinstance(parent, list):
        parent.insert(int(last), _copy(parent[int(last)]))
    return document


@st.composite
def _mutated(draw: st.DrawFn, valid: Any, max_mutations: int) -> Any:
    document = _copy(valid)
    for _ in range(draw(st.integers(min_value=1, max_value=max_mutations))):
        candidates = paths(document)[1:] or [()]
        path = draw(st.sampled_from(candidates))
        action = draw(st.sampled_from(("delete", "replace", "replace", "replace", "wrap", "dup")))
        if action == "dup":
            action = "duplicate"
        value = draw(hostile_values()) if action == "replace" else None
        if not path and action != "replace":
            continue
        document = _apply(document, path, action, value)
    return document


def mutations(valid: Any, *, max_mutations: int = 3) -> st.SearchStrategy[Any]:
    """``valid`` (a decoded JSON record) broken in 1 to ``max_mutations`` places.

    Each mutation picks a path of the record (at any depth) and deletes it, swaps its value
    for one of :func:`hostile_values`, wraps it in a list or duplicates a list item. The
    input is never changed (each example works on a deep copy).
    """
    return _mutated(valid, max_mutations)


def _encode(document: Any) -> bytes:
    text = json.dumps(document, ensure_ascii=False, default=str, allow_nan=True)
    return text.encode("utf-8", "surrogatepass")  # a lone surrogate is broken UTF-8 on the wire


def malformed_bodies(valid: Any | None = None) -> st.SearchStrategy[bytes]:
    """Request bodies a webhook receiver must refuse or ignore, never crash on.

    Broken UTF-8, truncated or non-JSON text, a JSON scalar or list where an object is
    expected, 100,000-deep nesting, numbers of 400 digits or ``1e999999``; with ``valid`` (a
    decoded body the platform sends), also :func:`mutations` of it and truncations of its
    encoding.
    """
    fixed = st.sampled_from(
        (
            b"",
            b"\xff\xfe\xfd",
            b'{"a": "\xc3\x28"}',
            b"{",
            b"null",
            b"[]",
            b'"text"',
            b"42",
            b"[" * 100_000 + b"]" * 100_000,
            b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
            b'{"n": 1e999999}',
            b'{"n": ' + b"9" * 400 + b"}",
            b'{"n": NaN, "m": -Infinity}',
        )
    )
    shapes = st.one_of(fixed, st.binary(max_size=64))
    if valid is None:
        return shapes
    whole = _encode(valid)
    return st.one_of(
        shapes,
        mutations(valid).map(_encode),
        st.integers(min_value=0, max_value=max(len(whole) - 1, 0)).map(lambda cut: whole[:cut]),
    )


def check_mapping(
    channel: Channel, kind: Literal["order", "product", "customer"], raw: Any
) -> BaseModel | MappingError:
    """Map ``raw`` as the engine would (``channel.map_<kind>``, through the hooks) and check
    the contract: it maps, or it raises a :class:`MappingError` that names the channel.

    Returns the canonical object or the error. Any other exception fails with an
    ``AssertionError`` that shows the record (shortened) and chains the exception.
    """
    mapper = {"order": channel.map_order, "product": channel.map_product}.get(
        kind, channel.map_customer
    )
    try:
        result: BaseModel = mapper(raw)
    except MappingError as exc:
        error = exc
    except Exception as exc:
        shown = reprlib.repr(raw)
        raise AssertionError(
            f"{channel.name} {kind}: {type(exc).__name__} escaped the mapping (the engine would "
            f"not quarantine it): {exc!s:.300} — record: {shown[:600]}"
        ) from exc
    else:
        return result
    if channel.name not in str(error):
        raise AssertionError(f"the MappingError does not name the channel: {error}")
    return error


def sample_of(records: Sequence[Any]) -> st.SearchStrategy[Any]:
    """One of ``records`` or a mutation of one (for a batch of fetched records)."""
    return st.one_of(st.sampled_from(list(records)), *(mutations(r) for r in records))


def post_to_receiver(
    receiver: WebhookReceiver, account: str, body: bytes, headers: Mapping[str, str]
) -> httpx.Response:
    """POST ``body`` to ``receiver``'s ``/webhooks/<account>`` over ASGI and return the answer;
    what the receiver queued is dropped (nothing consumes it in a fuzz test)."""

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=receiver.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://omnisdk.test") as client:
            return await client.post(f"/webhooks/{account}", content=body, headers=dict(headers))

    answer = asyncio.run(call())
    while receiver.next_batch_nowait() is not None:
        pass
    return answer


def webhook_refusal(channel: Channel, request: WebhookRequest) -> str | None:
    """The message ``channel.receive_webhook`` refused ``request`` with (None: it was taken)."""
    try:
        channel.receive_webhook(request)
    except WebhookVerificationError as exc:
        return str(exc)
    return None
