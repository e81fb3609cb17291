"""``stock set`` / ``stock adjust`` refuse, in one line, what would make a silent wrong state."""

from __future__ import annotations

import json

from _engine_cli_testkit import Invoke, Shop


def pool(invoke: Invoke, sku: str) -> list[dict[str, object]]:
    shown = invoke("stock", "show", sku, "--json", "--offline")
    assert shown.exit_code == 0, shown.output
    locations: list[dict[str, object]] = json.loads(shown.stdout)["locations"]
    return locations


def test_an_unknown_sku_is_an_error_naming_it(invoke: Invoke, imported: list[Shop]) -> None:
    result = invoke("stock", "set", "NO-SUCH-SKU", "5")

    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "error: SKU 'NO-SUCH-SKU' is not in the master catalog; import it first "
        "(omnisdk catalog import ACCOUNT) or check the spelling"
    ]
    assert pool(invoke, "NO-SUCH-SKU") == []


def test_an_unknown_location_is_an_error_naming_it(invoke: Invoke, imported: list[Shop]) -> None:
    result = invoke("stock", "set", "NON-LA-HUE", "5", "--location", "nowhere")

    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert "location 'nowhere' is not known (known: main)" in line
    assert "[engine] locations" in line
    assert [level["location"] for level in pool(invoke, "NON-LA-HUE")] == ["main"]


def test_a_removal_below_zero_says_what_is_on_hand(invoke: Invoke, imported: list[Shop]) -> None:
    result = invoke("stock", "adjust", "TRANH-SON-MAI", "-99300")

    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "error: TRANH-SON-MAI at main: on hand is 2, cannot remove 99300 (it would become "
        "-99298); record a stock count with `stock set` instead"
    ]
    assert pool(invoke, "TRANH-SON-MAI")[0]["on_hand"] == 2


def test_a_negative_delta_is_an_argument_not_an_option(
    invoke: Invoke, imported: list[Shop]
) -> None:
    result = invoke("stock", "adjust", "TRANH-SON-MAI", "-1", "--no-push")

    assert result.exit_code == 0, result.output
    assert "TRANH-SON-MAI: on hand -1" in result.stderr
    assert pool(invoke, "TRANH-SON-MAI")[0]["on_hand"] == 1


def test_a_count_out_of_range_is_one_line(invoke: Invoke, imported: list[Shop]) -> None:
    result = invoke("stock", "set", "NON-LA-HUE", str(10**30))

    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "error: NON-LA-HUE: a stock count 1.000e+30 is out of range: it must be between 0 and "
        "1,000,000,000 (MAX_QUANTITY)"
    ]
    assert "Traceback" not in result.output
