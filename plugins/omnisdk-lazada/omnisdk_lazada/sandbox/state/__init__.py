"""The sandbox seller's state: catalog, orders, order flow and authorisation grants."""
