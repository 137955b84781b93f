"""The phone channel passes the channel conformance suite against a real dialer API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from loancollect_phone import PhoneChannel
from twilio_stub import SID, TOKEN, Answer, TwilioStub

from loancollect.plugins import make_plugin_manager
from loancollect.ports import Channel
from loancollect.registry import make_channel
from loancollect.testing import ChannelContract, FailureMode

ANSWERS = {
    FailureMode.RETRYABLE: Answer(503),
    FailureMode.PERMANENT: Answer(400, 21211),
    FailureMode.REJECTED: Answer(400, 21215),
}


class TestPhoneChannel(ChannelContract):
    @pytest.fixture
    def channel(self, twilio_api: TwilioStub) -> Iterator[Channel]:
        self.api = twilio_api
        pm = make_plugin_manager(load_entrypoints=["phone"])
        settings = {
            "dialer": "twilio",
            "twilio.base_url": twilio_api.url,
            "twilio.account_sid": SID,
            "twilio.auth_token": TOKEN,
            "twilio.from": "+861012345678",
            "twilio.callback_url": "https://desk.example/twilio/status",
            "twilio.voice_url": "https://desk.example/twilio/voice",
            "callback_number": "+861012345678",
            "timeout": "5",
        }
        channel = make_channel(pm, "phone", settings)
        assert isinstance(channel, PhoneChannel)
        yield channel
        channel.close()

    def fail_next(self, channel: Channel, mode: FailureMode) -> None:
        self.api.answer(ANSWERS[mode])

    def deliveries(self, channel: Channel) -> int | None:
        return len(self.api.calls)
