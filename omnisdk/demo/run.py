"""One run of the demo, step by step: shops, engine, buyers, settling, reconciling.

:func:`run_demo` is the whole demo (the steps are in the package doc, :mod:`omnisdk.demo`);
it returns the :class:`~omnisdk.demo.report.DemoSummary` and calls back with snapshots for a
live view. It renders nothing: the CLI does (``omnisdk/cli/demo_render.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from omnisdk.demo.buyers import BuyerTally, shop
from omnisdk.demo.config import write_demo_config
from omnisdk.demo.outcome import DemoRun, OrderCounter, mismatches, snapshot, summarise
from omnisdk.demo.report import DemoSnapshot, DemoSummary
from omnisdk.demo.scenario import DEMO_CATALOG
from omnisdk.demo.shops import serve_sandboxes, shop_channel_types
from omnisdk.errors import PluginError, ServiceError, UsageError

if TYPE_CHECKING:
    from omnisdk.plugins import Plugins

__all__ = ["BUYER_PAUSE", "run_demo"]

logger = logging.getLogger("omnisdk.demo")

BUYER_PAUSE = (0.6, 1.6)
"""Seconds a buyer waits between two orders (drawn in this range): a human pace."""


async def run_demo(
    plugins: Plugins,
    *,
    duration: float = 8.0,
    buyers: int = 4,
    seed: int = 0,
    safety_buffer: int = 1,
    on_snapshot: Callable[[DemoSnapshot], None] | None = None,
    on_phase: Callable[[str], None] | None = None,
    refresh: float = 0.5,
    keep_dir: Path | None = None,
    rate_limits: bool = False,
) -> DemoSummary:
    """Run the whole demo (see the package doc) and return its summary.

    ``duration`` is how long buyers shop (seconds); ``buyers`` how many shop at once, spread
    over the channels. ``safety_buffer`` units of every SKU are held back from every channel
    — the usual guard against two channels selling the last unit in the same instant.
    ``on_snapshot`` is called every ``refresh`` seconds (the live display) and
    ``on_phase`` at each step. ``keep_dir`` keeps the config and database there instead of a
    temporary directory. The sandboxes do not enforce the platforms' request budgets, so the
    channels' declared rate limits are lifted unless ``rate_limits`` is True (at the buyers'
    pace — several orders a second — a real platform's budget of a few requests a second
    would be the bottleneck, not the engine).
    """
    from omnisdk.config import load_config
    from omnisdk.runtime.local import LocalRuntime
    from omnisdk.sync.engine import Engine
    from omnisdk.testing.registration import unthrottled

    def phase(text: str) -> None:
        logger.info("%s", text)
        if on_phase is not None:
            on_phase(text)

    if buyers < 1:
        raise UsageError("the demo needs at least one buyer")
    types = shop_channel_types(plugins)
    if not types:
        raise PluginError(
            "no installed channel plugin ships a sandbox; install a channel plugin with its "
            "sandbox extra (pip install 'omnisdk-<channel>[sandbox]') or the example plugin"
        )
    catalog = list(DEMO_CATALOG)
    rng = random.Random(seed)
    with contextlib.ExitStack() as stack:
        directory = keep_dir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        directory.mkdir(parents=True, exist_ok=True)
        phase(f"starting {len(types)} sandboxes: {', '.join(name for name, _ in types)}")
        async with serve_sandboxes(types, seed=seed) as channels:
            for channel in channels:
                await channel.control.seed([item.seed() for item in catalog])
            config_path = write_demo_config(directory, channels, safety_buffer=safety_buffer)
            config = load_config(config_path, plugins=plugins)
            counter = OrderCounter()
            plugins.register(counter, name=f"omnisdk.demo.counter.{id(counter)}")
            try:
                async with Engine(config, plugins=plugins) as engine:
                    if not rate_limits:
                        for account_channel in engine.channels.values():
                            unthrottled(account_channel)
                    runtime = LocalRuntime(engine, port=0, grace=5.0, initial_poll=False)
                    run = DemoRun(
                        engine=engine,
                        runtime=runtime,
                        channels=channels,
                        catalog=catalog,
                        tallies={c.account: BuyerTally() for c in channels},
                        counter=counter,
                        started=time.monotonic(),
                    )
                    summary = await _run(
                        run,
                        rng,
                        duration=duration,
                        buyers=buyers,
                        buffer=safety_buffer,
                        phase=phase,
                        on_snapshot=on_snapshot,
                        refresh=refresh,
                    )
            finally:
                plugins.unregister(counter)
        kept = str(config_path) if keep_dir is not None else None
        return summary.model_copy(update={"config": kept})


async def _wait_converged(run: DemoRun, within: float) -> bool:
    """Wait until every channel lists what the engine says it may sell (at most ``within`` s)."""
    deadline = time.monotonic() + within
    while True:
        run.runtime.wake_pushers()
        if not await mismatches(run) and run.engine.store.outbox_depth() == 0:
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.1)


async def _run(
    run: DemoRun,
    rng: random.Random,
    *,
    duration: float,
    buyers: int,
    buffer: int,
    phase: Callable[[str], None],
    on_snapshot: Callable[[DemoSnapshot], None] | None,
    refresh: float,
) -> DemoSummary:
    engine, runtime = run.engine, run.runtime
    first = run.channels[0]
    run.phase = "importing the catalog"
    phase(f"importing the master catalog from {first.account}; binding the others by SKU")
    for channel in run.channels:
        await engine.import_catalog(channel.account)
    for item in run.catalog:
        await engine.set_stock(item.sku, item.stock, reason="count")
    await runtime.start()
    stop_display = asyncio.Event()
    display = (
        asyncio.create_task(_display(run, on_snapshot, refresh, stop_display))
        if on_snapshot is not None
        else None
    )
    try:
        for channel in run.channels:
            await channel.control.set_webhook_url(runtime.webhook_url(channel.account))
        run.phase = "listing sellable stock"
        phase("pushing sellable stock to every channel")
        if not await _wait_converged(run, within=15.0):
            raise ServiceError("the channels did not reach the starting stock within 15 s")
        run.phase = "buyers shopping"
        phase(f"{buyers} buyers shop on {len(run.channels)} channels for {duration:g} s")
        await _shop(run, rng, buyers=buyers, duration=duration)
        run.phase = "settling"
        phase("buyers done; polling every channel once more and letting the pushers settle")
        for channel in run.channels:
            await channel.control.drain_webhooks(10.0)
        # Twice: a unit an absolute write may have undone stays held until the account's
        # orders are known past that write, and the settling pushes wrote after the first poll.
        for _ in range(2):
            for channel in run.channels:
                await engine.poll_orders(channel.account)
            await _wait_converged(run, within=10.0)
        run.phase = "reconciling"
        phase("reconciling: every channel's listed stock read back and compared")
        run.reconcile = await engine.reconcile()
        await _wait_converged(run, within=10.0)
        for channel in run.channels:  # what a repair wrote is settled by the orders after it
            await engine.poll_orders(channel.account)
        if not await _wait_converged(run, within=10.0):
            logger.warning("listed stock did not converge within 10 s of reconciling")
        run.phase = "done"
    finally:
        stop_display.set()
        if display is not None:
            await display
        for channel in run.channels:
            with contextlib.suppress(Exception):
                await channel.control.set_webhook_url(None)
        await runtime.stop()
    summary = await summarise(run, duration=duration, buyers=buyers, buffer=buffer)
    if on_snapshot is not None:
        on_snapshot(await snapshot(run))
    return summary


async def _shop(run: DemoRun, rng: random.Random, *, buyers: int, duration: float) -> None:
    """``buyers`` buyers shop at once for ``duration`` seconds, dealt over the channels."""
    deadline = time.monotonic() + duration
    shoppers = []
    for index in range(buyers):
        channel = run.channels[index % len(run.channels)]
        shoppers.append(
            shop(
                channel,
                run.catalog,
                run.tallies[channel.account],
                rng=random.Random(rng.random()),
                deadline=deadline,
                pause=BUYER_PAUSE,
            )
        )
    await asyncio.gather(*shoppers)


async def _display(
    run: DemoRun,
    on_snapshot: Callable[[DemoSnapshot], None],
    refresh: float,
    stop: asyncio.Event,
) -> None:
    while not stop.is_set():
        try:
            on_snapshot(await snapshot(run))
        except Exception:  # the display must never break the demo
            logger.debug("demo snapshot failed", exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), refresh)
