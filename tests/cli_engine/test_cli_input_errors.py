"""Every input error the CLI can meet ends the same way: a non-zero exit, exactly one line on
stderr (``error: ...`` saying what and where), nothing on stdout, never a traceback.

The walk goes through the real ``omnisdk`` app (typer's CliRunner, as the console script
runs it) over a store with the catalog imported, and a few cases again in a subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from _engine_cli_testkit import Invoke, Shop

BAD_CONFIGS = {  # file name: (content, what the line must name)
    "broken.toml": ("[[channels]\nname = 'a'\n", "invalid TOML"),
    "unknown-type.toml": ('[[channels]]\nname = "a"\ntype = "shopfy"\n', "'shopfy'"),
    "bad-locations.toml": ('[engine]\nlocations = "kho-hà-nội"\n', "locations"),
    "bad-duration.toml": ('[engine]\npush_interval = "soon"\n', "push_interval"),
    "bad-name.toml": ('[[channels]]\nname = "cửa hàng"\ntype = "example"\n', "'cửa hàng'"),
}

# (arguments, exit code, words the one line must hold)
STOCK_CASES = [
    (["stock", "set", "NO-SUCH-SKU", "5"], 1, ["'NO-SUCH-SKU'", "master catalog", "import"]),
    (["stock", "adjust", "NO-SUCH-SKU", "-1"], 1, ["'NO-SUCH-SKU'", "catalog import"]),
    (["stock", "set", "NON-LA-HUE", "5", "--location", "nowhere"], 1, ["'nowhere'", "[engine]"]),
    (["stock", "adjust", "NON-LA-HUE", "2", "-l", "nowhere"], 1, ["'nowhere'", "locations"]),
    (["stock", "adjust", "TRANH-SON-MAI", "-99300"], 1, ["on hand is 2", "cannot remove 99300"]),
    (["stock", "set", "NON-LA-HUE", str(10**30)], 1, ["1.000e+30", "out of range"]),
    (["stock", "set", "NON-LA-HUE", "-1"], 1, ["-1", "out of range"]),
    (["stock", "set", "NON-LA-HUE", "1000000001"], 1, ["1000000001", "MAX_QUANTITY"]),
    (["stock", "adjust", "NON-LA-HUE", str(-(10**30))], 1, ["out of range"]),
    (["stock", "adjust", "NON-LA-HUE", "999999999"], 1, ["would exceed", "MAX_QUANTITY"]),
    (["stock", "set", "NÓN\tLÁ", "1"], 1, ["control character (U+0009)", "position 3"]),
    (["stock", "set", "\u200b\u200b", "1"], 1, ["only of invisible characters"]),
    (["stock", "show", "NÓN\x1bLÁ"], 1, ["control character (U+001B)"]),
    (["stock", "set", "NON-LA-HUE", "mười"], 2, ["'QUANTITY'", "integer", "stock set -h"]),
    (["stock", "adjust", "NON-LA-HUE"], 2, ["DELTA"]),
    (["orders", "list", "--status", "shipped-ish"], 2, ["not an order status"]),
    (["sync"], 2, ["omnisdk run"]),
    (["stok", "show", "NON-LA-HUE"], 2, ["No such command 'stok'", "stock"]),
    (["catalog", "import", "-C", "da-nang-shop"], 1, ["no channel named 'da-nang-shop'"]),
    (["quarantine", "retry", "424242"], 1, ["no quarantine entry 424242"]),
]


def one_line_error(result: object, code: int, words: list[str]) -> str:
    """The single ``error:`` line of ``result``, after checking the contract."""
    output = getattr(result, "output", "")
    stdout, stderr = getattr(result, "stdout", ""), getattr(result, "stderr", "")
    assert getattr(result, "exit_code", None) == code, output
    assert "Traceback" not in output
    assert stdout == ""
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize(("args", "code", "words"), STOCK_CASES, ids=lambda v: str(v)[:40])
def test_every_input_error_is_one_line(
    invoke: Invoke, imported: list[Shop], args: list[str], code: int, words: list[str]
) -> None:
    one_line_error(invoke(*args), code, words)


def test_nothing_was_changed_by_the_refused_commands(invoke: Invoke, imported: list[Shop]) -> None:
    for args, _, _ in STOCK_CASES:
        invoke(*args)
    shown = invoke("stock", "show", "NON-LA-HUE", "--json", "--offline")
    assert '"location": "main"' in shown.stdout and '"on_hand": 12' in shown.stdout
    assert "nowhere" not in shown.stdout
    assert "NO-SUCH-SKU" not in invoke("stock", "show", "NO-SUCH-SKU", "--offline").stdout


@pytest.mark.parametrize("name", sorted(BAD_CONFIGS))
def test_every_config_error_is_one_line(
    invoke: Invoke, shops: list[Shop], tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    content, named = BAD_CONFIGS[name]
    path.write_text(content, encoding="utf-8")
    one_line_error(invoke("-c", str(path), "status", config=False), 1, [name, named])


def test_a_missing_config_is_one_line(invoke: Invoke, shops: list[Shop], tmp_path: Path) -> None:
    missing = tmp_path / "không-có.toml"
    one_line_error(
        invoke("-c", str(missing), "stock", "set", "NON-LA-HUE", "1", config=False),
        1,
        ["không-có.toml", "config file not found"],
    )


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["stock", "set", "NO-SUCH-SKU", "5"], 1, ["master catalog"]),
        (["stock", "set", "X", str(10**30)], 1, ["out of range"]),
        (["stock", "set", "X", "5", "--location", "nowhere"], 1, ["'X'"]),
        (["stock", "adjust", "X", "-5"], 1, ["master catalog"]),
        (["stock", "set", "X", "năm"], 2, ["QUANTITY"]),
    ],
)
def test_the_console_script_prints_the_same_one_line(
    tmp_path: Path, args: list[str], code: int, words: list[str]
) -> None:
    config = tmp_path / "omnisdk.toml"
    config.write_text('[store]\nurl = "sqlite:///omnisdk.db"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "OMNISDK_CONFIG"}
    done = subprocess.run(
        [sys.executable, "-m", "omnisdk", "-c", str(config), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={**env, "COLUMNS": "80"},
        timeout=120,
        check=False,
    )
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("error: ")
    for word in words:
        assert word in line, line
