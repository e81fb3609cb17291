"""Build every distribution and prove each plugin installs and works with only the core.

    python scripts/check_dists.py [--out DIR] [--json]
    python scripts/check_dists.py --fill-wheelhouse   # download the core's dependencies only

For the core (the repository root) and every ``plugins/*/pyproject.toml``:

1. ``python -m build`` makes the sdist, then the wheel *from the sdist* (so a file missing from
   the sdist breaks the wheel too), without build isolation: hatchling comes from the running
   environment (the ``dev`` extra), which keeps the check offline and fast.
2. The wheel and the sdist must both carry the package's ``py.typed``.
3. One fresh venv gets the core wheel and its dependencies (nothing else), installed offline
   from a wheelhouse of the core's dependencies (``.venv/dist-check-wheels``, filled by
   ``pip download`` the first time, or whenever a dependency is missing). Each plugin then
   gets a fresh venv of its own that sees that core venv's site-packages through a ``.pth``
   file, the plugin wheel is installed into it with ``--no-deps`` (its only dependency is the
   core, already there), ``pip check`` proves its requirements are met, and every module of
   the plugin is imported (but its ``sandbox`` package, which needs the ``sandbox`` extra) and
   its channel types listed: exactly its own, so it works alone.

Builds and plugin checks run in parallel, one per CPU.

Exit status 0 when every distribution passes; the table lists each step's wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
import tomllib
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WHEELHOUSE = ROOT / ".venv" / "dist-check-wheels"
"""The core's dependencies as wheels, so the fresh venvs install offline after the first run."""

__all__ = ["Distribution", "Outcome", "check", "distributions", "main"]

# Run inside a plugin's venv: import every module of the package, list the channel types.
_PROBE = """
import importlib, json, pkgutil, sys
package = importlib.import_module(sys.argv[1])
sandbox = sys.argv[1] + ".sandbox"  # the sandbox extra's dependencies are not installed
modules = [info.name for info in pkgutil.walk_packages(package.__path__, sys.argv[1] + ".")
           if info.name != sandbox and not info.name.startswith(sandbox + ".")]
for name in modules:
    importlib.import_module(name)
from omnisdk import Plugins
plugins = Plugins()
print(json.dumps({"modules": len(modules) + 1, "types": sorted(plugins.channel_types()),
                  "failures": [str(failure) for failure in plugins.failures]}))
"""


@dataclass(frozen=True)
class Distribution:
    """One distribution of the repository: its project name, folder and import package."""

    name: str
    path: Path
    package: str
    entry_points: tuple[str, ...]

    @classmethod
    def read(cls, folder: Path) -> Distribution:
        """The distribution whose ``pyproject.toml`` is in ``folder``."""
        project = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))
        packages = project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
        groups = project["project"].get("entry-points", {})
        return cls(
            name=project["project"]["name"],
            path=folder,
            package=packages[0],
            entry_points=tuple(groups.get("omnisdk.plugins", {})),
        )


@dataclass
class Outcome:
    """What the check found for one distribution; ``problems`` empty means it passed."""

    name: str
    wheel: str = ""
    seconds: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def distributions(root: Path = ROOT) -> list[Distribution]:
    """The core first, then every plugin, by folder name."""
    folders = [root, *sorted(path.parent for path in root.glob("plugins/*/pyproject.toml"))]
    return [Distribution.read(folder) for folder in folders]


def _run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    # Only this repository's own interpreters and paths are ever run.
    return subprocess.run(  # type: ignore[call-overload, no-any-return]  # noqa: S603
        command, capture_output=True, text=True, check=False, **kwargs
    )


def _tail(done: subprocess.CompletedProcess[str]) -> str:
    return (done.stderr or done.stdout).strip()[-1500:]


def _build(dist: Distribution, out: Path, outcome: Outcome) -> tuple[Path, Path] | None:
    started = time.perf_counter()
    done = _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out),
                 str(dist.path)])
    outcome.seconds["build"] = time.perf_counter() - started
    wheels, sdists = sorted(out.glob("*.whl")), sorted(out.glob("*.tar.gz"))
    if done.returncode != 0 or len(wheels) != 1 or len(sdists) != 1:
        outcome.problems.append(f"python -m build failed: {_tail(done)}")
        return None
    outcome.wheel = wheels[0].name
    return wheels[0], sdists[0]


def _check_typed(dist: Distribution, wheel: Path, sdist: Path, outcome: Outcome) -> None:
    marker = f"{dist.package}/py.typed"
    with zipfile.ZipFile(wheel) as archive:
        if marker not in archive.namelist():
            outcome.problems.append(f"{wheel.name} has no {marker}")
    with tarfile.open(sdist) as archive:
        if not any(name.endswith("/" + marker) for name in archive.getnames()):
            outcome.problems.append(f"{sdist.name} has no {marker}")


def _venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _pip(python: Path) -> list[str]:
    """This interpreter's pip acting on another venv: the venvs need no pip of their own."""
    return [sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check"]


def _install_core(python: Path, wheel: Path, wheelhouse: Path) -> subprocess.CompletedProcess[str]:
    """Install the core wheel offline from ``wheelhouse``; download what it lacks, once."""
    pip = _pip(python)
    offline = [*pip, "install", "--quiet", "--no-compile", "--no-index", "--find-links",
               str(wheelhouse), str(wheel)]
    done = _run(offline)
    if done.returncode == 0:
        return done
    wheelhouse.mkdir(parents=True, exist_ok=True)
    done = _run([*pip, "download", "--quiet", "--dest", str(wheelhouse), str(wheel)])
    return _run(offline) if done.returncode == 0 else done


def fill_wheelhouse(root: Path = ROOT, wheelhouse: Path = WHEELHOUSE) -> int:
    """Download the core's dependencies into ``wheelhouse`` (``make setup`` does, once)."""
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    wheelhouse.mkdir(parents=True, exist_ok=True)
    done = _run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                 "--dest", str(wheelhouse), *project["project"]["dependencies"]])
    if done.returncode != 0:
        print(_tail(done), file=sys.stderr)
    return done.returncode


