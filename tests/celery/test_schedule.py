"""The beat schedule and the Celery settings generated from the config."""

from __future__ import annotations

from pathlib import Path

import pytest

from omnisdk.config import load_config
from omnisdk.plugins import Plugins
from omnisdk.runtime.celery.app import celery_settings
from omnisdk.runtime.celery.schedule import beat_schedule, schedule_entries

CONFIG = """
[store]
url = "postgresql+psycopg://postgres@127.0.0.1:5432/omnisdk"

[celery]
broker_url = "amqp://guest:guest@127.0.0.1:5672//"
rate_limit_url = "redis://127.0.0.1:6379/1"
queue = "shop-vn"

[engine]
push_interval = "2s"
reconcile_interval = "10m"

[[channels]]
name = "cua-hang-ha-noi"
type = "example"
[channels.settings]
api_token = "tok"
[channels.poll]
orders = "30s"

[[channels]]
name = "cua-hang-sai-gon"
type = "example"
[channels.settings]
api_token = "tok"
[channels.poll]
orders = "45s"
stock = "5m"
"""


def _config(tmp_path: Path) -> tuple[object, Plugins]:
    from omnisdk_example.channel import ExampleChannel

    from omnisdk.testing import ContributeChannels

    plugins = Plugins(entry_points=False)
    plugins.register(ContributeChannels(ExampleChannel), name="example")
    path = tmp_path / "omnisdk.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return load_config(path, plugins=plugins), plugins


def test_every_account_gets_its_polls_and_reconciliation(tmp_path: Path) -> None:
    config, plugins = _config(tmp_path)
    schedule = beat_schedule(config, plugins)  # type: ignore[arg-type]
    orders = schedule["poll-orders:cua-hang-ha-noi"]
    assert orders["task"] == "omnisdk.poll_orders"
    assert orders["schedule"] == 30.0
    assert orders["args"] == ("cua-hang-ha-noi",)
    assert orders["options"]["queue"] == "shop-vn.poll"
    assert orders["options"]["expires"] == 90.0  # three intervals: no pile-up behind a slow fleet
    assert schedule["poll-orders:cua-hang-sai-gon"]["schedule"] == 45.0
    # The stock read-back follows [channels.poll] stock when set, else reconcile_interval.
    assert schedule["reconcile:cua-hang-ha-noi"]["schedule"] == 600.0
    assert schedule["reconcile:cua-hang-sai-gon"]["schedule"] == 300.0
    assert schedule["reconcile:cua-hang-sai-gon"]["options"]["queue"] == "shop-vn.maintenance"
    rebalance = schedule["rebalance"]
    assert (rebalance["task"], rebalance["schedule"], rebalance["args"]) == (
        "omnisdk.rebalance",
        2.0,
        (),
    )
    # Promotions start and end within a minute of their time, one worker at a time.
    promotions = schedule["promotions"]
    assert (promotions["task"], promotions["schedule"], promotions["args"]) == (
        "omnisdk.run_promotions",
        60.0,
        (),
    )
    assert promotions["options"]["queue"] == "shop-vn.maintenance"


def test_every_scheduled_task_is_a_registered_task() -> None:
    """An entry naming a task no worker knows would be dropped by every worker."""
    from omnisdk.runtime.celery import tasks
    from omnisdk.runtime.celery.schedule import TASK_QUEUES

    assert set(TASK_QUEUES) <= set(tasks.app.tasks)


def test_entries_follow_what_the_channel_type_can_do(tmp_path: Path) -> None:
    from omnisdk_example.channel import ExampleChannel

    from omnisdk.channel import Capability

    config, plugins = _config(tmp_path)
    tasks = {entry.task for entry in schedule_entries(config, plugins)}  # type: ignore[arg-type]
    capabilities = ExampleChannel.capabilities
    assert ("omnisdk.poll_customers" in tasks) == (Capability.READ_CUSTOMERS in capabilities)
    assert ("omnisdk.poll_products" in tasks) == (Capability.READ_PRODUCTS in capabilities)


def test_delivery_is_at_least_once_on_purpose(tmp_path: Path) -> None:
    config, plugins = _config(tmp_path)
    settings = celery_settings(config, plugins)  # type: ignore[arg-type]
    assert settings["broker_url"].startswith("amqp://")
    assert settings["task_acks_late"] and settings["task_reject_on_worker_lost"]
    assert settings["worker_prefetch_multiplier"] == 1
    assert settings["task_routes"]["omnisdk.push"] == {"queue": "shop-vn.push"}
    assert settings["task_routes"]["omnisdk.handle_events"] == {"queue": "shop-vn.intake"}
    assert config.celery.shared_budgets_url == "redis://127.0.0.1:6379/1"  # type: ignore[attr-defined]


def test_the_beat_queues_one_poll_per_account_until_it_starts(
    tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Polls of an account due while one still waits are not sent (behind busy workers they
    piled up: a dozen reads of the same orders, and every other account's polls behind)."""
    import uuid

    from omnisdk.runtime.celery.app import create_app
    from omnisdk.runtime.celery.beat import ALL_ACCOUNTS, OneQueuedScheduler, queued_marks

    config, plugins = _config(tmp_path)
    queue = f"beat-test-{uuid.uuid4().hex[:8]}"
    config = config.model_copy(  # type: ignore[attr-defined]
        update={
            "celery": config.celery.model_copy(update={"rate_limit_url": redis_url, "queue": queue})
        }  # type: ignore[attr-defined]
    )
    app = create_app(config, plugins)  # type: ignore[arg-type]
    sent: list[tuple[str, tuple[object, ...]]] = []
    expiring: list[str] = []

    def send_task(name: str, args: tuple[object, ...] = (), *_: object, **options: object) -> None:
        sent.append((name, tuple(args)))
        if options.get("expires") is not None:
            expiring.append(name)

    monkeypatch.setattr(app, "send_task", send_task)
    scheduler = OneQueuedScheduler(app=app, schedule_filename=str(tmp_path / "beat"))
    try:
        entries = scheduler.schedule
        for _ in range(3):  # three intervals pass while the workers are busy
            for name in (
                "poll-orders:cua-hang-ha-noi",
                "poll-orders:cua-hang-sai-gon",
                "rebalance",
            ):
                scheduler.apply_async(entries[name])
        assert sent == [
            ("omnisdk.poll_orders", ("cua-hang-ha-noi",)),
            ("omnisdk.poll_orders", ("cua-hang-sai-gon",)),
            ("omnisdk.rebalance", ()),
        ]
        # The one message does not expire (dropped unrun, it would leave the account unpolled
        # while its mark lives); the mark lives three intervals, a minute at least.
        assert expiring == []
        polls = queued_marks(redis_url, queue, "omnisdk.poll_orders")
        assert 60 <= polls.client.ttl(polls.key("cua-hang-ha-noi")) <= 90
        polls.started("cua-hang-ha-noi")  # what the task does first
        queued_marks(redis_url, queue, "omnisdk.rebalance").started(ALL_ACCOUNTS)
        for name in ("poll-orders:cua-hang-ha-noi", "poll-orders:cua-hang-sai-gon", "rebalance"):
            scheduler.apply_async(entries[name])
        assert sent[3:] == [
            ("omnisdk.poll_orders", ("cua-hang-ha-noi",)),
            ("omnisdk.rebalance", ()),
        ]
        keys = list(polls.client.scan_iter(match=f"{queue}:*"))
        polls.client.delete(*keys)
        polls.close()
    finally:
        scheduler.close()
