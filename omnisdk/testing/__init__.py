"""The kit for channel plugin authors: sandbox base, fault injection, servers, conformance suite.

Everything here needs the sandbox extra (``pip install omnisdk[sandbox]``); the conformance
suite and the pytest fixtures also need pytest and pytest-asyncio. Names are imported on
first use, so ``import omnisdk.testing`` costs nothing and the pytest plugin loads even
where the extras are missing.

=============================  =====================================================
:class:`Sandbox`               base of every platform emulator (``omnisdk.testing.sandbox``)
:class:`SeedProduct`,          the control API's models
:class:`SeedOrder`,
:class:`BuyerOrder`, ...
:class:`SandboxApi`, ``route`` one class of endpoints per platform API area
:class:`FaultSettings`         fault injection knobs (``omnisdk.testing.faults``)
:class:`SandboxClock`          the injectable clock
:class:`LeakyBucket`           a rate limit on the sandbox clock (``omnisdk.testing.throttle``)
:func:`json_response`          JSON answers whose headers keep their case
:class:`LoopbackServer`        serve an ASGI app on 127.0.0.1 in a thread
:class:`SandboxControl`        client of the ``/_sandbox`` control API
:class:`WebhookRecorder`       an ASGI app that records webhook deliveries
:class:`SecretLeakGuard`       catches secrets in logs and error messages
:class:`ContributeChannels`    register channel classes in a test without packaging
:class:`ChannelConformance`    the conformance suite a plugin's tests subclass
=============================  =====================================================
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from omnisdk.testing.api import SandboxApi, route
    from omnisdk.testing.clock import SandboxClock
    from omnisdk.testing.conformance import ChannelConformance, vietnamese_catalog
    from omnisdk.testing.control import SandboxControl, SandboxRefused
    from omnisdk.testing.faults import FaultSettings, RequestRecord
    from omnisdk.testing.leaks import SecretLeakGuard
    from omnisdk.testing.receiver import ReceivedWebhook, WebhookRecorder
    from omnisdk.testing.registration import ContributeChannels, unthrottled
    from omnisdk.testing.responses import dumps, json_response, keep_header_case
    from omnisdk.testing.sandbox import (
        BuyerLine,
        BuyerOrder,
        NotRefundable,
        OutOfStock,
        RefundRequest,
        Sandbox,
        SandboxError,
        SeedOrder,
        SeedProduct,
        UnknownObject,
        read_json,
    )
    from omnisdk.testing.server import LoopbackServer
    from omnisdk.testing.throttle import LeakyBucket

__all__ = [
    "BuyerLine",
    "BuyerOrder",
    "ChannelConformance",
    "ContributeChannels",
    "FaultSettings",
    "LeakyBucket",
    "LoopbackServer",
    "NotRefundable",
    "OutOfStock",
    "ReceivedWebhook",
    "RefundRequest",
    "RequestRecord",
    "Sandbox",
    "SandboxApi",
    "SandboxClock",
    "SandboxControl",
    "SandboxError",
    "SandboxRefused",
    "SecretLeakGuard",
    "SeedOrder",
    "SeedProduct",
    "UnknownObject",
    "WebhookRecorder",
    "dumps",
    "json_response",
    "keep_header_case",
    "read_json",
    "route",
    "unthrottled",
    "vietnamese_catalog",
]

_HOMES = {
    "BuyerLine": "sandbox",
    "BuyerOrder": "sandbox",
    "ChannelConformance": "conformance",
    "ContributeChannels": "registration",
    "FaultSettings": "faults",
    "LeakyBucket": "throttle",
    "LoopbackServer": "server",
    "NotRefundable": "sandbox",
    "OutOfStock": "sandbox",
    "ReceivedWebhook": "receiver",
    "RefundRequest": "sandbox",
    "RequestRecord": "faults",
    "Sandbox": "sandbox",
    "SandboxApi": "api",
    "SandboxClock": "clock",
    "SandboxControl": "control",
    "SandboxError": "sandbox",
    "SandboxRefused": "control",
    "SecretLeakGuard": "leaks",
    "SeedOrder": "sandbox",
    "SeedProduct": "sandbox",
    "UnknownObject": "sandbox",
    "WebhookRecorder": "receiver",
    "dumps": "responses",
    "json_response": "responses",
    "keep_header_case": "responses",
    "read_json": "sandbox",
    "route": "api",
    "unthrottled": "registration",
    "vietnamese_catalog": "conformance",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'omnisdk.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"omnisdk.testing.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
