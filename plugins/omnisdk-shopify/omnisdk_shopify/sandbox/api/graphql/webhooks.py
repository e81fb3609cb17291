"""Webhook subscription mutations: ``webhookSubscriptionCreate`` and ``webhookSubscriptionDelete``.

A subscription makes the sandbox deliver that topic to its address as well (see
``ShopifySandbox.webhook_subscribers``); an address may subscribe to a topic once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from omnisdk_shopify.sandbox.api.graphql.context import Resolver, context_of
from omnisdk_shopify.sandbox.api.graphql.types import REST_TOPICS
from omnisdk_shopify.sandbox.state.records import WebhookSubscription, gid_kind, parse_gid

if TYPE_CHECKING:
    from omnisdk_shopify.sandbox.api.graphql.context import Info

__all__ = ["WEBHOOK_MUTATION_RESOLVERS"]


def _webhook_create(
    _: Any, info: Info, topic: str, webhookSubscription: dict[str, Any]
) -> dict[str, Any]:
    context = context_of(info)
    address = webhookSubscription.get("uri") or webhookSubscription.get("callbackUrl")
    if not address:
        return {
            "webhookSubscription": None,
            "userErrors": [
                {
                    "field": ["webhookSubscription", "callbackUrl"],
                    "message": "Address can't be blank",
                }
            ],
        }
    rest_topic = REST_TOPICS[topic]
    context.notes.append(("webhooks.subscribe", 1))
    for existing in context.state.webhook_subscriptions.values():
        if existing.topic == rest_topic and existing.address == address:
            return {
                "webhookSubscription": None,
                "userErrors": [
                    {
                        "field": ["webhookSubscription", "callbackUrl"],
                        "message": "Address for this topic has already been taken",
                    }
                ],
            }
    now = context.state.now()
    subscription = WebhookSubscription(
        id=context.state.next_id(),
        topic=rest_topic,
        address=str(address),
        format=webhookSubscription.get("format", "JSON").lower(),
        created_at=now,
        updated_at=now,
        api_version=context.api_version,
    )
    context.state.webhook_subscriptions[subscription.id] = subscription
    return {"webhookSubscription": subscription, "userErrors": []}


def _webhook_delete(_: Any, info: Info, id: str) -> dict[str, Any]:
    context = context_of(info)
    context.notes.append(("webhooks.unsubscribe", 1))
    state = context.state
    number = parse_gid(id, "WebhookSubscription") if gid_kind(id) else -1
    if state.webhook_subscriptions.pop(number, None) is None:
        return {
            "deletedWebhookSubscriptionId": None,
            "userErrors": [{"field": ["id"], "message": "Webhook subscription does not exist"}],
        }
    return {"deletedWebhookSubscriptionId": id, "userErrors": []}


WEBHOOK_MUTATION_RESOLVERS: dict[str, Resolver] = {
    "webhookSubscriptionCreate": _webhook_create,
    "webhookSubscriptionDelete": _webhook_delete,
}
