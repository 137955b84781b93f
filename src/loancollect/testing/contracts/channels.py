"""The conformance suite of :class:`loancollect.ports.Channel`."""

from __future__ import annotations

import pytest

from loancollect.builtin.recording import FailureMode
from loancollect.domain.loans import ContactPoint
from loancollect.ports import (
    CAP_POLL,
    Channel,
    DeliveryResult,
    DeliveryStatus,
    PollingChannel,
    RenderedMessage,
)
from loancollect.testing.builders import make_action, make_message

__all__ = ["ChannelContract"]


class ChannelContract:
    """The channel conformance suite.

    Provide a ``channel`` fixture, implement :meth:`fail_next` (make the next
    delivery fail in a given way, e.g. by programming a fake gateway), and
    optionally :meth:`deliveries` (how many deliveries reached the provider) so
    the suite can prove a repeated key is not delivered twice. List the failure
    modes your channel cannot simulate in ``unsupported_failures``.
    """

    unsupported_failures: frozenset[FailureMode] = frozenset()

    @pytest.fixture
    def channel(self) -> Channel:
        """Override: the channel under test, fresh for each test."""
        raise NotImplementedError("subclass ChannelContract and provide a channel fixture")

    def fail_next(self, channel: Channel, mode: FailureMode) -> None:
        """Override: make the next delivery of ``channel`` fail in ``mode``."""
        raise NotImplementedError("subclass ChannelContract and implement fail_next")

    def deliveries(self, channel: Channel) -> int | None:
        """Override: deliveries that reached the provider so far (``None``: unknown)."""
        return None

    @pytest.fixture
    def message(self) -> RenderedMessage:
        """The message sent in the tests (override to suit the channel)."""
        return make_message()

    @pytest.fixture
    def contact(self) -> ContactPoint | None:
        """The contact point of the actions sent in the tests (override to suit the
        channel: an e-mail address for e-mail, a postal address for letters)."""
        return make_action().contact

    def _arrange_failure(self, channel: Channel, mode: FailureMode) -> None:
        if mode in self.unsupported_failures:
            pytest.skip(f"channel cannot simulate {mode.value} failures")
        self.fail_next(channel, mode)

    def test_is_a_channel_with_name_and_capabilities(self, channel: Channel) -> None:
        assert isinstance(channel, Channel)
        assert isinstance(channel.name, str)
        assert channel.name
        assert isinstance(channel.capabilities, frozenset)
        assert all(isinstance(c, str) for c in channel.capabilities)

    def test_send_returns_a_classified_result(
        self, channel: Channel, message: RenderedMessage, contact: ContactPoint | None
    ) -> None:
        action = make_action(channel=channel.name, contact=contact)
        result = channel.send(action, message, action.idempotency_key)
        assert isinstance(result, DeliveryResult)
        assert result.status is DeliveryStatus.SENT

    def test_a_repeated_key_is_not_delivered_twice(
        self, channel: Channel, message: RenderedMessage, contact: ContactPoint | None
    ) -> None:
        action = make_action(channel=channel.name, contact=contact)
        first = channel.send(action, message, action.idempotency_key)
        before = self.deliveries(channel)
        second = channel.send(action, message, action.idempotency_key)
        assert second == first
        if before is not None:
            assert self.deliveries(channel) == before

    def test_distinct_keys_are_both_delivered(
        self, channel: Channel, message: RenderedMessage, contact: ContactPoint | None
    ) -> None:
        a = make_action(channel=channel.name, contact=contact, rule_id="a")
        b = make_action(channel=channel.name, contact=contact, rule_id="b")
        assert channel.send(a, message, a.idempotency_key).ok
        assert channel.send(b, message, b.idempotency_key).ok
        if self.deliveries(channel) is not None:
            assert self.deliveries(channel) == 2

    @pytest.mark.parametrize(
        ("mode", "status"),
        [
            (FailureMode.RETRYABLE, DeliveryStatus.FAILED_RETRYABLE),
            (FailureMode.PERMANENT, DeliveryStatus.FAILED_PERMANENT),
            (FailureMode.REJECTED, DeliveryStatus.REJECTED),
        ],
    )
    def test_failures_are_classified(
        self,
        channel: Channel,
        contact: ContactPoint | None,
        message: RenderedMessage,
        mode: FailureMode,
        status: DeliveryStatus,
    ) -> None:
        self._arrange_failure(channel, mode)
        action = make_action(channel=channel.name, contact=contact)
        result = channel.send(action, message, action.idempotency_key)
        assert result.status is status
        assert result.detail, "a failure must say what went wrong"

    def test_a_retryable_failure_may_be_retried_with_the_same_key(
        self, channel: Channel, message: RenderedMessage, contact: ContactPoint | None
    ) -> None:
        self._arrange_failure(channel, FailureMode.RETRYABLE)
        action = make_action(channel=channel.name, contact=contact)
        assert channel.send(action, message, action.idempotency_key).retryable
        assert channel.send(action, message, action.idempotency_key).ok

    def test_a_permanent_failure_is_final_for_its_key(
        self, channel: Channel, message: RenderedMessage, contact: ContactPoint | None
    ) -> None:
        self._arrange_failure(channel, FailureMode.PERMANENT)
        action = make_action(channel=channel.name, contact=contact)
        first = channel.send(action, message, action.idempotency_key)
        assert channel.send(action, message, action.idempotency_key) == first

    def test_poll_reports_the_status_when_supported(
        self, channel: Channel, message: RenderedMessage, contact: ContactPoint | None
    ) -> None:
        if CAP_POLL not in channel.capabilities:
            pytest.skip("channel does not poll")
        assert isinstance(channel, PollingChannel)
        action = make_action(channel=channel.name, contact=contact)
        assert channel.poll(action.idempotency_key) is None
        channel.send(action, message, action.idempotency_key)
        polled = channel.poll(action.idempotency_key)
        assert polled is not None
        assert polled.status is DeliveryStatus.SENT
