"""``omnisdk check``: every account checked concurrently, reported, failures exit 1."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from _cli_testkit import GOOD_TOKEN, Invoke, memshop_config

from omnisdk.channel import ChannelInfo
from omnisdk.cli.check import ChannelCheck

ConfigFile = Callable[[str], Path]


def test_all_accounts_ok(invoke: Invoke, config_file: ConfigFile) -> None:
    config_file(memshop_config(("hanoi", "Hà Nội", GOOD_TOKEN), ("hcm", "Sài Gòn", GOOD_TOKEN)))
    result = invoke("check", "--json")
    assert result.exit_code == 0, result.stderr
    checks = [ChannelCheck.model_validate(item) for item in json.loads(result.stdout)]
    assert checks == [
        ChannelCheck(
            name="hanoi",
            type="memshop",
            ok=True,
            info=ChannelInfo(
                name="Cửa hàng Hà Nội",
                currency="VND",
                timezone="Asia/Ho_Chi_Minh",
                details={"plan": "basic"},
            ),
        ),
        ChannelCheck(
            name="hcm",
            type="memshop",
            ok=True,
            info=ChannelInfo(
                name="Cửa hàng Sài Gòn",
                currency="VND",
                timezone="Asia/Ho_Chi_Minh",
                details={"plan": "basic"},
            ),
        ),
    ]


def test_a_failed_account_is_reported_redacted_and_exits_1(
    invoke: Invoke, config_file: ConfigFile
) -> None:
    stolen = "shpat_leaked_1234567"
    config_file(
        memshop_config(
            ("hanoi", "Hà Nội", GOOD_TOKEN),
            ("hcm", "Sài Gòn", stolen),
            ("bug", "buggy", "shpat_bug_secret"),
        )
    )
    result = invoke("check", "--json")
    assert result.exit_code == 1
    by_name = {item["name"]: item for item in json.loads(result.stdout)}
    assert by_name["hanoi"]["ok"] is True
    assert by_name["hcm"] == {
        "name": "hcm",
        "type": "memshop",
        "ok": False,
        "info": None,
        "error": "memshop/hcm: token *** refused",
    }
    assert by_name["bug"]["error"] == "RuntimeError: boom while using ***"
    assert stolen not in result.output and "shpat_bug_secret" not in result.output
    assert "2 of 3 channel accounts failed" in result.stderr


def test_accounts_are_checked_concurrently_and_time_out(
    invoke: Invoke, config_file: ConfigFile
) -> None:
    config_file(
        memshop_config(
            ("s1", "slow", GOOD_TOKEN),
            ("s2", "slow", GOOD_TOKEN),
            ("s3", "slow", GOOD_TOKEN),
            ("ok", "Huế", GOOD_TOKEN),
        )
    )
    started = time.monotonic()
    result = invoke("check", "--json", "--timeout", "0.5")
    elapsed = time.monotonic() - started
    assert result.exit_code == 1
    errors = {item["name"]: item["error"] for item in json.loads(result.stdout)}
    assert errors == {
        "s1": "no answer within 0.5s",
        "s2": "no answer within 0.5s",
        "s3": "no answer within 0.5s",
        "ok": None,
    }
    assert elapsed < 1.4  # three 0.5 s time-outs one after the other would take 1.5 s


def test_human_table(invoke: Invoke, config_file: ConfigFile) -> None:
    config_file(memshop_config(("hanoi", "Hà Nội", GOOD_TOKEN), ("hcm", "Sài Gòn", "nope-123")))
    result = invoke("check")
    assert result.exit_code == 1
    assert "Cửa hàng Hà Nội" in result.stdout
    assert "failed" in result.stdout and "refused" in result.stdout
    assert "nope-123" not in result.output


def test_an_invalid_settings_table_fails_the_whole_config(
    invoke: Invoke, config_file: ConfigFile
) -> None:
    config_file(
        '[[channels]]\nname = "hn"\ntype = "memshop"\n'
        '[channels.settings]\nshop = "HN"\naccess_token = 42\n'
    )
    result = invoke("check")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "error: omnisdk.toml:6, key 'channels[0].settings.access_token': "
    )
    assert "42" not in result.stderr.split("access_token': ")[1]
