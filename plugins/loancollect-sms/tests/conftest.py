"""Fixtures of the SMS tests: a real HTTP gateway on 127.0.0.1."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the sms_* helper modules

from sms_gateway import Gateway


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    """A programmable SMS gateway on 127.0.0.1, stopped after the test."""
    gw = Gateway()
    try:
        yield gw
    finally:
        gw.stop()
