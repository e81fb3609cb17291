"""omnisdk.jsonlines: byte chunks cut into lines on b"\\n" only, each line decoded the same
with orjson or without it."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnisdk import jsonlines
from omnisdk.jsonlines import LineSplitter, loads


def _split(chunks: list[bytes]) -> list[bytes]:
    splitter = LineSplitter()
    lines = [line for chunk in chunks for line in splitter.feed(chunk)]
    return lines + splitter.end()


def test_lines_cut_anywhere_come_whole() -> None:
    data = b'{"a":1}\n{"b":"x"}\n\n  \n{"c":[1,2]}'
    for size in range(1, len(data) + 1):
        chunks = [data[i : i + size] for i in range(0, len(data), size)]
        assert _split(chunks) == [b'{"a":1}', b'{"b":"x"}', b'{"c":[1,2]}']


def test_only_newline_ends_a_line() -> None:
    # JSON text may hold U+2028, U+2029 and U+0085 raw; str.splitlines (and httpx's
    # aiter_lines) take each for a line end and cut the object in two.
    record = {"title": "Nón lá\u2028Huế\u2029 \x85 end", "n": 1}
    data = json.dumps(record, ensure_ascii=False).encode() + b"\r\n"
    assert len(data.decode().splitlines()) > 1  # what the text splitter did
    assert [loads(line) for line in _split([data])] == [record]


def test_a_long_line_over_many_chunks() -> None:
    line = b'{"x":"' + b"y" * 100_000 + b'"}'
    chunks = [line[i : i + 7] for i in range(0, len(line), 7)] + [b"\n"]
    assert _split(chunks) == [line]


@given(st.lists(st.binary(max_size=20).filter(lambda b: b"\n" not in b), max_size=8),
       st.integers(min_value=1, max_value=9))
def test_same_lines_as_bytes_split(lines: list[bytes], size: int) -> None:
    data = b"\n".join(lines)
    chunks = [data[i : i + size] for i in range(0, len(data), size)]
    expected = [line for line in data.split(b"\n") if line and not line.isspace()]
    assert _split(chunks) == expected


@pytest.mark.parametrize(
    "line",
    [
        b'{"a":"\\ud800"}',  # an escaped lone surrogate: orjson refuses it, json reads it
        b'{"big":123456789012345678901234567890}',  # past 64 bits: orjson gives a float
        b'[18446744073709551616,-9223372036854775809,18446744073709551615,-0]',
        b'{"id":"gid://shopify/Order/12345678901234567890"}',
        b'[1E400,0.1,1e-400,123.456e7]',
        b'{"n":NaN}',
        b'{"a":"t\xc3\xa9xt","b":[1,2.5,null,true]}',
    ],
)
def test_decodes_as_json_does(line: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = json.loads(line)
    got = loads(line)
    assert repr(got) == repr(expected)
    monkeypatch.setattr(jsonlines, "orjson", None)  # without orjson installed
    assert repr(loads(line)) == repr(expected)


def test_bad_json_raises_json_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(json.JSONDecodeError):
        loads(b'{"a":')
    monkeypatch.setattr(jsonlines, "orjson", None)
    with pytest.raises(json.JSONDecodeError):
        loads(b'{"a":')
