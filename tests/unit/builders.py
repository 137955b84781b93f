"""Builders for unit tests: plain constructors with sensible defaults.

Each builder returns a fresh frozen value; override any field by keyword. No
fixtures, no hidden state.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pendulum

from loancollect import (
    Borrower,
    ContactKind,
    ContactPoint,
    DayCount,
    Installment,
    Loan,
    Money,
    Payment,
    PenaltyTerms,
    Rounding,
)
from loancollect.testing.builders import make_borrower, make_loan

CNY = "CNY"


def cny(amount: str | int | Decimal) -> Money:
    """``Money(amount, "CNY")``."""
    return Money(amount, CNY)


def d(iso: str) -> dt.date:
    """A date from an ISO string."""
    return dt.date.fromisoformat(iso)


def borrower(**overrides: Any) -> Borrower:
    """:func:`make_borrower` without the postal address: a mobile number and an e-mail."""
    fields: dict[str, Any] = {
        "contact_points": (
            ContactPoint(ContactKind.PHONE, "+86 138 0013 8000", label="mobile"),
            ContactPoint(ContactKind.EMAIL, "zhang.wei@example.com", label="home"),
        ),
    }
    fields.update(overrides)
    return make_borrower(**fields)


def loan(**overrides: Any) -> Loan:
    """EI-01 of the golden vectors: 100,000 CNY, 6 %, 12 months 等额本息 from 2025-01-15.

    :func:`make_loan` with :func:`borrower`; any :meth:`Loan.create` keyword may be
    overridden.
    """
    fields: dict[str, Any] = {"borrower": borrower()}
    fields.update(overrides)
    return make_loan(**fields)


def single_installment_loan(
    *,
    principal: str,
    due: str,
    interest: str = "0.00",
    annual_rate: str = "0.06",
    markup: str = "0.5",
    day_count: DayCount = DayCount.ACT_360,
    compound: bool = False,
    penalty_rate: str | None = None,
    rounding: Rounding = Rounding.HALF_UP,
    currency: str = CNY,
    **overrides: Any,
) -> Loan:
    """A loan whose only installment has ``principal`` (and ``interest``) due on ``due``.

    The shape of the golden penalty cases: the base amount is the installment's
    principal, so the penalty is charged on exactly that amount.
    """
    due_date = d(due)
    fields: dict[str, Any] = {
        "id": "L-1",
        "borrower": borrower(),
        "principal": Money(principal, currency),
        "annual_rate": Decimal(annual_rate),
        "disbursement_date": due_date - dt.timedelta(days=30),
        "installments": (
            Installment(
                number=1,
                due_date=due_date,
                principal=Money(principal, currency),
                interest=Money(interest, currency),
            ),
        ),
        "penalty": PenaltyTerms(
            markup=Decimal(markup),
            rate=None if penalty_rate is None else Decimal(penalty_rate),
            day_count=day_count,
            compound=compound,
            rounding=rounding,
        ),
    }
    fields.update(overrides)
    return Loan(**fields)


def payment(
    amount: str | Money,
    on: str | dt.date,
    *,
    loan_id: str = "L-1",
    id: str | None = None,
    hour: int = 10,
) -> Payment:
    """A payment received at ``hour`` o'clock Shanghai time on its value date."""
    day = d(on) if isinstance(on, str) else on
    money = amount if isinstance(amount, Money) else cny(amount)
    return Payment(
        id=id or f"P-{day.isoformat()}-{hour}",
        loan_id=loan_id,
        amount=money,
        value_date=day,
        received_at=pendulum.datetime(day.year, day.month, day.day, hour, tz="Asia/Shanghai"),
    )
