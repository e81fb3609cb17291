"""Customers an account lists: each record resolved into the one customer view, as an
order's buyer is (merges explained, ``omnisdk_customer_merged`` fired). The first pass reads
everything, as customers move no stock."""

from __future__ import annotations

import logging

from omnisdk.channel import Capability
from omnisdk.errors import ReauthorisationRequired
from omnisdk.sync.accounts import is_stopped, lose_authorisation
from omnisdk.sync.context import SyncContext
from omnisdk.sync.customers import ingest_customer
from omnisdk.sync.intake.polling import (
    CUSTOMERS_STREAM,
    RECORD_ERRORS,
    SyncStats,
    check_account,
    finish_pass,
    quarantine_record,
    start_pass,
)

__all__ = ["poll_customers"]

logger = logging.getLogger("omnisdk.sync.intake")


async def poll_customers(context: SyncContext, account: str) -> SyncStats:
    """See :meth:`Engine.poll_customers`."""
    if await is_stopped(context, account):
        return SyncStats(account=account, stream=CUSTOMERS_STREAM, stopped=True)
    channel = context.channel(account)
    channel.require(Capability.READ_CUSTOMERS)
    done, since = await start_pass(context, account, CUSTOMERS_STREAM)
    try:
        async for customer in channel.stream_customers(updated_since=since):
            done.seen += 1
            ref = customer.channel_ref
            external_id = ref.external_id if ref is not None else None
            try:
                check_account(customer, account, "customer", f"{channel.name}/{account}")
                resolution = await ingest_customer(context, account, customer)
            except RECORD_ERRORS as exc:
                done.quarantined += 1
                await quarantine_record(context, account, "customer", external_id, customer, exc)
            else:
                if resolution.created:
                    done.new += 1
                elif resolution.changed:
                    done.updated += 1
                else:
                    done.unchanged += 1
                done.merged += len(resolution.merges)
            done.saw(customer.updated_at)
    except ReauthorisationRequired as exc:
        await lose_authorisation(context, account, exc)
        return await finish_pass(context, done, stopped=True)
    return await finish_pass(context, done)
