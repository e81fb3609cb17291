"""Work locks: one worker at a time per (job, account), released with the holder."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

from omnisdk.store import Store


def test_a_second_worker_does_not_get_a_held_lock(make_store: Callable[..., Store]) -> None:
    first, second = make_store(), make_store()  # two pools: two worker processes
    held = first.try_work_lock("push", "shopee-hanoi")
    assert held is not None and held.held
    assert second.try_work_lock("push", "shopee-hanoi") is None
    other = second.try_work_lock("push", "lazada-main")  # another account: free
    assert other is not None
    poll = second.try_work_lock("poll:orders", "shopee-hanoi")  # another job: free
    assert poll is not None
    held.release()
    held.release()  # idempotent
    again = second.try_work_lock("push", "shopee-hanoi")
    assert again is not None
    for lock in (other, poll, again):
        lock.release()


def test_the_lock_dies_with_a_killed_holder(
    store_url: str, make_store: Callable[..., Store]
) -> None:
    # A worker SIGKILLed while it holds the lock must not block the next one.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from omnisdk.store import Store\n"
            f"lock = Store({store_url!r}).try_work_lock('push', 'shopee-hanoi')\n"
            "print('held' if lock else 'busy', flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        store = make_store()
        assert store.try_work_lock("push", "shopee-hanoi") is None
        holder.kill()
        holder.wait(10)
        lock = store.try_work_lock("push", "shopee-hanoi")
        assert lock is not None
        lock.release()
    finally:
        holder.kill()
        holder.wait(10)
