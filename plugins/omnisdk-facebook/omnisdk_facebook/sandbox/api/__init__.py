"""The sandbox's Graph API, one module per area (gateway checks, catalog, legacy orders)."""
