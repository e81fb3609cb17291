"""The Example platform's REST API, one module per area.

Each area is a :class:`~omnisdk_example.sandbox.api.gateway.ExampleApi` (the bearer-token
check); ``params`` reads query parameters, batch bodies and cursors.
"""
