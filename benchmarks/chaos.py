"""Chaos: does ``omnisdk run`` lose, double or oversell anything under faults and SIGKILLs?

Serves a sandbox of every installed online channel (two Shopify shops and a Shopee shop) on
loopback and runs ``omnisdk run`` on a SQLite store, as a real process. Buyers place
``--orders`` orders (one or two units of a random SKU; a tenth of the time a buyer cancels one
of its orders instead) at ``--rate`` orders per second over every channel, while the
sandboxes fail requests (429 with Retry-After, 500/502/503), drop connections, add latency,
deliver webhooks twice, late and out of order, end every access token now and then, and the
engine is SIGKILLed at random moments and started again. Then the faults stop and the run
times how long the engine takes to converge (every order stored once with its status, the
ledger holding each order's units once, every listing what the engine says, the outbox
empty). Each row is a fresh store and fresh shops.

    python benchmarks/chaos.py                         # no faults, then the full mix
    python benchmarks/chaos.py --orders 5000 --kills 10
    python benchmarks/chaos.py --markdown --json

Columns: orders accepted (of those offered, and how many were cancelled), platform requests
the sandboxes failed or dropped on purpose, SIGKILLs, lost (accepted orders not stored,
cancellations not seen, units the ledger lost), doubled (orders whose units are held twice),
oversold (units on active orders beyond a SKU's stock, at its worst moment), and the seconds
from faults stopping until the engine converged ("-": not within ``--converge-within``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from omnisdk.testing.chaos import DEFAULT_FAULTS, ChaosOutcome, ChaosPlan, run_chaos

CLIENT_CREDENTIALS = ("shopify-1",)
"""Accounts that get their token by the client-credentials grant (a token that expires)."""

COLUMNS = (
    ("faults", "faults"),
    ("orders", "orders"),
    ("offered", "offered"),
    ("cancelled", "cancelled"),
    ("faults_injected", "faults injected"),
    ("kills", "kills"),
    ("reauthorised", "reauth"),
    ("lost", "lost"),
    ("doubled", "doubled"),
    ("oversold", "oversold"),
    ("converged_s", "converged s"),
)


def faults(args: argparse.Namespace) -> dict[str, Any]:
    """The sandboxes' fault settings from the command line."""
    chosen = {
        **DEFAULT_FAULTS,
        "error_rate": args.error_rate,
        "drop_rate": args.drop_rate,
        "latency": args.latency,
    }
    if args.no_webhook_faults:
        chosen.update(webhook_duplicate_rate=0.0, webhook_reorder=False, webhook_delay=0.0)
    return chosen


def plans(args: argparse.Namespace) -> list[ChaosPlan]:
    """A calm run (the baseline) and the full mix, or only the mix with ``--only-chaos``."""
    base = ChaosPlan(
        orders=args.orders,
        orders_per_second=args.rate,
        buyers=args.buyers,
        cancel_share=args.cancel_share,
        skus=args.skus,
        units=args.units,
        kills=args.kills,
        token_expiries=args.expiries,
        converge_within=args.converge_within,
        seed=args.seed,
        faults=faults(args),
        accounts=tuple(args.accounts.split(",")) if args.accounts else None,
        client_credentials=CLIENT_CREDENTIALS,
    )
    calm = replace(base, kills=0, token_expiries=0, faults={})
    if args.calm:
        return [calm]
    return [base] if args.only_chaos else [calm, base]


def render(outcomes: list[ChaosOutcome], markdown: bool) -> None:
    """Print the table (rich, or GitHub markdown)."""
    rows = [outcome.row() for outcome in outcomes]
    shown = [["-" if row[key] is None else str(row[key]) for key, _ in COLUMNS] for row in rows]
    if markdown:
        print("| " + " | ".join(title for _, title in COLUMNS) + " |")
        print("|" + "---|" * len(COLUMNS))
        for cells in shown:
            print("| " + " | ".join(cells) + " |")
        return
    table = Table(title="chaos: omnisdk run under faults and SIGKILLs")
    for _, title in COLUMNS:
        table.add_column(title, justify="left" if title == "faults" else "right")
    for cells in shown:
        table.add_row(*cells)
    Console().print(table)


async def main(args: argparse.Namespace) -> list[ChaosOutcome]:
    """Run every plan on a fresh directory; print what each found."""
    outcomes = []
    for index, plan in enumerate(plans(args)):
        if args.keep:
            directory = Path(args.keep) / f"run-{index}"
            directory.mkdir(parents=True, exist_ok=True)
            outcome = await run_chaos(plan, directory)
        else:
            with tempfile.TemporaryDirectory(prefix="omnisdk-chaos-") as temporary:
                outcome = await run_chaos(plan, Path(temporary))
        outcomes.append(outcome)
        print(f"[{plan.describe()}] {outcome.explain()}", file=sys.stderr)
    return outcomes


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (see the module doc)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=2000, help="orders offered per run")
    parser.add_argument("--rate", type=float, default=40.0, help="orders offered per second")
    parser.add_argument("--buyers", type=int, default=4, help="buyers per channel")
    parser.add_argument("--skus", type=int, default=12)
    parser.add_argument("--units", type=int, default=60, help="units of each SKU")
    parser.add_argument("--kills", type=int, default=5, help="SIGKILLs per run")
    parser.add_argument("--expiries", type=int, default=2, help="token expiries per run")
    parser.add_argument("--error-rate", type=float, default=DEFAULT_FAULTS["error_rate"])
    parser.add_argument("--drop-rate", type=float, default=DEFAULT_FAULTS["drop_rate"])
    parser.add_argument("--converge-within", type=float, default=30.0, metavar="SECONDS")
    parser.add_argument("--seed", type=int, default=4242)
    parser.add_argument("--latency", type=float, default=DEFAULT_FAULTS["latency"])
    parser.add_argument(
        "--no-webhook-faults", action="store_true", help="deliver webhooks once, in order"
    )
    parser.add_argument(
        "--accounts", help="comma-separated accounts to run (default: every installed one)"
    )
    parser.add_argument("--keep", metavar="DIR", help="keep each run's store, config and logs")
    parser.add_argument("--only-chaos", action="store_true", help="skip the calm baseline")
    parser.add_argument("--calm", action="store_true", help="run only the calm baseline")
    parser.add_argument(
        "--cancel-share", type=float, default=0.1, help="how often a buyer cancels instead"
    )
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    parser.add_argument("--json", action="store_true", help="also print the rows as JSON")
    return parser.parse_args(argv)


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR)
    arguments = parse_args()
    results = asyncio.run(main(arguments))
    render(results, arguments.markdown)
    if arguments.json:
        rows: list[dict[str, Any]] = [outcome.row() for outcome in results]
        print(json.dumps(rows, ensure_ascii=False))
