"""The Example platform's REST API, one module per area; ``params`` reads requests."""
