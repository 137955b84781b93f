"""Scores and the ability × willingness segmentation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from loancollect import Money, PartyKind, ValidationError, assess
from loancollect.domain.arrangements import ArrangementStatus, PromiseToPay
from loancollect.domain.case import Case, ContactOutcome, OutcomeKind
from loancollect.domain.scoring import (
    ScoreContribution,
    Scores,
    combine,
    heuristic_contribution,
    segment_for,
)

D = Decimal


@pytest.mark.parametrize(
    ("kind", "ability", "willingness", "segment"),
    [
        (PartyKind.INDIVIDUAL, "0.5", "0.5", "forgetful"),
        (PartyKind.INDIVIDUAL, "0.49", "0.9", "hardship"),
        (PartyKind.INDIVIDUAL, "0.9", "0.49", "strategic"),
        (PartyKind.INDIVIDUAL, "0.1", "0.1", "unresponsive"),
        (PartyKind.COMPANY, "0.4", "0.5", "company_cash_gap"),
        (PartyKind.COMPANY, "0.39", "0.5", "company_distressed"),
        (PartyKind.COMPANY, "0.45", "0.49", "company_evasive"),
        (PartyKind.COMPANY, "0.2", "0.2", "company_insolvent"),
    ],
)
def test_segment_matrix_with_inclusive_thresholds(
    kind: PartyKind, ability: str, willingness: str, segment: str
) -> None:
    assert segment_for(kind, Scores(D("0.5"), D(ability), D(willingness))) == segment


def test_combine_is_a_weighted_mean_per_axis_ignoring_missing_opinions() -> None:
    scores = combine(
        [
            ScoreContribution("a", risk=D("0.2"), ability=D("0.8")),
            ScoreContribution("b", risk=D("0.8"), weight=D(3)),
        ]
    )
    assert scores.risk == D("0.65")
    assert scores.ability == D("0.8")
    assert scores.willingness == D("0.5")  # nobody had an opinion
    assert scores.sources == ("a", "b")


@pytest.mark.parametrize("bad", [D("1.01"), D("-0.1"), 0.5])
def test_scores_outside_zero_one_are_rejected(bad: object) -> None:
    with pytest.raises(ValidationError):
        ScoreContribution("x", risk=bad)  # type: ignore[arg-type]


def test_heuristic_willingness_falls_with_broken_promises_and_refusals(make_loan) -> None:  # type: ignore[no-untyped-def]
    ln = make_loan()
    day = ln.installments[0].due_date + dt.timedelta(days=20)
    a = assess(ln, [], day)
    base = heuristic_contribution(ln, a, Case(loan_id=ln.id), day)
    broken = PromiseToPay(
        id="p", made_on=day, amount=Money("10", "CNY"), due=day, status=ArrangementStatus.BROKEN
    )
    worse = Case(
        loan_id=ln.id,
        arrangements=(broken,),
        contacts=(ContactOutcome(day, "phone", OutcomeKind.REFUSED),),
    )
    low = heuristic_contribution(ln, a, worse, day)
    assert low.willingness is not None
    assert base.willingness is not None
    assert low.willingness < base.willingness
    assert low.risk is not None
    assert base.risk is not None
    assert low.risk > base.risk


def test_heuristic_ability_uses_income_and_stated_hardship(make_loan, make_borrower) -> None:  # type: ignore[no-untyped-def]
    import attrs

    b = attrs.evolve(
        make_borrower(),
        monthly_income=Money("10000", "CNY"),
        monthly_debt_service=Money("6000", "CNY"),
    )
    ln = make_loan(borrower=b)
    day = ln.installments[0].due_date + dt.timedelta(days=10)
    a = assess(ln, [], day)
    stretched = heuristic_contribution(ln, a, Case(loan_id=ln.id), day)
    assert stretched.ability == D("0.4")  # 1 - 0.6 / (2 × 0.5)
    hardship = Case(
        loan_id=ln.id, contacts=(ContactOutcome(day, "phone", OutcomeKind.HARDSHIP_STATED),)
    )
    assert heuristic_contribution(ln, a, hardship, day).ability == D("0")
