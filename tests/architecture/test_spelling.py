"""One spelling in the code: "catalog" (as in the CLI's ``omnisdk catalog import``, the
``omnisdk.sync.catalog`` package and ``Engine.import_catalog``), never the British variant."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VARIANT = "catal" + "ogue"  # spelled apart so this file does not match itself
SOURCES = ("*.py", "*.tmpl", "*.md", "*.toml", "*.graphql")


def test_catalog_is_spelled_one_way() -> None:
    places = [ROOT / name for name in ("omnisdk", "plugins", "tests", "docs", "benchmarks")]
    found = sorted(
        f"{path.relative_to(ROOT)}:{number}"
        for place in places
        for pattern in SOURCES
        for path in place.rglob(pattern)
        if ".venv" not in path.parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if VARIANT in line.lower()
    )
    assert found == [], f"spell it 'catalog': {', '.join(found[:20])}"
