"""``omnisdk demo``: every installed channel's sandbox, one engine, buyers everywhere at once.

The demo is a program built on the engine and the test kit (:mod:`omnisdk.testing`), kept
out of the engine package: the engine never imports the test kit.
"""

from omnisdk.demo.run import (
    DEMO_CATALOGUE,
    BuyerTally,
    ChannelSummary,
    DemoChannel,
    DemoItem,
    DemoSnapshot,
    DemoSummary,
    SkuSnapshot,
    SkuSummary,
    demo_channel_types,
    run_demo,
    serve_sandboxes,
    write_demo_config,
)

__all__ = [
    "DEMO_CATALOGUE",
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
