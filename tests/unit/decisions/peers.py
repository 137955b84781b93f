"""Shared builders for the peer-parity tests (Kill Bill, Fineract, ERPNext, OCA, Lago)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import attrs

from loancollect import Money, Payment
from loancollect.domain.case import Case
from loancollect.domain.commands import CaseCommand
from loancollect.domain.decision import Decision, decide
from loancollect.domain.dunning import RateSource
from loancollect.domain.events import Event, EventKind
from loancollect.domain.loans import Loan
from loancollect.domain.policy import StagePolicy
from loancollect.domain.strategy import Strategy
from loancollect.testing import make_loan

LOAN = make_loan()  # 100,000 CNY, 12 monthly installments due on the 15th from 2025-02-15
FIRST_DUE = dt.date(2025, 2, 15)
SECOND_DUE = dt.date(2025, 3, 15)
EMPTY = Strategy(name="none")


def day(offset: int, base: dt.date = FIRST_DUE) -> dt.date:
    """``base`` + ``offset`` days."""
    return base + dt.timedelta(days=offset)


def pay(amount: str, on: dt.date, n: int = 1, loan: Loan = LOAN) -> Payment:
    """A payment to ``loan``."""
    return Payment(
        id=f"P{n}",
        loan_id=loan.id,
        amount=Money(amount, loan.currency),
        value_date=on,
        received_at=dt.datetime(on.year, on.month, on.day, 12, tzinfo=dt.UTC),
    )


def run(
    policy: StagePolicy,
    case: Case,
    on: dt.date,
    *,
    strategy: Strategy = EMPTY,
    payments: Sequence[Payment] = (),
    loan: Loan = LOAN,
    rates: RateSource | None = None,
) -> Decision:
    """One decision with fixed scores."""
    return decide(
        loan=loan,
        payments=payments,
        case=case,
        as_of=on,
        policy=policy,
        strategy=strategy,
        rates=rates,
    )


def walk(
    policy: StagePolicy,
    days: Sequence[dt.date],
    *,
    case: Case | None = None,
    strategy: Strategy = EMPTY,
    payments: Sequence[Payment] = (),
) -> tuple[Case, list[Event], list[Decision]]:
    """Decide on each of ``days`` in turn, carrying the case; every event and decision."""
    current = case or Case(loan_id=LOAN.id)
    events: list[Event] = []
    decisions = []
    for d in days:
        decision = run(policy, current, d, strategy=strategy, payments=payments)
        current = decision.case
        events.extend(decision.events)
        decisions.append(decision)
    return current, events, decisions


def command(case: Case, cmd: CaseCommand, on: dt.date) -> Case:
    """``case`` after ``cmd`` (as the intake applies it)."""
    updated, _ = cmd.apply(case, on=on, currency=LOAN.currency)
    return updated


def kinds(events: Sequence[Event], kind: EventKind) -> list[Event]:
    """The events of ``kind``."""
    return [e for e in events if e.kind is kind]


__all__ = ["attrs"]
