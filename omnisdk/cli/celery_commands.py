"""``omnisdk worker``, ``omnisdk beat``, ``omnisdk webhooks`` and ``omnisdk metrics``: the
processes of the scale-out runtime (``pip install 'omnisdk[celery]'``).

``worker`` and ``beat`` check the config, then become ``celery -A omnisdk.runtime.celery.app
worker|beat`` (the process is replaced: signals reach Celery itself). Arguments after ``--``
go to Celery unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from omnisdk.cli.output import print_note
from omnisdk.cli.state import CliState, get_state
from omnisdk.config import CONFIG_ENV, find_config
from omnisdk.errors import ConfigError

__all__ = ["beat", "metrics", "webhooks", "worker"]

APP = "omnisdk.runtime.celery.app"
METRICS_ENV = "PROMETHEUS_MULTIPROC_DIR"
_MISSING = "the scale-out runtime needs Celery: pip install 'omnisdk[celery]'"


def _require_celery() -> None:
    try:
        import celery  # noqa: F401
        import prometheus_client  # noqa: F401
    except ImportError:
        raise ConfigError(_MISSING) from None


def _celery_env(state: CliState, metrics_dir: Path | None) -> dict[str, str]:
    """The environment of the Celery process: the checked config, the metrics directory."""
    _require_celery()
    state.config()  # a broken config fails here, with omnisdk's message, not in every child
    env = dict(os.environ)
    env[CONFIG_ENV] = str(find_config(state.config_path).resolve())
    if metrics_dir is not None:
        metrics_dir.mkdir(parents=True, exist_ok=True)
        env[METRICS_ENV] = str(metrics_dir.resolve())
    return env


def _exec_celery(arguments: list[str], env: dict[str, str]) -> None:
    command = [sys.executable, "-m", "celery", "-A", APP, *arguments]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, command, env)  # noqa: S606 (our own interpreter)


MetricsDirOption = Annotated[
    Path | None,
    typer.Option(
        "--metrics-dir",
        metavar="DIR",
        file_okay=False,
        help="Write Prometheus metrics here (multiprocess mode; `omnisdk metrics` reads it).",
    ),
]


def worker(
    ctx: typer.Context,
    concurrency: Annotated[
        int | None,
        typer.Option("--concurrency", min=1, metavar="N", help="Worker processes (default: CPUs)."),
    ] = None,
    pool: Annotated[
        str, typer.Option("--pool", metavar="POOL", help="Celery pool: prefork, solo, threads.")
    ] = "prefork",
    queues: Annotated[
        str | None,
        typer.Option(
            "--queues",
            "-Q",
            metavar="KINDS",
            help="Queue kinds to consume, comma-separated: poll, intake, push, maintenance (all).",
        ),
    ] = None,
    loglevel: Annotated[str, typer.Option("--loglevel", metavar="LEVEL")] = "INFO",
    metrics_dir: MetricsDirOption = None,
    celery_args: Annotated[
        list[str] | None, typer.Argument(metavar="[-- CELERY-ARGS]", show_default=False)
    ] = None,
) -> None:
    """Run a Celery worker: polls, webhook events, pushes and reconciliation, as tasks.

    Start as many as the accounts need, on as many machines as share the PostgreSQL store
    and the broker; `omnisdk beat` (once) schedules their work.
    """
    state = get_state(ctx)
    env = _celery_env(state, metrics_dir)
    from omnisdk.runtime.celery.schedule import QUEUES

    prefix = state.config().celery.queue
    kinds = [k.strip() for k in (queues or ",".join(QUEUES)).split(",") if k.strip()]
    unknown = sorted(set(kinds) - set(QUEUES))
    if unknown:
        raise typer.BadParameter(
            f"unknown queue kinds {unknown}; expected some of {list(QUEUES)}", param_hint="-Q"
        )
    arguments = ["worker", "--loglevel", loglevel, "--pool", pool, "-Q"]
    arguments.append(",".join(f"{prefix}.{kind}" for kind in kinds))
    if concurrency is not None:
        arguments += ["--concurrency", str(concurrency)]
    _exec_celery([*arguments, *(celery_args or [])], env)


def beat(
    ctx: typer.Context,
    schedule: Annotated[
        Path | None,
        typer.Option(
            "--schedule",
            "-s",
            metavar="PATH",
            dir_okay=False,
            help="Where beat keeps its last run times (default: ./celerybeat-schedule).",
        ),
    ] = None,
    loglevel: Annotated[str, typer.Option("--loglevel", metavar="LEVEL")] = "INFO",
    celery_args: Annotated[
        list[str] | None, typer.Argument(metavar="[-- CELERY-ARGS]", show_default=False)
    ] = None,
) -> None:
    """Run Celery beat: enqueues every account's polls and reconciliations, and the push
    dispatcher, on the intervals of the config. Run exactly one per deployment."""
    state = get_state(ctx)
    env = _celery_env(state, None)
    arguments = ["beat", "--loglevel", loglevel]
    if schedule is not None:
        arguments += ["--schedule", str(schedule)]
    _exec_celery([*arguments, *(celery_args or [])], env)


def webhooks(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option("--host", metavar="HOST", help="Default: [engine] webhook_host.")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option("--port", min=0, max=65535, metavar="PORT", help="Default: webhook_port."),
    ] = None,
) -> None:
    """Receive webhooks at POST /webhooks/ACCOUNT and enqueue each delivery for the workers."""
    state = get_state(ctx)
    _require_celery()
    config = state.config()

    async def main() -> None:
        from omnisdk.runtime.celery.receiver import BrokerReceiver
        from omnisdk.sync.engine import Engine

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, stop.set)
        async with Engine(config, plugins=state.plugins, lazy_channels=True) as engine:
            receiver = BrokerReceiver(
                engine,
                host=host or config.engine.webhook_host,
                port=config.engine.webhook_port if port is None else port,
            )
            await receiver.serve(stop)

    asyncio.run(main())
    print_note("webhook receiver stopped")


def metrics(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", metavar="HOST")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, metavar="PORT")] = 9464,
    metrics_dir: MetricsDirOption = None,
) -> None:
    """Serve Prometheus /metrics: the workers' counters (--metrics-dir) and, per account,
    intake lag, outbox depth, failed pushes and token expiry read from the store."""
    state = get_state(ctx)
    _require_celery()
    config = state.config()
    from wsgiref.simple_server import make_server

    from prometheus_client import make_wsgi_app

    from omnisdk.runtime.celery.metrics import metrics_registry
    from omnisdk.store import open_store

    store = open_store(config.store.url, migrate=False)
    directory = str(metrics_dir) if metrics_dir is not None else None
    registry = metrics_registry(store, directory)
    server = make_server(host, port, make_wsgi_app(registry))
    print_note(f"metrics at http://{host}:{server.server_port}/metrics (Ctrl+C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        store.close()
