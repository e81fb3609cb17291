"""The Lazada channel passes the conformance suite: this class is all it takes."""

from omnisdk_lazada.channel import LazadaChannel
from omnisdk_lazada.sandbox import LazadaSandbox

from omnisdk.testing import ChannelConformance


class TestLazadaConformance(ChannelConformance):
    """The Lazada channel against its sandbox."""

    channel_class = LazadaChannel
    sandbox_class = LazadaSandbox
