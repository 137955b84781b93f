"""Delivered demands, payments, promises and filings in a case's history drive the
limitation period, and the compliance facts' ``time_barred`` follows from it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from loancollect.builtin.compliance import debt_facts
from loancollect.domain.case import OutcomeKind
from loancollect.domain.commands import SetFlag
from loancollect.domain.errors import ValidationError
from loancollect.domain.events import (
    ActionSent,
    ContactOutcomeRecorded,
    DeliveryReceipt,
    Event,
    LegalMatterAdvanced,
    PaymentReceived,
    new_event,
)
from loancollect.domain.legal import LimitationEventKind, limitation_events, loan_limitation
from loancollect.testing.builders import make_borrower, make_case, make_loan

D = dt.date
K = LimitationEventKind


def sent(key: str, channel: str, on: dt.date, *evidence: tuple[str, str]) -> Event:
    payload = ActionSent(key=key, channel=channel, rule="r", attempts=1, evidence=evidence)
    return new_event(payload, loan_id="L-1", on=on)


def receipt(key: str, channel: str, on: dt.date, status: str = "sent") -> Event:
    return new_event(DeliveryReceipt(key=key, channel=channel, status=status), loan_id="L-1", on=on)


def test_an_sms_counts_as_a_demand_only_once_its_delivery_is_reported() -> None:
    events = limitation_events([sent("k1", "sms", D(2026, 3, 1))])
    assert events == ()
    events = limitation_events(
        [sent("k1", "sms", D(2026, 3, 1)), receipt("k1", "sms", D(2026, 3, 2))]
    )
    assert [(e.kind, e.on, e.data_message, e.written) for e in events] == [
        (K.DEMAND_DELIVERED, D(2026, 3, 2), True, False)
    ]


def test_a_failed_delivery_receipt_is_no_demand() -> None:
    history = [
        sent("k1", "email", D(2026, 3, 1)),
        receipt("k1", "email", D(2026, 3, 2), "failed_permanent"),
    ]
    assert limitation_events(history) == ()


def test_a_letter_counts_only_if_it_is_a_demand_and_was_delivered() -> None:
    reminder = sent("k1", "letter", D(2026, 3, 1), ("letter_kind", "reminder"))
    demand = sent("k2", "letter", D(2026, 3, 1), ("interrupts_limitation", "on delivery"))
    history = [
        reminder,
        demand,
        receipt("k1", "letter", D(2026, 3, 4)),
        receipt("k2", "letter", D(2026, 3, 5)),
    ]
    events = limitation_events(history)
    assert [(e.source, e.on, e.written) for e in events] == [("k2", D(2026, 3, 5), True)]


def test_delivery_reported_at_the_send_counts_once() -> None:
    demand = sent("k1", "email", D(2026, 3, 1), ("delivered_on", "2026-03-01T10:00:00+08:00"))
    events = limitation_events([demand, receipt("k1", "email", D(2026, 3, 2))])
    assert [(e.on, e.source) for e in events] == [(D(2026, 3, 1), "k1")]


def test_calls_are_no_demands_but_a_promise_is_an_acknowledgment() -> None:
    call = sent("k1", "phone", D(2026, 3, 1))
    promise = new_event(
        ContactOutcomeRecorded(channel="phone", outcome=OutcomeKind.PROMISE),
        loan_id="L-1",
        on=D(2026, 3, 1),
    )
    events = limitation_events([call, receipt("k1", "phone", D(2026, 3, 1)), promise])
    assert [(e.kind, e.written) for e in events] == [(K.ACKNOWLEDGMENT, False)]


def test_payments_and_filings() -> None:
    pay = new_event(
        PaymentReceived(payment="P1", amount=Decimal("10"), currency="CNY"),
        loan_id="L-1",
        on=D(2026, 3, 1),
    )
    filed = new_event(
        LegalMatterAdvanced(matter="M1", step="payment_order_filed"),
        loan_id="L-1",
        on=D(2026, 4, 1),
    )
    other = new_event(
        LegalMatterAdvanced(matter="M1", step="demand_letter_sent"),
        loan_id="L-1",
        on=D(2026, 3, 20),
    )
    events = limitation_events([pay, other, filed])
    assert [e.kind for e in events] == [K.PART_PAYMENT, K.FILING]


def test_loan_limitation_runs_from_the_last_instalment_art_189() -> None:
    loan = make_loan()  # 12 monthly instalments, the last due 2026-01-15
    result = loan_limitation(loan, (), as_of=D(2029, 1, 16))
    assert result is not None
    assert result.accrued_on == D(2026, 1, 15)
    assert result.expires_on == D(2029, 1, 15)
    assert result.barred_on(D(2029, 1, 16))


def test_loan_in_an_uncovered_jurisdiction_has_no_limitation() -> None:
    loan = make_loan(borrower=make_borrower(jurisdiction="FR", time_zone="Europe/Paris"))
    assert loan_limitation(loan, (), as_of=D(2040, 1, 1)) is None


def test_time_barred_fact_is_computed_from_the_loan_and_its_history() -> None:
    loan, case = make_loan(), make_case()
    zone = "Asia/Shanghai"
    assert not debt_facts(loan, case, zone, as_of=D(2029, 1, 15)).time_barred
    assert debt_facts(loan, case, zone, as_of=D(2029, 1, 16)).time_barred
    # A delivered SMS demand in the period restarts it: no longer barred.
    history = (sent("k1", "sms", D(2028, 12, 1)), receipt("k1", "sms", D(2028, 12, 1)))
    assert not debt_facts(loan, case, zone, history=history, as_of=D(2029, 1, 16)).time_barred
    # Without a date, nothing is computed.
    assert not debt_facts(loan, case, zone).time_barred


def test_nobody_sets_the_time_barred_flag_by_hand() -> None:
    with pytest.raises(ValidationError, match="time_barred"):
        SetFlag(flag="time_barred").apply(make_case(), on=D(2026, 1, 1), currency="CNY")
