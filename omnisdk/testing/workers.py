"""The scale-out runtime as real processes, for tests and benchmarks: ``omnisdk webhooks``,
``omnisdk beat`` and N ``omnisdk worker`` processes on one config, killed and started at will.

:class:`WorkerFleet` has the interface of :class:`omnisdk.testing.chaos.EngineProcess`
(``start``, ``kill``, ``stop``, ``running``, ``tracebacks``), so a chaos run drives either
runtime. :meth:`WorkerFleet.kill` SIGKILLs one worker (a random one among those running a
task, chosen by the fleet's seed) in the middle of that task; :meth:`WorkerFleet.start` starts
whatever is not running. Each worker is one process (``--pool solo``): a kill is a worker lost
with its task in hand.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import httpx

__all__ = [
    "ChildProcess",
    "WorkerFleet",
    "process_cpu_seconds",
    "task_counts",
    "traceback_tails",
]


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` and its waited-for children (Linux
    ``/proc``; 0 elsewhere or once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


class ChildProcess:
    """A child process the kits start, kill and stop at will (``process`` once started)."""

    process: subprocess.Popen[Any] | None = None

    @property
    def running(self) -> bool:
        """True while the process is alive."""
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no cleanup, no grace, as a power cut or the OOM killer."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self, within: float = 30.0) -> int:
        """SIGTERM and wait ``within`` s for a clean exit (else SIGKILL); the exit code."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(within)
        except subprocess.TimeoutExpired:
            self.kill()
        return int(self.process.returncode)


class _Process(ChildProcess):
    """One ``omnisdk`` process with its log file."""

    def __init__(self, name: str, arguments: list[str]) -> None:
        self.name = name
        self.arguments = arguments
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.logs: list[Path] = []

    def start(self, workdir: Path, env: dict[str, str]) -> Path:
        self.starts += 1
        log = workdir / f"{self.name}-{self.starts}.log"
        self.logs.append(log)
        output: IO[bytes] = log.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            [sys.executable, "-m", "omnisdk", *self.arguments],
            cwd=workdir,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        output.close()
        return log

    def ready(self) -> bool:
        """True when the running process's log says its worker consumes."""
        return self.running and bool(self.logs) and b" ready." in self.logs[-1].read_bytes()

    def in_task(self) -> bool:
        """True when the log's last task received has not finished (Celery's INFO lines)."""
        if not self.logs:
            return False
        lines = self.logs[-1].read_text(encoding="utf-8", errors="replace").splitlines()
        for line in reversed(lines):
            if "] received" in line:
                return True
            if "] succeeded in" in line or "] raised" in line or " ready." in line:
                return False
        return False


