"""``omnisdk run``'s backfill progress: orders counted per account as the first polls ingest."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from rich.console import Console

from omnisdk import Plugins
from omnisdk.cli.run import BackfillProgress
from omnisdk.models import Money, Order, OrderLine, OrderStatus


def order(account: str, number: int) -> Order:
    price = Money.of(85000, "VND")
    moment = datetime(2024, 7, 2, 9, 30, tzinfo=UTC)
    return Order(
        channel_ref={"channel": "example", "account": account, "external_id": f"ord_{number}"},
        status=OrderStatus.CONFIRMED,
        currency="VND",
        lines=[OrderLine(sku="NON-LA-HUE", title="Nón lá Huế", quantity=1, unit_price=price)],
        subtotal=price,
        total=price,
        created_at=moment,
        updated_at=moment,
    )


def test_orders_are_counted_per_account_through_the_hooks() -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=100)
    progress = BackfillProgress(["hanoi-shop", "saigon-shop"], console)
    plugins = Plugins(entry_points=False)
    plugins.register(progress, name="backfill")

    for number in range(3):
        plugins.hook.omnisdk_order_received(order=order("hanoi-shop", number), is_new=True)
    plugins.hook.omnisdk_order_received(order=order("da-nang-shop", 9), is_new=True)
    plugins.hook.omnisdk_sync_finished(account="saigon-shop", stream="orders", stats={})

    tasks = {task.description: task for task in progress.progress.tasks}
    assert tasks["backfilling hanoi-shop"].completed == 3
    done = next(task for task in progress.progress.tasks if "saigon-shop" in task.description)
    assert done.finished and "✓" in done.description
