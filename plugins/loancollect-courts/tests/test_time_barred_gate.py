"""The rule packs apply their time-barred rules on the limitation computed from the
case: nobody sets ``time_barred`` by hand (CONC 7.15 in the UK pack)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pendulum
from loancollect_rules_uk.pack import pack

from loancollect.builtin.compliance import ComplianceGuard
from loancollect.domain.events import Event, PaymentReceived, new_event
from loancollect.domain.loans import ContactKind, ContactPoint
from loancollect.domain.money import Money
from loancollect.domain.strategy import Tone
from loancollect.testing.builders import make_action, make_borrower, make_case, make_loan

HOME = ContactPoint(ContactKind.ADDRESS, "1 Example Street, London", label="home")
BORROWER = make_borrower(
    name="Oliver Hughes",
    jurisdiction="GB",
    time_zone="Europe/London",
    locale="en_GB",
    contact_points=(HOME,),
    national_id=None,
)
LOAN = make_loan(borrower=BORROWER, principal=Money("5000.00", "GBP"))
# The last instalment fell due on 2026-01-15: six years later, 2032-01-15 (a Thursday).


def _objections(as_of: dt.date, history: tuple[Event, ...] = ()) -> list[str]:
    guard = ComplianceGuard([pack()])
    action = make_action(
        channel="letter",
        rule_id="legal.letter",
        stage="legal",
        template="legal_warning",
        tone=Tone.LEGAL_WARNING,
        as_of=as_of,
        locale="en_GB",
        contact=HOME,
    )
    at = pendulum.datetime(as_of.year, as_of.month, as_of.day, 11, tz="Europe/London")
    found = guard.loancollect_check_contact(
        action=action,
        loan=LOAN,
        case=make_case(stage="legal", stage_since=as_of),
        as_of=as_of,
        at=at,
        history=history,
    )
    return [v.rule_id for v in found]


def test_a_legal_warning_on_a_statute_barred_debt_is_stopped() -> None:
    assert _objections(dt.date(2032, 1, 15)) == []  # the last day: still in time
    assert _objections(dt.date(2032, 1, 16)) == ["UK-12"]  # CONC 7.15: statute-barred


def test_a_part_payment_in_time_restarts_the_period_s29_5() -> None:
    paid = new_event(
        PaymentReceived(payment="P-1", amount=Decimal("10.00"), currency="GBP"),
        loan_id="L-1",
        on=dt.date(2031, 6, 1),
    )
    assert _objections(dt.date(2032, 1, 16), (paid,)) == []
