"""``omnisdk.returns.ReturnBook``: the newest version of each return, by order."""

from __future__ import annotations

from omnisdk.returns import ReturnBook


def test_a_return_is_kept_once_at_its_newest_version_and_only_news_count() -> None:
    book = ReturnBook()
    assert book.add("HD000001", "TH2", 5, {"id": "TH2", "v": 5})
    assert book.add("HD000001", "TH1", 3, {"id": "TH1", "v": 3})
    assert not book.add("HD000001", "TH2", 5, {"id": "TH2", "v": 5}), "a re-read is not news"
    assert not book.add("HD000001", "TH2", 4, {"id": "TH2", "v": 4}), "an older version"
    assert book.add("HD000001", "TH2", 9, {"id": "TH2", "v": 9})
    assert [entry["v"] for entry in book.of("HD000001")] == [3, 9]
    assert book.of("HD000002") == []
    assert not book.add("", "TH3", 1, {}) and not book.add("HD000002", "", 1, {})
    assert len(book) == 2
