"""``omnisdk demo``: in-process with the Example channel, and as a real process with every
installed channel plugin (the Quickstart's first command)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from omnisdk import Plugins
from omnisdk.cli import build_app
from omnisdk.demo import DEMO_CATALOG, DemoSummary


def check_invariants(summary: DemoSummary) -> None:
    """What the demo promises, checked from its own JSON."""
    assert summary.ok, summary.problems
    assert summary.problems == []
    assert summary.oversold_units == 0
    assert summary.orders_in_one_book and summary.listed_converged
    assert summary.ledger_consistent
    assert summary.oversells_in_book == 0
    assert summary.orders == sum(channel.orders for channel in summary.channels) > 0
    for channel in summary.channels:
        assert channel.orders_in_book == channel.orders
        assert channel.units_match and channel.listed_matches_sellable
    starts = {item.sku: item.stock for item in DEMO_CATALOG}
    assert {sku.sku for sku in summary.skus} == set(starts)
    for sku in summary.skus:
        assert sku.start == starts[sku.sku]
        assert 0 <= sku.sold <= sku.start
        assert sku.on_hand - sku.reserved == sku.start - sku.sold
        assert sku.listed == sku.sellable
        # Quota allocation (the default): the channels share the free units (none lists more
        # than the pool less its safety buffer) and every unit that fits is listed once.
        free = sku.start - sku.sold
        cap = max(free - summary.safety_buffer, 0)
        assert max(sku.listed.values()) <= cap
        assert sum(sku.listed.values()) == min(free, cap * len(sku.listed))


def test_demo_in_process_with_the_example_channel(
    plugins: Plugins, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    keep = tmp_path / "kept"

    result = CliRunner().invoke(
        build_app(plugins),
        ["demo", "--no-live", "--json", "--duration", "2", "--buyers", "3", "--keep", str(keep)],
        env={"COLUMNS": "200"},
    )

    assert result.exit_code == 0, result.output
    summary = DemoSummary.model_validate_json(result.stdout)
    check_invariants(summary)
    assert [channel.channel_type for channel in summary.channels] == ["example"]
    assert summary.buyers == 3
    assert "buyers shop on 1 channels" in result.stderr
    assert (keep / "omnisdk.toml").is_file() and (keep / "omnisdk.db").is_file()


def test_demo_without_any_sandbox_says_what_to_install(tmp_path: Path) -> None:
    result = CliRunner().invoke(build_app(Plugins(entry_points=False)), ["demo", "--no-live"])

    assert result.exit_code == 1
    assert "no installed channel plugin ships a sandbox" in result.stderr


@pytest.mark.slow
def test_demo_subprocess_with_every_installed_plugin(tmp_path: Path) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("OMNISDK_CONFIG", "OMNISDK_LOAD_PLUGINS", "OMNISDK_DISABLE_PLUGINS")
    }
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "omnisdk",
            "demo",
            "--no-live",
            "--json",
            "--duration",
            "3",
            "--buyers",
            "3",
        ],
        cwd=tmp_path,
        env={**env, "PYTHONUNBUFFERED": "1"},
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr + completed.stdout
    summary = DemoSummary.model_validate_json(completed.stdout)
    check_invariants(summary)
    types = {channel.channel_type for channel in summary.channels}
    # The scaffold's Example channel is a test fixture: no merchant sells on it.
    assert "shopify" in types and "example" not in types
    assert "Traceback" not in completed.stderr
