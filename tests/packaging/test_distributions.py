"""Every distribution builds (sdist + wheel), carries py.typed and works with only the core.

Runs scripts/check_dists.py once for the module; see its docstring for what each step proves.
"""

from __future__ import annotations

import importlib.util
import sys
import tarfile
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_script() -> ModuleType:
    path = ROOT / "scripts" / "check_dists.py"
    spec = importlib.util.spec_from_file_location("check_dists", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["check_dists"] = module
    spec.loader.exec_module(module)
    return module


check_dists = _load_script()


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> list[object]:
    return check_dists.check(tmp_path_factory.mktemp("dists"))  # type: ignore[no-any-return]


def test_every_plugin_folder_is_a_checked_distribution() -> None:
    names = [dist.name for dist in check_dists.distributions()]
    folders = sorted(path.parent.name for path in ROOT.glob("plugins/*/pyproject.toml"))
    assert names[0] == "omnisdk"
    assert sorted(names[1:]) == folders
    assert len(folders) >= 4


@pytest.mark.slow
def test_every_distribution_builds_and_installs_alone(outcomes: list[object]) -> None:
    problems = {o.name: o.problems for o in outcomes if o.problems}  # type: ignore[attr-defined]
    assert problems == {}
    for outcome in outcomes:
        assert outcome.wheel.endswith("-py3-none-any.whl")  # type: ignore[attr-defined]


def test_a_wheel_without_py_typed_is_reported(tmp_path: Path) -> None:
    wheel, sdist = tmp_path / "demo-0.1-py3-none-any.whl", tmp_path / "demo-0.1.tar.gz"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("demo/__init__.py", "")
    (tmp_path / "demo-0.1" / "demo").mkdir(parents=True)
    (tmp_path / "demo-0.1" / "demo" / "py.typed").write_text("")
    with tarfile.open(sdist, "w:gz") as archive:
        archive.add(tmp_path / "demo-0.1", arcname="demo-0.1")
    dist = check_dists.Distribution("demo", tmp_path, "demo", ())
    outcome = check_dists.Outcome("demo")
    check_dists._check_typed(dist, wheel, sdist, outcome)
    assert outcome.problems == [f"{wheel.name} has no demo/py.typed"]
