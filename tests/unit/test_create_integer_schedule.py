"""``Loan.create`` builds its schedule in integers (``schedule_rows``) and keeps the rows.

The loan it returns is the one the class would build from ``build_schedule``'s
Installment objects: equal, with the same installments value by value (amounts
with the same Decimal digits), the same derived integer plan, and the same errors
for bad terms.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from loancollect.domain.calendar import BusinessCalendar, DayCount, RollConvention
from loancollect.domain.errors import LoanCollectError, ValidationError
from loancollect.domain.loans import Frequency, Loan, PenaltyTerms, RepaymentMethod
from loancollect.domain.money import Money
from loancollect.domain.schedule import build_schedule, schedule_rows
from loancollect.testing.builders import make_borrower


def _old_create(**kw: Any) -> Loan:
    """What ``Loan.create`` did before: a Money per amount, then the class."""
    schedule_args = {
        k: kw.pop(k)
        for k in ("term", "method", "frequency", "day_count", "first_due_date")
        if k in kw
    }
    installments = build_schedule(
        principal=kw["principal"],
        annual_rate=kw["annual_rate"],
        start=kw["disbursement_date"],
        **schedule_args,
    )
    for k in ("method", "frequency", "day_count"):
        if k in schedule_args:
            kw[k] = schedule_args[k]
    return Loan(installments=installments, **kw)


def _shown(loan: Loan) -> list[tuple[Any, ...]]:
    return [
        (
            i.number,
            i.due_date,
            str(i.principal.amount),
            str(i.interest.amount),
            i.fees,
            i.accrual_start,
            i.accrual_days,
        )
        for i in loan.installments
    ]


@settings(max_examples=150, deadline=None)
@given(
    principal=st.integers(min_value=1, max_value=10**11),
    currency=st.sampled_from(["CNY", "USD", "JPY", "KWD"]),
    rate=st.decimals(min_value=0, max_value=1, places=4),
    term=st.integers(min_value=1, max_value=60),
    method=st.sampled_from(list(RepaymentMethod)),
    frequency=st.sampled_from(list(Frequency)),
    day_count=st.none() | st.sampled_from(list(DayCount)),
    disbursed=st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2090, 1, 1)),
    first_due_in=st.none() | st.integers(min_value=1, max_value=90),
    grace=st.integers(min_value=0, max_value=30),
    product=st.sampled_from(["default", "consumer"]),
)
def test_create_equals_the_loan_built_from_money_installments(
    principal: int,
    currency: str,
    rate: Decimal,
    term: int,
    method: RepaymentMethod,
    frequency: Frequency,
    day_count: DayCount | None,
    disbursed: dt.date,
    first_due_in: int | None,
    grace: int,
    product: str,
) -> None:
    args: dict[str, Any] = {
        "id": "L1",
        "borrower": make_borrower(),
        "principal": Money.from_minor(principal, currency),
        "annual_rate": rate,
        "term": term,
        "disbursement_date": disbursed,
        "method": method,
        "frequency": frequency,
        "day_count": day_count,
        "first_due_date": None
        if first_due_in is None
        else disbursed + dt.timedelta(days=first_due_in),
        "grace_days": grace,
        "product": product,
        "penalty": PenaltyTerms(markup=Decimal("0.3")),
    }
    new = Loan.create(**args)
    old = _old_create(**args)
    assert new == old
    assert _shown(new) == _shown(old)
    assert new.plan == old.plan
    assert new.columns == old.columns
    assert new.simple_penalty == old.simple_penalty


def test_schedule_rows_are_the_installments_in_minor_units() -> None:
    principal = Money("10000.00", "CNY")
    rows = schedule_rows(
        principal=principal, annual_rate=Decimal("0.12"), term=3, start=dt.date(2025, 1, 31)
    )
    built = build_schedule(
        principal=principal, annual_rate=Decimal("0.12"), term=3, start=dt.date(2025, 1, 31)
    )
    assert rows == [
        (
            i.number,
            i.due_date,
            i.principal.minor_units,
            i.interest.minor_units,
            None,
            i.accrual_start,
            i.accrual_days,
        )
        for i in built
    ]
    assert sum(r[2] for r in rows) == 1_000_000


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"grace_days": 400}, "loan.grace_days"),
        ({"product": ""}, "loan.product"),
        ({"tolerance": Money("1", "USD")}, None),  # currency mismatch
        ({"term": 0}, "term"),
        ({"annual_rate": Decimal("1.5")}, "annual_rate"),
        ({"id": ""}, "loan.id"),
    ],
)
def test_create_refuses_bad_terms_as_the_class_does(
    change: dict[str, Any], field: str | None
) -> None:
    args: dict[str, Any] = {
        "id": "L1",
        "borrower": make_borrower(),
        "principal": Money("1000.00", "CNY"),
        "annual_rate": Decimal("0.1"),
        "term": 12,
        "disbursement_date": dt.date(2025, 1, 1),
        **change,
    }
    with pytest.raises(LoanCollectError) as new:
        Loan.create(**args)
    with pytest.raises(LoanCollectError) as old:
        _old_create(**args)
    assert type(new.value) is type(old.value)
    assert str(new.value) == str(old.value)
    if field is not None:
        assert isinstance(new.value, ValidationError)
        assert new.value.field == field


def test_create_with_an_unknown_term_is_refused_by_the_class() -> None:
    with pytest.raises(TypeError):
        Loan.create(
            id="L1",
            borrower=make_borrower(),
            principal=Money("1000.00", "CNY"),
            annual_rate=Decimal("0.1"),
            term=12,
            disbursement_date=dt.date(2025, 1, 1),
            colour="red",
        )


_NO_ROLL = BusinessCalendar("CN")  # with RollConvention.NONE: the general path, dates unmoved


@settings(max_examples=300, deadline=None)
@given(
    principal=st.integers(min_value=1, max_value=10**12),
    currency=st.sampled_from(["CNY", "JPY", "KWD"]),
    rate=st.decimals(min_value=0, max_value=1, places=6),
    term=st.integers(min_value=1, max_value=120),
    method=st.sampled_from(
        [
            RepaymentMethod.EQUAL_INSTALLMENT,
            RepaymentMethod.EQUAL_PRINCIPAL,
            RepaymentMethod.INTEREST_ONLY,
        ]
    ),
    frequency=st.sampled_from(list(Frequency)),
    disbursed=st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2090, 1, 1)),
)
# 1.00 at 6 % for a month is exactly half a fen: the half-up division must round it up.
@example(
    principal=100,
    currency="CNY",
    rate=Decimal("0.06"),
    term=2,
    method=RepaymentMethod.INTEREST_ONLY,
    frequency=Frequency.MONTHLY,
    disbursed=dt.date(2025, 1, 1),
)
def test_the_common_terms_loop_computes_what_the_general_path_does(
    principal: int,
    currency: str,
    rate: Decimal,
    term: int,
    method: RepaymentMethod,
    frequency: Frequency,
    disbursed: dt.date,
) -> None:
    args: dict[str, Any] = {
        "principal": Money.from_minor(principal, currency),
        "annual_rate": rate,
        "term": term,
        "start": disbursed,
        "method": method,
        "frequency": frequency,
    }
    general = schedule_rows(**args, calendar=_NO_ROLL, roll=RollConvention.NONE)
    assert schedule_rows(**args) == general
