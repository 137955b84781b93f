"""Events: typed, append-only, hash-chained; tampering is detected."""

from __future__ import annotations

import datetime as dt

import attrs
import pendulum
import pytest

from loancollect import ValidationError
from loancollect.domain.events import GENESIS, EventKind, chain, make_event, verify_chain

DAY = dt.date(2025, 3, 1)


def stream() -> tuple:  # type: ignore[type-arg]
    return chain(
        [
            make_event(
                EventKind.STAGE_CHANGED,
                "L1",
                DAY,
                data={"previous": "current", "current": "overdue_confirmation"},
            ),
            make_event(EventKind.ACTION_PLANNED, "L1", DAY, data={"rule": "confirm.sms"}),
            make_event(
                EventKind.PAYMENT_RECEIVED,
                "L1",
                DAY + dt.timedelta(days=1),
                data={"amount": "100.00"},
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
    more = chain(
        [make_event(EventKind.CASE_CLOSED, "L1", DAY)], prev_hash=first[-1].hash, start_seq=3
    )
    assert verify_chain(first + more) is None


def test_event_times_must_be_aware_and_values_become_strings() -> None:
    with pytest.raises(ValidationError):
        make_event(EventKind.ACTION_SENT, "L1", DAY, at=dt.datetime(2025, 3, 1, 9))
    ev = make_event(
        EventKind.ACTION_SENT,
        "L1",
        DAY,
        at=pendulum.datetime(2025, 3, 1, 9, tz="UTC"),
        data={"on": DAY, "n": 3, "kind": EventKind.OPT_OUT},
    )
    assert ev.details == {"on": "2025-03-01", "n": "3", "kind": "opt_out"}
    assert ev.get("n") == "3"
