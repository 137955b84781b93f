"""The lean path of ``assess`` (common terms, default waterfall) equals the general path."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pendulum
from hypothesis import given
from hypothesis import strategies as st

from loancollect import (
    HORIZONTAL,
    AssessmentConfig,
    Borrower,
    Loan,
    Money,
    PartyKind,
    Payment,
    PenaltyTerms,
    RepaymentMethod,
    Waterfall,
    assess,
)
from loancollect.domain.calendar import DayCount

BORROWER = Borrower(
    id="B",
    kind=PartyKind.INDIVIDUAL,
    name="N",
    jurisdiction="CN",
    time_zone="Asia/Shanghai",
    locale="zh_CN",
)
START = dt.date(2024, 12, 31)
# Same steps, different object: forces the general path.
GENERAL = AssessmentConfig(waterfall=Waterfall("horizontal-copy", HORIZONTAL.steps))


@st.composite
def cases(draw: st.DrawFn) -> tuple[Loan, list[Payment], dt.date]:
    term = draw(st.integers(1, 12))
    loan = Loan.create(
        id="L",
        borrower=BORROWER,
        principal=Money(draw(st.integers(100, 10**6)), "CNY"),
        annual_rate=Decimal(draw(st.integers(0, 360))) / 1000,
        term=term,
        disbursement_date=START,
        method=draw(st.sampled_from(list(RepaymentMethod))),
        penalty=PenaltyTerms(
            markup=Decimal(draw(st.integers(0, 100))) / 100,
            compound=draw(st.booleans()),
            day_count=draw(st.sampled_from([DayCount.ACT_360, DayCount.ACT_365F])),
        ),
        tolerance=draw(st.one_of(st.none(), st.just(Money("1.00", "CNY")))),
    )
    payments = []
    for k in range(draw(st.integers(0, 5))):
        day = START + dt.timedelta(days=draw(st.integers(0, 31 * term + 60)))
        payments.append(
            Payment(
                id=f"P{k}",
                loan_id="L",
                amount=Money(draw(st.integers(1, 10**6)), "CNY"),
                value_date=day,
                received_at=pendulum.datetime(
                    day.year, day.month, day.day, draw(st.integers(0, 23)), tz="UTC"
                ),
            )
        )
    as_of = START + dt.timedelta(days=draw(st.integers(0, 31 * term + 120)))
    return loan, payments, as_of


@given(cases())
def test_lean_and_general_paths_agree_on_everything(
    case: tuple[Loan, list[Payment], dt.date],
) -> None:
    loan, payments, as_of = case
    assert loan.simple_penalty is not None
    lean = assess(loan, payments, as_of)
    general = assess(loan, payments, as_of, config=GENERAL)
    assert lean == general
    assert lean.installments == general.installments
