"""The store's Alembic migration environment (``env.py``) and revisions (``versions/``)."""
