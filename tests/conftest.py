"""Shared test configuration: hypothesis profiles and the golden-vector loader."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

DATA = Path(__file__).parent / "data"

settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="session")
def golden() -> dict[str, Any]:
    """The shared golden vectors (copied unchanged from the reference data)."""
    data: dict[str, Any] = json.loads((DATA / "golden_vectors.json").read_text(encoding="utf-8"))
    return data
