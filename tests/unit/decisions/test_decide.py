"""decide(): the whole pure decision for one case, and its next review date."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pendulum
from hypothesis import given
from hypothesis import strategies as st

from loancollect import Borrower, ContactKind, ContactPoint, Loan, Money, PartyKind, Payment
from loancollect.domain.case import Case, Hold, HoldKind
from loancollect.domain.decision import decide
from loancollect.domain.defaults import DEFAULT_POLICY, DEFAULT_STRATEGY
from loancollect.domain.events import ActionPlanned, EventKind
from loancollect.domain.scoring import Scores

START = dt.date(2025, 1, 31)  # month-end anchor: due dates clamp
BORROWER = Borrower(
    id="B",
    kind=PartyKind.INDIVIDUAL,
    name="Li Lei",
    jurisdiction="CN",
    time_zone="Asia/Shanghai",
    locale="zh_CN",
    contact_points=[
        ContactPoint(ContactKind.PHONE, "+8613900000000"),
        ContactPoint(ContactKind.EMAIL, "l@example.com"),
        ContactPoint(ContactKind.ADDRESS, "Road 1"),
    ],
)
FIXED = Scores(Decimal("0.7"), Decimal("0.6"), Decimal("0.6"))


def run(ln: Loan, payments: list[Payment], case: Case, day: dt.date, scores: Scores | None = FIXED):  # type: ignore[no-untyped-def]
    return decide(
        loan=ln,
        payments=payments,
        case=case,
        as_of=day,
        policy=DEFAULT_POLICY,
        strategy=DEFAULT_STRATEGY,
        scores=scores,
    )


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Loan, list[Payment], dt.date, dt.date]:
    term = draw(st.integers(2, 8))
    ln = Loan.create(
        id="L",
        borrower=BORROWER,
        principal=Money(draw(st.integers(1000, 50000)), "CNY"),
        annual_rate=Decimal(draw(st.integers(0, 240))) / 1000,
        term=term,
        disbursement_date=START,
        grace_days=draw(st.integers(0, 5)),
    )
    as_of = START + dt.timedelta(days=draw(st.integers(1, 31 * term + 150)))
    payments = []
    for inst in ln.installments:
        offset = draw(st.one_of(st.none(), st.integers(-10, 90)))
        if offset is None:
            continue
        day = inst.due_date + dt.timedelta(days=offset)
        if day < START or day > as_of:
            continue
        share = draw(st.sampled_from([Decimal("0.3"), Decimal("1"), Decimal("1.2")]))
        payments.append(
            Payment(
                id=f"P{inst.number}",
                loan_id="L",
                amount=inst.total.multiply(share),
                value_date=day,
                received_at=pendulum.datetime(day.year, day.month, day.day, tz="UTC"),
            )
        )
    first_look = START + dt.timedelta(days=draw(st.integers(1, (as_of - START).days)))
    return ln, payments, first_look, as_of


@given(scenarios(), st.integers(1, 120))
def test_nothing_changes_on_any_day_before_the_next_review(scenario, gap: int) -> None:  # type: ignore[no-untyped-def]
    ln, payments, first_look, _as_of = scenario
    known = [p for p in payments if p.value_date <= first_look]
    first = run(ln, known, Case(loan_id="L"), first_look)
    nxt = first.next_review_date
    assert nxt is None or nxt > first_look
    if nxt is None:
        return
    later = first_look + dt.timedelta(days=gap)
    if later >= nxt:
        return
    again = run(ln, known, first.case, later)
    assert again.transition is None, (first.stage, again.transition)
    assert again.stage == first.stage
    assert again.actions == ()
    assert again.next_review_date == nxt


@given(scenarios())
def test_the_next_review_date_is_never_in_the_past(scenario) -> None:  # type: ignore[no-untyped-def]
    ln, payments, first_look, _as_of = scenario
    case = Case(loan_id="L")
    day = first_look
    for _ in range(20):
        d = run(ln, [p for p in payments if p.value_date <= day], case, day, scores=None)
        if d.next_review_date is None:
            assert d.stage in ("closed", "settled", "written_off")
            return
        assert d.next_review_date > day
        case, day = d.case, d.next_review_date


def test_a_hold_freezes_escalation_and_contact() -> None:
    ln = Loan.create(
        id="L",
        borrower=BORROWER,
        principal=Money("9000", "CNY"),
        annual_rate="0.1",
        term=6,
        disbursement_date=START,
    )
    due = ln.installments[0].due_date
    d1 = run(ln, [], Case(loan_id="L"), due + dt.timedelta(days=5))
    assert d1.stage == "early_collection"
    held = d1.case.with_hold(
        Hold(HoldKind.DISPUTE, due + dt.timedelta(days=6), due + dt.timedelta(days=60))
    )
    d2 = run(ln, [], held, due + dt.timedelta(days=40))
    assert d2.stage == "early_collection"
    assert d2.actions == ()
    assert d2.next_review_date == due + dt.timedelta(days=61)
    d3 = run(ln, [], d2.case, due + dt.timedelta(days=61))
    assert d3.stage == "further_collection"


def test_a_pending_promise_suppresses_contact_until_it_resolves() -> None:
    from loancollect.domain.arrangements import PromiseToPay

    ln = Loan.create(
        id="L",
        borrower=BORROWER,
        principal=Money("9000", "CNY"),
        annual_rate="0.1",
        term=6,
        disbursement_date=START,
    )
    due = ln.installments[0].due_date
    d1 = run(ln, [], Case(loan_id="L"), due + dt.timedelta(days=5))
    promise = PromiseToPay(
        id="p",
        made_on=due + dt.timedelta(days=6),
        amount=Money("500", "CNY"),
        due=due + dt.timedelta(days=9),
    )
    case = d1.case.with_arrangement(promise)
    assert case.next_review_date == promise.made_on
    quiet = run(ln, [], case, due + dt.timedelta(days=7))
    assert quiet.actions == ()
    assert quiet.next_review_date is not None
    assert quiet.next_review_date <= promise.due
    broken = run(ln, [], quiet.case, due + dt.timedelta(days=10))
    assert [e.kind for e in broken.events if e.kind is EventKind.PROMISE_BROKEN] == [
        EventKind.PROMISE_BROKEN
    ]
    assert broken.actions != ()


def test_decisions_record_events_for_stage_segment_variant_and_actions() -> None:
    ln = Loan.create(
        id="L",
        borrower=BORROWER,
        principal=Money("9000", "CNY"),
        annual_rate="0.1",
        term=6,
        disbursement_date=START,
    )
    d = run(
        ln, [], Case(loan_id="L"), ln.installments[0].due_date + dt.timedelta(days=1), scores=None
    )
    kinds = [e.kind for e in d.events]
    assert kinds[:2] == [EventKind.SEGMENT_ASSIGNED, EventKind.VARIANT_ASSIGNED]
    assert EventKind.STAGE_CHANGED in kinds
    planned = [e for e in d.events if e.kind is EventKind.ACTION_PLANNED]
    assert [ActionPlanned.parse(e).key for e in planned] == [a.idempotency_key for a in d.actions]
    assert d.case.variant == "default"
    assert d.case.last_action("confirm.sms") == d.assessment.as_of
