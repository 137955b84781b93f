"""Builders for decision tests (exposed as fixtures, so test modules need no imports)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pendulum
import pytest

from loancollect import Borrower, ContactKind, ContactPoint, Loan, Money, PartyKind, Payment

START = dt.date(2025, 1, 15)


def borrower(
    kind: PartyKind = PartyKind.INDIVIDUAL,
    contacts: tuple[str, ...] = ("phone", "email", "address"),
) -> Borrower:
    points = []
    if "phone" in contacts:
        points.append(ContactPoint(ContactKind.PHONE, "+86 138 0000 0001"))
    if "email" in contacts:
        points.append(ContactPoint(ContactKind.EMAIL, "debtor@example.com"))
    if "address" in contacts:
        points.append(ContactPoint(ContactKind.ADDRESS, "1 Main Street"))
    return Borrower(
        id="B1",
        kind=kind,
        name="Zhang San",
        jurisdiction="CN",
        time_zone="Asia/Shanghai",
        locale="zh_CN",
        contact_points=points,
    )


def loan(principal: str = "12000", term: int = 12, rate: str = "0.12", **kw: Any) -> Loan:
    b = kw.pop("borrower", None) or borrower()
    return Loan.create(
        id=kw.pop("id", "L1"),
        borrower=b,
        principal=Money(principal, "CNY"),
        annual_rate=Decimal(rate),
        term=term,
        disbursement_date=kw.pop("start", START),
        **kw,
    )


def payment(ln: Loan, day: dt.date, amount: Money | str, n: int = 1) -> Payment:
    m = amount if isinstance(amount, Money) else Money(amount, ln.currency)
    return Payment(
        id=f"P{n}-{day.isoformat()}",
        loan_id=ln.id,
        amount=m,
        value_date=day,
        received_at=pendulum.datetime(day.year, day.month, day.day, 12, tz="UTC"),
    )


@pytest.fixture
def make_loan() -> Callable[..., Loan]:
    """Build a loan: ``make_loan(principal="12000", term=12, rate="0.12", **kwargs)``."""
    return loan


@pytest.fixture
def make_borrower() -> Callable[..., Borrower]:
    """Build a borrower with the given contact kinds."""
    return borrower


@pytest.fixture
def make_payment() -> Callable[..., Payment]:
    """Build a payment for a loan on a day."""
    return payment
