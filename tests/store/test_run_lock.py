"""The run lock: one local runtime per store; who holds it is named; a crash frees it.

Each case holds the lock in a real child process, as a second ``omnisdk run`` would meet it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from omnisdk.store import RunLocked, Store

HOLD = """
import sys, time
from omnisdk.store import Store
store = Store(sys.argv[1])
lock = store.acquire_run_lock()
print("held", flush=True)
time.sleep(120)
"""


def hold_in_child(url: str) -> subprocess.Popen[str]:
    """A child process that takes the run lock of ``url`` and keeps it until killed."""
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD, url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    if line.strip() != "held":
        child.kill()
        raise AssertionError(f"the child did not take the lock: {child.communicate()[1]}")
    return child


def take_within(store: Store, seconds: float = 10.0) -> None:
    """Take and release the lock, retrying while the dead holder's lock is being dropped."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            store.acquire_run_lock().release()
            return
        except RunLocked:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_a_second_holder_is_refused_with_who_holds_it_and_a_killed_one_frees_it(
    store_url: str,
) -> None:
    store = Store(store_url)
    child = hold_in_child(store_url)
    try:
        with pytest.raises(RunLocked) as refused:
            store.acquire_run_lock()
        holder = refused.value.holder
        assert holder is not None
        assert (holder.pid, holder.host) == (child.pid, socket.gethostname())
        assert datetime.now(UTC) - holder.since < timedelta(minutes=2)
        message = str(refused.value)
        assert "\n" not in message and f"pid {child.pid} on host " in message
        assert "another omnisdk run holds the store" in message and "since" in message
        assert "password" not in message

        child.send_signal(signal.SIGKILL)  # a crash: no release, no clean-up
        child.wait(timeout=10)
        take_within(store)
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate()
        store.close()


def test_a_released_lock_is_taken_again_and_a_held_one_is_not(store_url: str) -> None:
    first, second = Store(store_url), Store(store_url)
    try:
        lock = first.acquire_run_lock()
        assert lock.held and lock.holder.pid == os.getpid()
        with pytest.raises(RunLocked):
            second.acquire_run_lock()
        lock.release()
        lock.release()  # idempotent
        assert not lock.held
        with second.acquire_run_lock() as again:
            assert again.held
        with first.acquire_run_lock():
            pass
    finally:
        first.close()
        second.close()


def test_the_sqlite_lock_file_sits_beside_the_database(store_url: str) -> None:
    store = Store(store_url)
    try:
        path = store.run_lock_path()
        if store.is_postgresql:
            assert path is None
            return
        assert path is not None and path.name.endswith(".db.lock")
        assert path.parent == Path(store.url.database or "").resolve().parent
    finally:
        store.close()


def test_an_in_memory_store_needs_no_lock() -> None:
    store = Store("sqlite://")
    try:
        assert store.run_lock_path() is None
        with store.acquire_run_lock(), store.acquire_run_lock():
            pass
    finally:
        store.close()


def _drop_lock_connections(store: Store) -> int:
    """Kill the server backends holding the run lock, as a restarted server or a dropped
    network would; returns how many were killed."""
    from sqlalchemy import text

    with store.engine.connect() as connection:
        killed = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name LIKE 'omnisdk-run %' AND pid <> pg_backend_pid() "
                "AND datname = current_database()"
            )
        ).scalar_one()
        connection.commit()
    return int(killed)


def test_a_lock_lost_with_its_connection_is_noticed_and_taken_again(store_url: str) -> None:
    store = Store(store_url)
    try:
        lock = store.acquire_run_lock()
        assert lock.alive() and store.keep_run_lock(lock) is lock
        if not store.is_postgresql:
            return  # a lock file lives as long as the process: nothing else can drop it
        assert _drop_lock_connections(store) == 1

        assert not lock.alive() and not lock.held
        again = store.keep_run_lock(lock)

        assert again is not lock and again.alive()
        with pytest.raises(RunLocked):
            Store(store_url).acquire_run_lock()
        again.release()
    finally:
        store.close()


@pytest.mark.parametrize(
    "backend", [pytest.param("postgresql", marks=pytest.mark.postgres)]
)  # only a PostgreSQL lock can be lost while its process lives
def test_a_lost_lock_another_run_took_meanwhile_is_refused_naming_it(store_url: str) -> None:
    store, other = Store(store_url), Store(store_url)
    try:
        lock = store.acquire_run_lock()
        _drop_lock_connections(store)
        theirs = other.acquire_run_lock()  # the other run is quicker to notice

        with pytest.raises(RunLocked, match=f"pid {os.getpid()} on host"):
            store.keep_run_lock(lock)
        theirs.release()
    finally:
        store.close()
        other.close()
