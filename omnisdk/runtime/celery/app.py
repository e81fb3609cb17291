"""The Celery application: ``celery -A omnisdk.runtime.celery.app worker|beat``.

``omnisdk worker`` and ``omnisdk beat`` run exactly that. The app is configured from the
omnisdk config file (``$OMNISDK_CONFIG``, else ``./omnisdk.toml``; ``[celery]`` names the
broker), read when this module is imported. Delivery is at least once, and the settings say so
on purpose:

- ``task_acks_late`` with ``task_reject_on_worker_lost``: a message is acknowledged only when
  its task has finished, so a worker killed mid-task (even ``SIGKILL``) has its task delivered
  again, to another worker (RabbitMQ at once; Redis after ``[celery] visibility_timeout``);
- ``worker_prefetch_multiplier = 1``: a worker holds one message beyond the one it runs, so a
  slow account never parks work another worker could do;
- no result backend: the tasks' effects are in the store, where ``omnisdk status`` reads them.

Every task is idempotent (see :mod:`omnisdk.runtime.celery.tasks`), so a second delivery
changes nothing twice.
"""

from __future__ import annotations

from typing import Any

from celery import Celery

from omnisdk.config import Config, find_config, load_config
from omnisdk.plugins import Plugins
from omnisdk.runtime.celery.schedule import QUEUES, TASK_QUEUES, beat_schedule

__all__ = ["app", "celery_settings", "create_app", "load_app_config"]

TASKS_MODULE = "omnisdk.runtime.celery.tasks"


def load_app_config() -> Config:
    """The config the app runs on: the file :func:`~omnisdk.config.find_config` names, or the
    defaults when there is none (an app that only enqueues, e.g. in tests)."""
    if find_config().exists():
        return load_config()
    return Config()


def celery_settings(config: Config, plugins: Plugins | None = None) -> dict[str, Any]:
    """Celery's settings for ``config`` (see the module doc); the beat schedule needs the
    channel classes of ``plugins`` (default: the installed ones)."""
    celery = config.celery
    prefix = celery.queue
    return {
        "broker_url": celery.broker_url,
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": {
            "visibility_timeout": celery.visibility_timeout.total_seconds(),
        },
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_acks_on_failure_or_timeout": True,
        "worker_prefetch_multiplier": 1,
        "task_ignore_result": True,
        "result_backend": None,
        "task_serializer": "json",
        "accept_content": ["json"],
        "timezone": "UTC",
        "enable_utc": True,
        "task_default_queue": f"{prefix}.maintenance",
        "task_routes": {name: {"queue": f"{prefix}.{kind}"} for name, kind in TASK_QUEUES.items()},
        "task_create_missing_queues": True,
        "beat_schedule": beat_schedule(config, plugins or Plugins()),
        "beat_scheduler": "omnisdk.runtime.celery.beat:OneQueuedScheduler",
        "include": [TASKS_MODULE],
        "omnisdk_queues": [f"{prefix}.{kind}" for kind in QUEUES],
    }


def create_app(config: Config, plugins: Plugins | None = None) -> Celery:
    """A Celery app for ``config``; ``app.conf.omnisdk_config`` is the config itself."""
    app = Celery("omnisdk", set_as_current=False)
    app.conf.update(celery_settings(config, plugins))
    app.conf.omnisdk_config = config
    return app


app = create_app(load_app_config())
"""The app of this process (what ``celery -A omnisdk.runtime.celery.app`` finds)."""
