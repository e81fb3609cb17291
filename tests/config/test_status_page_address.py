"""``[engine] status_page``: where ``omnisdk run`` serves the status page (off when unset)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from omnisdk.config import EngineConfig


@pytest.mark.parametrize("address", ["8790", "localhost", "[::1]8790", "127.0.0.1:99999", ":80"])
def test_a_bad_status_page_address_says_what_is_expected(address: str) -> None:
    with pytest.raises(ValidationError, match=r"expected HOST:PORT, e\.g\. 127\.0\.0\.1:8790"):
        EngineConfig(status_page=address)


def test_a_status_page_address_is_kept_in_one_form() -> None:
    assert EngineConfig().status_page is None
    assert EngineConfig().status_page_address is None
    assert EngineConfig(status_page=" 127.0.0.1:8790 ").status_page_address == ("127.0.0.1", 8790)
    assert EngineConfig(status_page="[::1]:0").status_page == "[::1]:0"
    assert EngineConfig(status_page="[::1]:0").status_page_address == ("::1", 0)
