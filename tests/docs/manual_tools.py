"""Import the manual's generators (scripts/manual) from the tests."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def manual(module: str) -> ModuleType:
    """``scripts/manual/<module>.py``, imported as ``manual.<module>``."""
    scripts = str(ROOT / "scripts")
    if scripts not in sys.path:
        sys.path.insert(0, scripts)
    return importlib.import_module(f"manual.{module}")
