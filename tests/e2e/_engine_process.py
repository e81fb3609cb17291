"""Run the engine in a process of its own until told to stop (the crash test kills it).

Usage: ``python _engine_process.py CONFIG STOP_FILE``. Registers the Example channel, opens
the engine on the config, prints ``ready`` and runs sync cycles (poll, push) every 50 ms until
STOP_FILE exists.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from omnisdk_example.channel import ExampleChannel

from omnisdk.plugins import Plugins
from omnisdk.sync import Engine
from omnisdk.testing.registration import ContributeChannels, unthrottled


async def main(config: Path, stop: Path) -> None:
    """Cycle until ``stop`` exists."""
    plugins = Plugins(entry_points=False)
    plugins.register(ContributeChannels(ExampleChannel), name="example")
    async with Engine.from_config_file(config, plugins=plugins) as engine:
        for channel in engine.channels.values():
            unthrottled(channel)
        print("ready", flush=True)
        while not await asyncio.to_thread(stop.exists):
            await engine.sync_once(reconcile=False)
            await asyncio.sleep(0.05)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2])))
