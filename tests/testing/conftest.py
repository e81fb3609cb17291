"""Make the example plugin importable without installing it (tests only)."""

import sys
from pathlib import Path

EXAMPLE_PLUGIN = Path(__file__).resolve().parents[1] / "example_plugin"

if str(EXAMPLE_PLUGIN) not in sys.path:
    sys.path.insert(0, str(EXAMPLE_PLUGIN))
