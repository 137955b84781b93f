"""The e-mail channel passes the channel conformance suite, over SMTP and as a file outbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from email_helpers import NOW, SENDER, email_contact, email_message
from email_servers import Server
from loancollect_email import EmailChannel, from_settings

from loancollect.domain.loans import ContactPoint
from loancollect.plugins import make_plugin_manager
from loancollect.ports import Channel, RenderedMessage
from loancollect.registry import make_channel
from loancollect.testing import ChannelContract, FailureMode

REFUSALS = {
    FailureMode.RETRYABLE: ("rcpt", "451 4.3.0 Mailbox temporarily unavailable"),
    FailureMode.PERMANENT: ("rcpt", "550 5.1.1 No such user here"),
    FailureMode.REJECTED: ("data", "554 5.7.1 Message rejected as spam"),
}


class TestSmtpEmail(ChannelContract):
    @pytest.fixture
    def channel(self, smtp_server: Server) -> Iterator[Channel]:
        self.server = smtp_server
        settings = {"from": SENDER, "host": "127.0.0.1", "port": str(smtp_server.port)}
        with from_settings({**settings, "security": "none", "timeout": "5"}) as channel:
            yield channel

    @pytest.fixture
    def contact(self) -> ContactPoint | None:
        return email_contact()

    @pytest.fixture
    def message(self) -> RenderedMessage:
        return email_message()

    def fail_next(self, channel: Channel, mode: FailureMode) -> None:
        phase, reply = REFUSALS[mode]
        self.server.handler.refuse(phase, reply)

    def deliveries(self, channel: Channel) -> int | None:
        return len(self.server.handler.messages)


class TestSmtpEmailFromEntryPoint(TestSmtpEmail):
    """The same suite for the channel built through the installed entry point."""

    @pytest.fixture
    def channel(self, smtp_server: Server) -> Iterator[Channel]:
        self.server = smtp_server
        pm = make_plugin_manager(load_entrypoints=["email"])
        settings = {"from": SENDER, "host": "127.0.0.1", "port": str(smtp_server.port)}
        channel = make_channel(pm, "email", {**settings, "security": "none"})
        assert isinstance(channel, EmailChannel)
        yield channel
        channel.close()


class TestFileOutbox(ChannelContract):
    """The file outbox cannot be told to refuse; its retryable failure (a directory
    that cannot be written) is tested in test_outbox.py."""

    unsupported_failures = frozenset(
        {FailureMode.RETRYABLE, FailureMode.PERMANENT, FailureMode.REJECTED}
    )

    @pytest.fixture
    def channel(self, tmp_path: Path) -> Channel:
        self.dir = tmp_path / "outbox"
        return from_settings({"from": SENDER, "dir": str(self.dir)}, now=lambda: NOW)

    @pytest.fixture
    def contact(self) -> ContactPoint | None:
        return email_contact()

    @pytest.fixture
    def message(self) -> RenderedMessage:
        return email_message()

    def deliveries(self, channel: Channel) -> int | None:
        return len(list(self.dir.glob("*.eml")))
