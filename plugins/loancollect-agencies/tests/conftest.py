"""Fixtures of the agencies tests: two tenants in memory, and a real uvicorn server on
127.0.0.1 serving the agency API."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the agencies_* helper modules

from agencies_helpers import Server


@pytest.fixture
def server() -> Iterator[Server]:
    """Two tenants, two agencies, the API on 127.0.0.1; stopped after the test."""
    srv = Server()
    try:
        yield srv
    finally:
        srv.stop()
