"""Fixtures of the status page tests: one stocked shop per module (the engine test kit of
tests/sync, on SQLite only: the store queries the page reads are tested on both databases in
tests/store). The tests of a module share its event loop, since they share its engine."""

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from _database_testkit import copy_of

_KIT = Path(__file__).resolve().parents[1] / "sync"
if str(_KIT) not in sys.path:
    sys.path.insert(0, str(_KIT))

from _engine_testkit import Harness  # noqa: E402
from _page_testkit import open_shop  # noqa: E402

__all__ = ["shop"]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shop(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Harness]:
    """The module's stocked shop (see ``_page_testkit.stock_the_shop``); tests only read it,
    or add what no other test of the module looks at."""
    url = copy_of(request.getfixturevalue("sqlite_template"), tmp_path_factory.mktemp("shop"))
    async with open_shop(url) as harness:
        yield harness
