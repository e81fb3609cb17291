"""CI proof: a generated plugin installs with pip and passes its own generated tests."""

from __future__ import annotations

import os
import site
import subprocess
import sysconfig
import venv
from pathlib import Path

import pytest

from omnisdk.scaffold import PluginNames, render_plugin

pytestmark = pytest.mark.slow


def throwaway_venv(root: Path) -> Path:
    """A venv (no pip of its own) that also sees this interpreter's packages; its python.

    ``venv --system-site-packages`` would only see the base interpreter's packages, not this
    (virtual) environment's, so a ``.pth`` file adds this environment's site directories.
    """
    venv.EnvBuilder(with_pip=False).create(root)
    python = root / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    parents = [*site.getsitepackages(), sysconfig.get_paths()["purelib"]]
    lines = "".join(f"import site; site.addsitedir({path!r})\n" for path in dict.fromkeys(parents))
    (Path(purelib) / "omnisdk-parent-environment.pth").write_text(lines, encoding="utf-8")
    return python


def test_a_generated_plugin_installs_and_passes_its_own_tests(tmp_path: Path) -> None:
    plugin = tmp_path / "omnisdk-acme"
    render_plugin(PluginNames.from_name("acme"), plugin)
    python = throwaway_venv(tmp_path / "venv")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "OMNISDK_"))}
    install = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-deps", "-e", str(plugin)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr
    tests = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=plugin,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert tests.returncode == 0 and " passed" in tests.stdout, tests.stdout + tests.stderr
    assert (
        "omnisdk_acme"
        in subprocess.run(
            [
                python,
                "-c",
                "from importlib.metadata import entry_points as e;"
                " print([p.value for p in e(group='omnisdk.plugins')])",
            ],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        ).stdout
    )
