"""The runnable examples in examples/ run and do what their docstring says."""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_notify_buyers_texts_once_per_event(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("notify_buyers", EXAMPLES / "notify_buyers.py")
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    sent = asyncio.run(example.main(tmp_path))
    assert sent == [
        "SMS to +84912345678: Cảm ơn Trần Thị Bình! Đơn Z-1001 đã được xác nhận.",
        "SMS to +84912345678: Đơn Z-1001 đang trên đường giao tới Trần Thị Bình.",
    ]
