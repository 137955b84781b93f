"""``stored_loan`` / ``stored_installments``: what storage back-ends rebuild loans with.

A loan rebuilt from its stored integers equals the original and has the same derived
plan; stored rows that break a rule raise the same errors as the constructor.
"""

from __future__ import annotations

import pickle
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loancollect.domain.errors import UnknownCurrencyError, ValidationError
from loancollect.domain.loans import (
    DayCount,
    Frequency,
    Loan,
    PenaltyTerms,
    RepaymentMethod,
    same_loan,
    stored_installments,
    stored_loan,
)
from loancollect.domain.money import Money
from loancollect.testing.builders import make_loan


def _schedule(loan: Loan) -> list[list[Any]]:
    return [
        [
            i.number,
            i.due_date.isoformat(),
            i.principal.minor_units,
            i.interest.minor_units,
            None if i.fees is None else i.fees.minor_units,
            None if i.accrual_start is None else i.accrual_start.isoformat(),
            i.accrual_days,
        ]
        for i in loan.installments
    ]


def _stored(loan: Loan, **overrides: Any) -> Loan:
    fields: dict[str, Any] = {
        "id": loan.id,
        "borrower": loan.borrower,
        "currency": loan.principal.currency,
        "principal_minor": loan.principal.minor_units,
        "annual_rate": loan.annual_rate,
        "disbursement_date": loan.disbursement_date,
        "schedule": _schedule(loan),
        "method": loan.method,
        "frequency": loan.frequency,
        "day_count": loan.day_count,
        "penalty": loan.penalty,
        "grace_days": loan.grace_days,
        "tolerance_minor": None if loan.tolerance is None else loan.tolerance.minor_units,
        "private_lending": loan.private_lending,
        "contract_date": loan.contract_date,
        "product": loan.product,
    }
    fields.update(overrides)
    return stored_loan(**fields)


@settings(max_examples=60, deadline=None)
@given(
    principal=st.integers(min_value=100, max_value=10**10),
    rate=st.integers(min_value=0, max_value=3600),
    term=st.integers(min_value=1, max_value=36),
    currency=st.sampled_from(["CNY", "USD", "JPY", "KWD"]),
    method=st.sampled_from(list(RepaymentMethod)),
    frequency=st.sampled_from([Frequency.MONTHLY, Frequency.WEEKLY]),
    day_count=st.sampled_from([None, DayCount.ACT_365F]),
)
def test_a_stored_loan_equals_the_original_with_the_same_plan(
    principal: int,
    rate: int,
    term: int,
    currency: str,
    method: RepaymentMethod,
    frequency: Frequency,
    day_count: DayCount | None,
) -> None:
    loan = make_loan(
        principal=Money.from_minor(principal, currency),
        annual_rate=Decimal(rate) / 10_000,
        term=term,
        method=method,
        frequency=frequency,
        day_count=day_count,
        tolerance=Money.from_minor(5, currency),
        penalty=PenaltyTerms(markup=Decimal("0.3"), compound=False),
    )
    again = _stored(loan)
    assert again == loan
    assert again.plan == loan.plan
    assert again.columns == loan.columns
    assert again.penalty_fraction == loan.penalty_fraction
    assert again.simple_penalty == loan.simple_penalty
    assert again.installments == loan.installments


def test_fees_and_accrual_fields_survive() -> None:
    loan = make_loan(term=3)
    first = loan.installments[0]
    schedule = _schedule(loan)
    schedule[0][4] = 1234
    with_fee = _stored(loan, schedule=schedule)
    assert with_fee.installments[0].fees == Money("12.34", "CNY")
    assert with_fee.plan[0][3] == 1234
    assert with_fee.installments[0].accrual_start == first.accrual_start
    assert with_fee.installments[0].accrual_days == first.accrual_days


def test_rows_that_break_a_rule_raise_the_constructors_errors() -> None:
    loan = make_loan(term=3)
    schedule = _schedule(loan)
    short = [row[:] for row in schedule]
    short[2][2] -= 1
    with pytest.raises(ValidationError, match="must sum to the loan principal"):
        _stored(loan, schedule=short)
    swapped = [row[:] for row in schedule]
    swapped[0][1], swapped[1][1] = swapped[1][1], swapped[0][1]
    with pytest.raises(ValidationError, match=r"installments\[1\].due_date"):
        _stored(loan, schedule=swapped)
    early = [row[:] for row in schedule]
    early[0][1] = "2024-12-31"
    with pytest.raises(ValidationError, match="after disbursement"):
        _stored(loan, schedule=early)
    negative = [row[:] for row in schedule]
    negative[1][3] = -5
    with pytest.raises(ValidationError, match=r"installment\[2\].interest"):
        _stored(loan, schedule=negative)
    text = [row[:] for row in schedule]
    text[0][2] = "100"
    with pytest.raises(ValidationError, match="minor units must be an int"):
        _stored(loan, schedule=text)
    with pytest.raises(ValidationError, match="a loan needs at least one installment"):
        _stored(loan, schedule=[])
    with pytest.raises(ValidationError, match=r"loan\.id"):
        _stored(loan, id="")
    with pytest.raises(ValidationError, match=r"loan\.annual_rate"):
        _stored(loan, annual_rate=Decimal(6))
    with pytest.raises(ValidationError, match=r"loan\.grace_days"):
        _stored(loan, grace_days=400)
    with pytest.raises(ValidationError, match=r"loan\.tolerance"):
        _stored(loan, tolerance_minor=-1)
    with pytest.raises(ValidationError, match=r"loan\.borrower"):
        _stored(loan, borrower="someone")
    with pytest.raises(UnknownCurrencyError):
        stored_installments(schedule, "XXX")


def test_a_stored_loan_crosses_processes_as_its_rows_and_builds_installments_when_asked() -> None:
    loan = make_loan(term=6)
    stored = _stored(loan)
    state = stored.__getstate__()
    assert "installments" not in state
    assert state["_stored_rows"] is not None
    again = pickle.loads(pickle.dumps(stored))
    assert "installments" not in again.__getstate__()
    assert again == loan
    assert again.installments == loan.installments
    assert again.columns == loan.columns


def test_a_loan_built_by_its_constructor_crosses_processes_whole() -> None:
    loan = make_loan(term=4)
    again = pickle.loads(pickle.dumps(loan))
    assert again == loan
    assert again.installments == loan.installments


def test_same_loan_agrees_with_equality_without_building_installments() -> None:
    loan = make_loan(term=6)
    a, b = _stored(loan), _stored(loan)
    assert same_loan(a, b)
    assert "installments" not in a.__getstate__()
    assert "installments" not in b.__getstate__()
    assert same_loan(a, loan)
    assert same_loan(loan, a)
    other_product = _stored(loan, product="card")
    assert not same_loan(a, other_product)
    assert (a == other_product) is False
    schedule = _schedule(loan)
    schedule[0][4] = 500  # a fee on the first installment: rows differ
    with_fee = _stored(loan, schedule=schedule)
    assert not same_loan(a, with_fee)
    assert (a == with_fee) is False


@settings(max_examples=40, deadline=None)
@given(
    fee=st.one_of(st.none(), st.integers(min_value=0, max_value=10_000)),
    grace=st.integers(min_value=0, max_value=5),
    product=st.sampled_from(["default", "card"]),
)
def test_same_loan_is_equality(fee: int | None, grace: int, product: str) -> None:
    loan = make_loan(term=3)
    base = _stored(loan)
    schedule = _schedule(loan)
    schedule[1][4] = fee
    other = _stored(loan, schedule=schedule, grace_days=grace, product=product)
    assert same_loan(base, other) == (base == other)
