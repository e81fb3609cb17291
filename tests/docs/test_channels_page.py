"""The channel capability table is generated from the installed plugins' declarations."""


from test_generated_docs import ROOT, load_generator


def test_channels_page_is_current() -> None:
    page = (ROOT / "docs" / "reference" / "channels.md").read_text(encoding="utf-8")
    assert page == load_generator().channels_page(), "run: python scripts/gen_docs.py"
