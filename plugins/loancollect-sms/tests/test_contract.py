"""The SMS channel passes the channel conformance suite against a real HTTP gateway."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from loancollect_sms import SmsChannel
from sms_gateway import Answer, Gateway

from loancollect.plugins import make_plugin_manager
from loancollect.ports import Channel
from loancollect.registry import make_channel
from loancollect.testing import ChannelContract, FailureMode

ANSWERS = {
    FailureMode.RETRYABLE: Answer(503, '{"error": "busy"}'),
    FailureMode.PERMANENT: Answer(400, '{"error": "invalid number"}'),
    FailureMode.REJECTED: Answer(403, '{"error": "number on the blocklist"}'),
}


class TestSmsChannel(ChannelContract):
    @pytest.fixture
    def channel(self, gateway: Gateway) -> Iterator[Channel]:
        self.gateway = gateway
        pm = make_plugin_manager(load_entrypoints=["sms"])
        channel = make_channel(pm, "sms", {"url": gateway.url, "timeout": "5"})
        assert isinstance(channel, SmsChannel)
        yield channel
        channel.close()

    def fail_next(self, channel: Channel, mode: FailureMode) -> None:
        self.gateway.answer(ANSWERS[mode])

    def deliveries(self, channel: Channel) -> int | None:
        return len(self.gateway.requests)
