"""``omnisdk new-plugin``: generate a channel plugin package in the one plugin shape.

The templates under ``template/`` are a complete plugin (channel, mapping, settings, client,
errors, auth, webhooks, a sandbox with the control API, the conformance test) with the
plugin's names left as ``{{tokens}}`` (:mod:`omnisdk.scaffold.names`);
:func:`render_plugin` fills them in and writes the package. The repository's
``tests/example_plugin`` is exactly what ``omnisdk new-plugin example`` generates.
"""

from omnisdk.scaffold.names import PluginNames, ScaffoldError
from omnisdk.scaffold.render import render_files, render_plugin

__all__ = ["PluginNames", "ScaffoldError", "render_files", "render_plugin"]
