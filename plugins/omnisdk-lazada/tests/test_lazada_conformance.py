"""The omnisdk channel conformance suite, run against the Lazada sandbox."""

from __future__ import annotations

from typing import Any, ClassVar

from omnisdk_lazada import LazadaChannel
from omnisdk_lazada.sandbox import LazadaSandbox

from omnisdk.testing.conformance import ChannelConformance


class TestLazadaConformance(ChannelConformance):
    """Every contract test of omnisdk, against the Lazada sandbox in VND."""

    channel_class = LazadaChannel
    sandbox_class = LazadaSandbox
    sandbox_kwargs: ClassVar[dict[str, Any]] = {"seed": 5}
