"""The Example channel passes the conformance suite: this class is all it takes."""

from omnisdk_example.channel import ExampleChannel
from omnisdk_example.sandbox import ExampleSandbox

from omnisdk.testing import ChannelConformance


class TestExampleConformance(ChannelConformance):
    """The Example channel against its sandbox."""

    channel_class = ExampleChannel
    sandbox_class = ExampleSandbox
