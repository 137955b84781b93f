"""Fixtures of the phone tests: real servers on 127.0.0.1 and an engine with the packs."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the stubs and helpers beside this file

from ari_stub import AriStub
from phone_helpers import Desk, make_desk
from twilio_stub import TwilioStub


@pytest.fixture
def twilio_api() -> Iterator[TwilioStub]:
    """A Twilio-compatible voice API on 127.0.0.1."""
    stub = TwilioStub()
    try:
        yield stub
    finally:
        stub.stop()


@pytest.fixture
def ari() -> Iterator[AriStub]:
    """An ARI (REST and events WebSocket) on 127.0.0.1."""
    stub = AriStub()
    try:
        yield stub
    finally:
        stub.stop()


@pytest.fixture
def desk() -> Desk:
    """An engine on memory storage with the US, CN and UK packs, two loans and a desk."""
    return make_desk()
