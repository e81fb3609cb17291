"""The manual's generated pages: built from the code at ``mkdocs build`` time, never committed.

``mkdocs_hooks.py`` (named in mkdocs.yml ``hooks:``) adds every page in :data:`PAGES` to the
build; the tests in tests/docs check what the generators cover.
"""
