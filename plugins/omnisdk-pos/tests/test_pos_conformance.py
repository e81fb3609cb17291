"""The omnisdk channel conformance suite, run against the KiotViet sandbox."""

from __future__ import annotations

from typing import Any, ClassVar

from omnisdk_pos import PosChannel
from omnisdk_pos.sandbox import KiotVietSandbox

from omnisdk.testing.conformance import ChannelConformance


class TestPosConformance(ChannelConformance):
    """Every contract test of omnisdk, against the KiotViet sandbox in VND."""

    channel_class = PosChannel
    sandbox_class = KiotVietSandbox
    sandbox_kwargs: ClassVar[dict[str, Any]] = {"seed": 12}