def _core_venv(wheel: Path, venv: Path, wheelhouse: Path, outcome: Outcome) -> Path | None:
    """A fresh venv with the core wheel and its dependencies; its site-packages."""
    started = time.perf_counter()
    done = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    if done.returncode == 0:
        done = _install_core(_venv_python(venv), wheel, wheelhouse)
    if done.returncode == 0:
        done = _run([str(_venv_python(venv)), "-c",
                     "import omnisdk, omnisdk.cli, omnisdk.testing.sandbox; "
                     "from omnisdk import Plugins; assert not Plugins().channel_types()"])
    outcome.seconds["install"] = time.perf_counter() - started
    if done.returncode != 0:
        outcome.problems.append(f"the core wheel does not install and import alone: {_tail(done)}")
        return None
    site = _run([str(_venv_python(venv)), "-c",
                 "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    return Path(site.stdout.strip())


def _check_plugin(dist: Distribution, wheel: Path, core_site: Path, venv: Path,
                  outcome: Outcome) -> None:
    started = time.perf_counter()
    done = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    if done.returncode != 0:
        outcome.problems.append(f"cannot create a venv: {_tail(done)}")
        return
    site = _run([str(_venv_python(venv)), "-c",
                 "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    # The core venv's packages, visible but not copied: the venv holds the core and this plugin.
    (Path(site) / "_omnisdk_core.pth").write_text(f"{core_site}\n", encoding="utf-8")
    pip = _pip(_venv_python(venv))
    for step in (["install", "--quiet", "--no-compile", "--no-deps", str(wheel)], ["check"]):
        done = _run([*pip, *step])
        if done.returncode != 0:
            outcome.problems.append(f"pip {step[0]} failed: {_tail(done)}")
            return
    done = _run([str(_venv_python(venv)), "-c", _PROBE, dist.package], cwd=venv)
    outcome.seconds["install"] = time.perf_counter() - started
    if done.returncode != 0:
        outcome.problems.append(f"importing {dist.package} with only the core: {_tail(done)}")
        return
    found = json.loads(done.stdout.strip().splitlines()[-1])
    if found["failures"]:
        outcome.problems.append(f"plugins failed to load: {found['failures']}")
    if found["types"] != sorted(dist.entry_points):
        expected = sorted(dist.entry_points)
        outcome.problems.append(f"channel types {found['types']} with only the core; "
                                f"expected {expected}")


def _build_and_inspect(dist: Distribution, out: Path, outcome: Outcome) -> tuple[Path, Path] | None:
    artefacts = _build(dist, out / "dist" / dist.name, outcome)
    if artefacts is not None:
        _check_typed(dist, *artefacts, outcome)
    return artefacts


def check(out: Path, root: Path = ROOT, wheelhouse: Path = WHEELHOUSE) -> list[Outcome]:
    """Build and check every distribution of ``root`` under ``out``; one outcome each."""
    dists = distributions(root)
    outcomes = [Outcome(dist.name) for dist in dists]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        # The core venv is made while the plugins build; it needs only the core's wheel.
        core_built = _build_and_inspect(dists[0], out, outcomes[0])
        plugin_builds = [pool.submit(_build_and_inspect, dist, out, outcome)
                         for dist, outcome in zip(dists[1:], outcomes[1:], strict=True)]
        if core_built is None:
            return outcomes
        core_site = _core_venv(core_built[0], out / "venv-core", wheelhouse, outcomes[0])
        checks = []
        for dist, outcome, build in zip(dists[1:], outcomes[1:], plugin_builds, strict=True):
            artefacts = build.result()
            if artefacts is not None and core_site is not None:
                checks.append(pool.submit(_check_plugin, dist, artefacts[0], core_site,
                                          out / f"venv-{dist.name}", outcome))
        for job in checks:
            job.result()
    return outcomes


def _table(outcomes: list[Outcome]) -> str:
    lines = [f"{'distribution':<18} {'build s':>8} {'install s':>10}  result",
             "-" * 60]
    for outcome in outcomes:
        result = "ok " + outcome.wheel if not outcome.problems else "; ".join(outcome.problems)
        lines.append(f"{outcome.name:<18} {outcome.seconds.get('build', 0):>8.1f} "
                     f"{outcome.seconds.get('install', 0):>10.1f}  {result}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the check; print a table (or JSON); 0 when every distribution passed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="where to build (default: a temporary folder)")
    parser.add_argument("--json", action="store_true", help="print the outcomes as JSON")
    parser.add_argument("--fill-wheelhouse", action="store_true",
                        help=f"only download the core's dependencies into {WHEELHOUSE}")
    args = parser.parse_args(argv)
    if args.fill_wheelhouse:
        return fill_wheelhouse()
    with tempfile.TemporaryDirectory(prefix="omnisdk-dists-") as scratch:
        out = args.out or Path(scratch)
        started = time.perf_counter()
        outcomes = check(out)
        elapsed = time.perf_counter() - started
    if args.json:
        print(json.dumps([asdict(outcome) for outcome in outcomes], indent=2))
    else:
        print(_table(outcomes))
        print(f"total {elapsed:.1f} s wall ({sysconfig.get_platform()})")
    return 1 if any(outcome.problems for outcome in outcomes) else 0


if __name__ == "__main__":
    raise SystemExit(main())
