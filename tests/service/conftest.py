"""Service tests: their helper modules are importable by name, in this process and in
the processes the tests spawn (a spawned process inherits ``sys.path``)."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = str(Path(__file__).parent)
if HERE not in sys.path:
    sys.path.append(HERE)
