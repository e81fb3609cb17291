"""Alembic revisions of the store schema, oldest first (``0001_initial``, ...)."""
