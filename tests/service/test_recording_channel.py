"""The recording channel passes the channel conformance suite, plus its own specifics."""

from __future__ import annotations

import pytest

from loancollect.plugins import make_plugin_manager
from loancollect.ports import Channel, DeliveryStatus
from loancollect.registry import make_channel
from loancollect.testing import (
    ChannelContract,
    FailureMode,
    RecordingChannel,
    make_action,
    make_message,
)


class TestRecordingChannel(ChannelContract):
    @pytest.fixture
    def channel(self) -> Channel:
        return RecordingChannel()

    def fail_next(self, channel: Channel, mode: FailureMode) -> None:
        assert isinstance(channel, RecordingChannel)
        channel.fail_next(mode)

    def deliveries(self, channel: Channel) -> int | None:
        assert isinstance(channel, RecordingChannel)
        return len(channel.deliveries)


class TestRecordingChannelFromRegistry(TestRecordingChannel):
    """The same suite for the channel built through ``loancollect_register_channels``."""

    @pytest.fixture
    def channel(self) -> Channel:
        return make_channel(make_plugin_manager(), "recording", {"name": "sms"})


def test_raise_mode_raises_and_is_recorded_without_a_result() -> None:
    channel = RecordingChannel()
    channel.fail_next("raise")
    action = make_action()
    with pytest.raises(ConnectionError):
        channel.send(action, make_message(), action.idempotency_key)
    assert channel.deliveries[0].result is None
    assert channel.send(action, make_message(), action.idempotency_key).ok  # then retried


def test_fail_always_until_switched_off() -> None:
    channel = RecordingChannel()
    channel.fail_always(FailureMode.PERMANENT)
    a, b = make_action(rule_id="a"), make_action(rule_id="b")
    assert channel.send(a, make_message(), a.idempotency_key).status is (
        DeliveryStatus.FAILED_PERMANENT
    )
    channel.fail_always(None)
    assert channel.send(b, make_message(), b.idempotency_key).ok
    assert [d.key for d in channel.sent] == [b.idempotency_key]
    assert channel.messages == [make_message()]
    channel.clear()
    assert channel.deliveries == []


def test_messages_are_masked_in_repr() -> None:
    message = make_message(text="张伟 owes ¥1,234.56")
    assert "张伟" not in repr(message)
    assert "1,234.56" not in repr(message)
