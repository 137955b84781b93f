"""The letter channel passes the channel conformance suite."""

from __future__ import annotations

from pathlib import Path

import pytest
from letters_helpers import address_contact, letter_message
from loancollect_letters import LetterChannel

from loancollect.domain.loans import ContactPoint
from loancollect.plugins import make_plugin_manager
from loancollect.ports import Channel, RenderedMessage
from loancollect.registry import make_channel
from loancollect.testing import ChannelContract, FailureMode


class DiskFull:
    """A writer that fails with ENOSPC a given number of times, then writes."""

    def __init__(self, channel: LetterChannel) -> None:
        self.real = channel.write
        self.failures = 0

    def __call__(self, path: Path, data: bytes) -> None:
        if self.failures:
            self.failures -= 1
            raise OSError(28, "No space left on device")
        self.real(path, data)


class TestLetterChannel(ChannelContract):
    """Permanent failures (no postal address) are tested in test_letters.py: the suite
    sends every action to the same address. Letters have no provider that rejects."""

    unsupported_failures = frozenset({FailureMode.PERMANENT, FailureMode.REJECTED})

    @pytest.fixture
    def channel(self, tmp_path: Path) -> Channel:
        return make_channel(
            make_plugin_manager(load_entrypoints=["letter"]),
            "letter",
            {"dir": str(tmp_path / "letters")},
        )

    @pytest.fixture
    def contact(self) -> ContactPoint | None:
        return address_contact()

    @pytest.fixture
    def message(self) -> RenderedMessage:
        return letter_message()

    def fail_next(self, channel: Channel, mode: FailureMode) -> None:
        assert isinstance(channel, LetterChannel)
        assert mode is FailureMode.RETRYABLE
        writer = DiskFull(channel)
        writer.failures = 1
        channel.write = writer

    def deliveries(self, channel: Channel) -> int | None:
        assert isinstance(channel, LetterChannel)
        return len(list(channel.directory.glob("LTR-*.pdf")))
