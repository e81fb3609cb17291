"""The runtime keeps its PostgreSQL run lock: taken again when its connection drops, and the
runtime stops (naming the other run) when another run took the lock meanwhile."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text

from omnisdk import Plugins
from omnisdk.config import Config
from omnisdk.runtime import LocalRuntime
from omnisdk.store import RunLock, RunLocked, Store

pytestmark = pytest.mark.postgres


class StoreOnlyEngine:
    """Just what the runtime needs of an engine with no accounts: config, store, plugins."""

    def __init__(self, store: Store) -> None:
        self.config = Config()
        self.channels: dict[str, Any] = {}
        self.store = store
        self.plugins = Plugins(entry_points=False)


def lock_backends(store: Store) -> list[int]:
    """Server pids of the connections holding a run lock on the store's database."""
    with store.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'omnisdk-run %' "
                "AND datname = current_database()"
            )
        )
        return [int(pid) for (pid,) in rows]


def kill(store: Store, pids: list[int]) -> None:
    with store.engine.connect() as connection:
        for pid in pids:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        connection.commit()


async def eventually(condition: Callable[[], bool], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


@pytest.fixture
def store(pg_url: str) -> Store:
    return Store(pg_url)


async def test_a_dropped_lock_connection_is_noticed_and_the_lock_taken_again(
    store: Store,
) -> None:
    runtime = LocalRuntime(StoreOnlyEngine(store), webhooks=False, run_lock_check=0.05)  # type: ignore[arg-type]
    await runtime.start()
    try:
        [first] = lock_backends(store)
        kill(store, [first])

        await eventually(lambda: len(lock_backends(store)) == 1 and lock_backends(store) != [first])
        assert not runtime.stopping and runtime.run_lock_lost is None
        with pytest.raises(RunLocked):
            Store(store.url.render_as_string(hide_password=False)).acquire_run_lock()
    finally:
        await runtime.stop()
        store.close()


async def test_when_another_run_took_the_lost_lock_the_runtime_stops_and_says_who(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = Store(store.url.render_as_string(hide_password=False))
    # The runtime checks only once the other run holds the lock: no race to decide the test.
    theirs_taken = threading.Event()
    keep = store.keep_run_lock

    def keep_after_the_other_took_it(lock: RunLock) -> RunLock:
        theirs_taken.wait(10)
        return keep(lock)

    monkeypatch.setattr(store, "keep_run_lock", keep_after_the_other_took_it)
    runtime = LocalRuntime(StoreOnlyEngine(store), webhooks=False, run_lock_check=0.05)  # type: ignore[arg-type]
    run = asyncio.create_task(runtime.run(handle_signals=False))
    try:
        await asyncio.wait_for(runtime.ready.wait(), 10)
        kill(store, lock_backends(store))
        theirs = await asyncio.to_thread(take_within, other)
        theirs_taken.set()

        with pytest.raises(RunLocked, match="another omnisdk run holds the store"):
            await asyncio.wait_for(run, 10)
        assert runtime.run_lock_lost is not None
        theirs.release()
    finally:
        theirs_taken.set()
        if not run.done():
            run.cancel()
        other.close()
        store.close()


def take_within(store: Store, seconds: float = 10.0) -> RunLock:
    """The run lock, once the killed holder's backend has gone."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return store.acquire_run_lock()
        except RunLocked:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
