"""The phone channel's settings, its queue mode, and its README."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from loancollect_phone import CallQueue, PhoneChannel
from loancollect_phone.channel import SETTINGS, from_settings
from phone_helpers import CN_LOAN, Desk, call_action

from loancollect.domain.loans import ContactKind, ContactPoint
from loancollect.errors import ConfigurationError
from loancollect.ports import DeliveryStatus
from loancollect.testing import make_message

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def test_the_readme_names_every_setting() -> None:
    for key in SETTINGS:
        assert f"`{key}`" in README, key


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"dialer": "twilio", "colour": "red"}, "'colour'"),
        ({"dialer": "sip"}, "'dialer'"),
        ({"dialer": "twilio"}, "'twilio.account_sid'"),
        ({"dialer": "ari", "ari.base_url": "http://127.0.0.1:9/ari"}, "'ari.username'"),
    ],
)
def test_a_bad_setting_is_refused_naming_it(settings: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        from_settings(settings)


def test_a_channel_needs_a_dialer_or_a_queue() -> None:
    with pytest.raises(ConfigurationError, match="dialer or a queue"):
        PhoneChannel()


def test_in_queue_mode_a_send_queues_one_task_per_key(desk: Desk) -> None:
    queue = CallQueue(desk.gate)
    channel = PhoneChannel(queue=queue, task_for=desk.desk.task_for)
    action = call_action(CN_LOAN)
    first = channel.send(action, make_message(), action.idempotency_key)
    assert first.status is DeliveryStatus.SENT
    assert dict(first.evidence) == {"mode": "queue", "queued": "new"}
    assert channel.send(action, make_message(), action.idempotency_key) == first
    assert len(queue) == 1


def test_an_action_without_a_phone_number_fails_for_good(desk: Desk) -> None:
    channel = PhoneChannel(queue=CallQueue(desk.gate), task_for=desk.desk.task_for)
    action = attrs.evolve(
        call_action(CN_LOAN), contact=ContactPoint(ContactKind.EMAIL, "a@example.com")
    )
    result = channel.send(action, make_message(), action.idempotency_key)
    assert result.status is DeliveryStatus.FAILED_PERMANENT
