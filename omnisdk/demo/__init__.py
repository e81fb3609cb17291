"""``omnisdk demo``: every installed channel's sandbox, one engine, buyers everywhere at once.

:func:`~omnisdk.demo.run.run_demo` shows the project's promise end to end, on loopback only:

1. every installed channel plugin that ships a sandbox is started on a loopback port
   (:class:`~omnisdk.testing.server.LoopbackServer`, in a process of its own: platforms are
   other machines, and their work must not slow the engine's interpreter down) and seeded
   through the control API with one catalog — Vietnamese products priced in VND, the same
   SKUs everywhere, a few of them nearly sold out;
2. a temporary ``omnisdk.toml`` (SQLite in a temporary directory) points an engine at them;
   the master catalog is imported from the first channel, the other channels' listings
   bind to it by SKU, and the starting stock is counted into the ledger;
3. the engine runs in-process (:class:`~omnisdk.runtime.local.LocalRuntime`: webhooks,
   pollers, pushers) while simulated buyers order on every channel concurrently. A channel
   refuses an order (HTTP 409) when its own listed stock is short — that is the system
   working: the engine told it the stock was gone;
4. afterwards the engine polls every channel once more, lets the pushers settle, runs a
   reconciliation (as the runtime does on its interval; what it repairs is reported), and
   the summary (:class:`~omnisdk.demo.report.DemoSummary`) checks the invariants: no SKU
   sold more units than it had, every order every channel took is in the one order book,
   the stock pool adds up, and every channel lists exactly what the engine says it may
   sell.

Buyers shop at a human pace (a pause of 0.6-1.6 s between orders, arriving one by one) and
every channel holds back a safety buffer of one unit: the engine closes the gap between a
sale and every other channel's listing in a fraction of a second (``benchmarks/
propagation.py``), but two buyers on two channels taking the last unit in the same instant
is a race no system can see coming; the buffer is how merchants cover it.

Nothing here is specific to a channel: channels whose sandbox needs special setup get it
through the Sandbox API (``channel_settings``/``client_credentials``).

The demo is a program on top of the engine and the test kit (:mod:`omnisdk.testing`), kept
out of the engine package: the engine never imports the test kit. It renders nothing; the
CLI draws its snapshots and summary (``omnisdk/cli/demo_render.py``).

==============================  ========================================================
``omnisdk.demo.scenario``       what is sold (the catalog) and by whom (the buyers)
``omnisdk.demo.shops``          each installed channel's sandbox, served on loopback
``omnisdk.demo.config``         the demo's ``omnisdk.toml``, pointing an engine at them
``omnisdk.demo.buyers``         buyers ordering on one channel at a human pace
``omnisdk.demo.outcome``        what a run observes, and the invariants it checks
``omnisdk.demo.report``         the snapshot and summary: plain data
``omnisdk.demo.run``            :func:`run_demo`, the whole demo step by step
==============================  ========================================================
"""

from omnisdk.demo.buyers import BuyerTally
from omnisdk.demo.config import write_demo_config
from omnisdk.demo.report import ChannelSummary, DemoSnapshot, DemoSummary, SkuSnapshot, SkuSummary
from omnisdk.demo.run import run_demo
from omnisdk.demo.scenario import DEMO_CATALOG, DemoItem
from omnisdk.demo.shops import DemoChannel, demo_channel_types, serve_sandboxes

__all__ = [
    "DEMO_CATALOG",
    "BuyerTally",
    "ChannelSummary",
    "DemoChannel",
    "DemoItem",
    "DemoSnapshot",
    "DemoSummary",
    "SkuSnapshot",
    "SkuSummary",
    "demo_channel_types",
    "run_demo",
    "serve_sandboxes",
    "write_demo_config",
]
