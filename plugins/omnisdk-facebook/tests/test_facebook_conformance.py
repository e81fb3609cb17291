"""The omnisdk channel conformance suite, run against the Facebook sandbox."""

from __future__ import annotations

from typing import Any, ClassVar

from omnisdk_facebook import FacebookChannel
from omnisdk_facebook.sandbox import FacebookSandbox

from omnisdk.testing.conformance import ChannelConformance


class TestFacebookConformance(ChannelConformance):
    """Every contract test of omnisdk, against the emulated Meta catalog in VND."""

    channel_class = FacebookChannel
    sandbox_class = FacebookSandbox
    sandbox_kwargs: ClassVar[dict[str, Any]] = {"seed": 13}