class WorkerFleet:
    """``workers`` workers, one beat and one webhook receiver (on ``webhook_port``) for the
    ``omnisdk.toml`` in ``workdir``; ``plugins`` are the entry points they load."""

    def __init__(
        self,
        workdir: Path,
        webhook_port: int,
        *,
        plugins: list[str],
        workers: int = 4,
        seed: int = 0,
        beat: bool = True,
        metrics_dir: Path | None = None,
    ) -> None:
        self.workdir = workdir
        self.webhook_port = webhook_port
        self.env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("OMNISDK_CONFIG", "OMNISDK_DISABLE_PLUGINS", "COLUMNS")
        }
        self.env.update({"OMNISDK_LOAD_PLUGINS": ",".join(plugins), "PYTHONUNBUFFERED": "1"})
        extra = ["--metrics-dir", str(metrics_dir)] if metrics_dir is not None else []
        self.workers = [
            _Process(
                f"worker{index}",
                [
                    "worker",
                    "--pool",
                    "solo",
                    "--loglevel",
                    "INFO",  # the "ready." line tells the worker consumes
                    *extra,
                    "--",
                    "-n",
                    f"worker{index}@%h",
                    "--without-mingle",
                    "--without-gossip",
                ],
            )
            for index in range(workers)
        ]
        self.others = [_Process("webhooks", ["webhooks", "--port", str(webhook_port)])]
        if beat:
            schedule = workdir / "celerybeat-schedule"
            self.others.append(
                _Process("beat", ["beat", "--loglevel", "WARNING", "--schedule", str(schedule)])
            )
        self.random = random.Random(seed)
        self.kills = 0
        self.mid_task_kills = 0
        """Kills of a worker whose log showed a task received and not finished."""

    @property
    def processes(self) -> list[_Process]:
        """Every process of the fleet."""
        return [*self.workers, *self.others]

    @property
    def running(self) -> bool:
        """True while every process runs."""
        return all(process.running for process in self.processes)

    def start(self, within: float = 180.0) -> dict[str, Any]:
        """Start what is not running. The first time, returns once the receiver answers and
        every worker consumes; a restart after a kill returns at once (the others work on)."""
        started: list[tuple[_Process, Path]] = []
        for process in self.processes:
            if not process.running:
                started.append((process, process.start(self.workdir, self.env)))
        deadline = time.monotonic() + within
        for process, log in started:
            if process in self.workers and process.starts == 1:
                self._wait_ready(process, log, deadline)
        self._wait_receiver(deadline)
        return {"event": "started", "workers": len(self.workers)}

    def _wait_ready(self, process: _Process, log: Path, deadline: float) -> None:
        while time.monotonic() < deadline:
            if not process.running:
                break
            if b" ready." in log.read_bytes():
                return
            time.sleep(0.05)
        text = log.read_text(encoding="utf-8", errors="replace")[-2000:]
        raise RuntimeError(f"{process.name} did not start: {text}")

    def wait_ready(self, within: float = 180.0) -> None:
        """Wait until every worker consumes (after restarts)."""
        deadline = time.monotonic() + within
        for process in self.workers:
            if not process.running:
                process.start(self.workdir, self.env)
            self._wait_ready(process, process.logs[-1], deadline)

    def _wait_receiver(self, deadline: float) -> None:
        url = f"http://127.0.0.1:{self.webhook_port}/healthz"
        while time.monotonic() < deadline:
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError("the webhook receiver did not start")

    def cpu_seconds(self) -> float:
        """CPU seconds the running processes of the fleet have used."""
        return sum(
            process_cpu_seconds(process.process.pid)
            for process in self.processes
            if process.running and process.process is not None
        )

    def kill(self) -> None:
        """SIGKILL one running worker, mid-task: no cleanup, no grace."""
        alive = [worker for worker in self.workers if worker.ready()]
        alive = alive or [worker for worker in self.workers if worker.running]
        if alive:
            busy = [worker for worker in alive if worker.in_task()]
            victim = self.random.choice(busy or alive)
            self.mid_task_kills += victim.in_task()
            victim.kill()
            self.kills += 1

    def kill_all(self) -> None:
        """SIGKILL every process of the fleet."""
        for process in self.processes:
            process.kill()

    def delete_queues(self) -> None:
        """Delete the broker queues of the fleet's config (a run's queues are its own)."""
        from kombu.connection import Connection

        from omnisdk.config import load_config
        from omnisdk.runtime.celery.schedule import QUEUES

        settings = load_config(self.workdir / "omnisdk.toml").celery
        with Connection(settings.broker_url, connect_timeout=5) as connection:  # type: ignore[no-untyped-call]
            channel = connection.default_channel
            for kind in QUEUES:
                channel.queue_delete(f"{settings.queue}.{kind}")

    def stop(self, within: float = 30.0) -> int:
        """SIGTERM every process at once (workers finish their task), wait up to ``within``
        s for them all; the worst exit code."""
        for process in self.processes:
            if process.running and process.process is not None:
                process.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + within
        codes = []
        for process in self.processes:
            if process.process is None:
                continue
            try:
                process.process.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                process.kill()
            codes.append(int(process.process.returncode))
        return max((code for code in codes if code not in (0, -signal.SIGTERM)), default=0)

    def tracebacks(self) -> list[str]:
        """The last line of each traceback any process printed."""
        return traceback_tails(log for process in self.processes for log in process.logs)

    def task_counts(self) -> dict[str, int]:
        """Tasks the workers received so far, by task name (from their INFO logs, killed
        workers' included): what a run cost in messages."""
        return task_counts(log for worker in self.workers for log in worker.logs)

    def queue_depths(self) -> dict[str, int]:
        """Messages waiting now in each of the fleet's queues, by queue kind."""
        from kombu.connection import Connection

        from omnisdk.config import load_config
        from omnisdk.runtime.celery.schedule import QUEUES

        settings = load_config(self.workdir / "omnisdk.toml").celery
        depths = {}
        with Connection(settings.broker_url, connect_timeout=5) as connection:  # type: ignore[no-untyped-call]
            channel = connection.default_channel
            for kind in QUEUES:
                try:
                    declared = channel.queue_declare(f"{settings.queue}.{kind}", passive=True)
                    depths[kind] = int(declared.message_count)
                except Exception:  # not declared yet: nothing waits there
                    depths[kind] = 0
                    channel = connection.channel()
        return depths


_RECEIVED = re.compile(r"Task (omnisdk\.[a-z_]+)\[[^\]]*\] received")


def task_counts(logs: Iterable[Path]) -> dict[str, int]:
    """How many tasks of each name Celery's INFO lines in ``logs`` say were received."""
    counts: dict[str, int] = {}
    for log in logs:
        text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
        for match in _RECEIVED.finditer(text):
            counts[match[1]] = counts.get(match[1], 0) + 1
    return dict(sorted(counts.items()))


def traceback_tails(logs: Iterable[Path]) -> list[str]:
    """``LOG-NAME: last line`` of each traceback printed in ``logs`` (missing files: none)."""
    found = []
    for log in logs:
        text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
        lines = text.splitlines()
        for index, line in enumerate(lines):
            if line.startswith("Traceback (most recent call last)"):
                tail = next(
                    (later for later in lines[index + 1 :] if later and later[0] != " "), "?"
                )
                found.append(f"{log.name}: {tail}")
    return found
