"""One queued push per account: dispatches while a push waits send nothing more."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

from omnisdk.runtime.celery import tasks
from omnisdk.runtime.celery.pending import PendingPushes


@pytest.fixture
def pending(redis_url: str) -> Any:
    """Marks under a prefix of their own (the Redis is shared with other tests)."""
    marks = PendingPushes(redis_url, prefix=f"test-{uuid.uuid4().hex[:8]}:push-queued")
    yield marks
    keys = marks.client.keys(f"{marks.prefix}:*")
    if keys:
        marks.client.delete(*keys)
    marks.close()


def test_a_push_is_marked_once_until_it_starts(pending: PendingPushes) -> None:
    assert pending.mark("shopee-ha-noi")
    assert not pending.mark("shopee-ha-noi")  # queued already: nothing more is sent
    assert pending.mark("lazada-sai-gon")  # another account has its own mark
    assert 0 < pending.client.ttl(pending.key("shopee-ha-noi")) <= pending.seconds
    pending.started("shopee-ha-noi")
    assert pending.mark("shopee-ha-noi")  # a change after the start gets a push


def test_redis_down_sends_the_push_unmarked(caplog: pytest.LogCaptureFixture) -> None:
    marks = PendingPushes("redis://127.0.0.1:1/0", prefix="down")
    assert marks.mark("shopee-ha-noi") and marks.mark("shopee-ha-noi")
    marks.started("shopee-ha-noi")
    marks.close()
    assert "marking the push of shopee-ha-noi failed" in caplog.text


@dataclass
class _Store:
    due: list[str]

    def accounts_with_due_pushes(self) -> list[str]:
        return list(self.due)


@dataclass
class _Worker:
    store: _Store
    pending: PendingPushes | None
    sent: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)


def test_dispatch_sends_each_due_account_one_push_while_it_waits(
    pending: PendingPushes, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = _Worker(_Store(["lazada-sai-gon", "shopee-ha-noi"]), pending)
    monkeypatch.setattr(tasks, "send", lambda task, *args: worker.sent.append((task, args)))
    assert tasks.dispatch_pushes(worker) == ["lazada-sai-gon", "shopee-ha-noi"]  # type: ignore[arg-type]
    for _ in range(5):  # five more stock-changing tasks before either push starts
        assert tasks.dispatch_pushes(worker) == []  # type: ignore[arg-type]
    pending.started("shopee-ha-noi")
    assert tasks.dispatch_pushes(worker) == ["shopee-ha-noi"]  # type: ignore[arg-type]
    assert worker.sent == [
        ("omnisdk.push", ("lazada-sai-gon",)),
        ("omnisdk.push", ("shopee-ha-noi",)),
        ("omnisdk.push", ("shopee-ha-noi",)),
    ]
    # Without Redis every dispatch sends (the old behaviour).
    worker.pending, worker.sent = None, []
    tasks.dispatch_pushes(worker)  # type: ignore[arg-type]
    tasks.dispatch_pushes(worker)  # type: ignore[arg-type]
    assert len(worker.sent) == 4
