"""Events: typed, append-only, hash-chained; tampering is detected."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs
import pendulum
import pytest

from loancollect import ValidationError
from loancollect.domain.events import (
    GENESIS,
    ActionPlanned,
    ActionSent,
    CaseClosed,
    EventKind,
    PaymentReceived,
    StageChanged,
    chain,
    new_event,
    verify_chain,
)

DAY = dt.date(2025, 3, 1)


def stream() -> tuple:  # type: ignore[type-arg]
    return chain(
        [
            new_event(
                StageChanged(previous="current", current="overdue_confirmation", reason="dpd"),
                loan_id="L1",
                on=DAY,
            ),
            new_event(
                ActionPlanned(rule="confirm.sms", channel="sms", key="k", template="t"),
                loan_id="L1",
                on=DAY,
            ),
            new_event(
                PaymentReceived(payment="P", amount=Decimal("100.00"), currency="CNY"),
                loan_id="L1",
                on=DAY + dt.timedelta(days=1),
            ),
        ]
    )


def test_a_chained_stream_verifies() -> None:
    events = stream()
    assert verify_chain(events) is None
    assert [e.seq for e in events] == [0, 1, 2]
    assert events[0].prev_hash == GENESIS
    assert events[1].prev_hash == events[0].hash


@pytest.mark.parametrize(
    ("tamper", "bad_index"),
    [
        (lambda ev: (ev[0], attrs.evolve(ev[1], data=(("rule", "other"),)), ev[2]), 1),
        (lambda ev: (ev[0], ev[2]), 1),
        (lambda ev: (ev[1], ev[0], ev[2]), 0),
        (lambda ev: (ev[0], ev[1], attrs.evolve(ev[2], on=DAY)), 2),
    ],
    ids=["edited", "dropped", "reordered", "redated"],
)
def test_tampering_is_found_at_the_first_bad_event(tamper, bad_index: int) -> None:  # type: ignore[no-untyped-def]
    assert verify_chain(tamper(stream())) == bad_index


def test_a_continuation_chains_onto_the_last_hash() -> None:
    first = stream()
    closed = new_event(CaseClosed(outcome="settled"), loan_id="L1", on=DAY)
    more = chain([closed], prev_hash=first[-1].hash, start_seq=3)
    assert verify_chain(first + more) is None


def test_event_times_must_be_aware_and_payloads_are_stored_as_sorted_text() -> None:
    sent = ActionSent(key="k", channel="sms", rule="r", attempts=3, evidence=[("code", "202")])
    with pytest.raises(ValidationError):
        new_event(sent, loan_id="L1", on=DAY, at=dt.datetime(2025, 3, 1, 9))
    ev = new_event(sent, loan_id="L1", on=DAY, at=pendulum.datetime(2025, 3, 1, 9, tz="UTC"))
    assert ev.kind is EventKind.ACTION_SENT
    assert ev.data == (
        ("attempts", "3"),
        ("channel", "sms"),
        ("contact", ""),
        ("evidence.code", "202"),
        ("key", "k"),
        ("place", ""),
        ("provider_id", ""),
        ("rule", "r"),
    )
    assert ev.payload == sent
