"""Risk, ability and willingness scores, and the segment they put a case in.

Scores are Decimals in [0, 1]. Contributions come from the default heuristic
below and from plug-ins (``loancollect_score``: data and ML models); they are
combined by weight. Segmentation is the ability × willingness matrix, with
different thresholds and names for individuals and companies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

import attrs

from loancollect.domain.case import Case, OutcomeKind
from loancollect.domain.errors import ValidationError
from loancollect.domain.loans import Loan, PartyKind
from loancollect.domain.overdue import Assessment

__all__ = [
    "SEGMENTS",
    "ScoreContribution",
    "Scores",
    "SegmentationRules",
    "combine",
    "heuristic_contribution",
    "segment_for",
]

_ZERO, _ONE, _HALF = Decimal(0), Decimal(1), Decimal("0.5")
_PLACES = Decimal("0.0001")  # scores are kept to four places


def _unit(field: str, value: Decimal | None) -> None:
    if value is not None and not (isinstance(value, Decimal) and _ZERO <= value <= _ONE):
        raise ValidationError(field, value, "must be a Decimal in [0, 1]")


@attrs.frozen
class ScoreContribution:
    """One source's opinion about a case; ``None`` means no opinion on that axis.

    :param risk: probability-like risk of not paying (1 = certainly will not pay).
    :param ability: capacity to pay (1 = fully able).
    :param willingness: intention to pay (1 = fully willing).
    :param weight: relative weight when contributions are combined.
    """

    source: str
    risk: Decimal | None = None
    ability: Decimal | None = None
    willingness: Decimal | None = None
    weight: Decimal = Decimal(1)
    reason: str = ""

    def __attrs_post_init__(self) -> None:
        _unit("score.risk", self.risk)
        _unit("score.ability", self.ability)
        _unit("score.willingness", self.willingness)
        if not isinstance(self.weight, Decimal) or self.weight <= 0:
            raise ValidationError("score.weight", self.weight, "must be a positive Decimal")


@attrs.frozen
class Scores:
    """Combined scores of a case, each in [0, 1], with the sources that made them."""

    risk: Decimal
    ability: Decimal
    willingness: Decimal
    sources: tuple[str, ...] = ()


def combine(contributions: Iterable[ScoreContribution]) -> Scores:
    """Weighted mean per axis of the contributions that have an opinion (0.5 if none)."""
    items = list(contributions)
    return Scores(
        _axis([(c.risk, c.weight) for c in items if c.risk is not None]),
        _axis([(c.ability, c.weight) for c in items if c.ability is not None]),
        _axis([(c.willingness, c.weight) for c in items if c.willingness is not None]),
        tuple(c.source for c in items),
    )


def _axis(pairs: list[tuple[Decimal, Decimal]]) -> Decimal:
    """The weighted mean of one axis's ``(value, weight)`` pairs, to four places."""
    if not pairs:
        return _HALF
    # Summed from zero in order, as ``sum`` does: the same Decimal operations every time.
    total = _ZERO
    weighted = _ZERO
    for _value, weight in pairs:
        total += weight
    for value, weight in pairs:
        weighted += value * weight
    return (weighted / total).quantize(_PLACES)


def _clamp(value: Decimal) -> Decimal:
    return min(_ONE, max(_ZERO, value)).quantize(_PLACES)


# Constants of the heuristic, built once (Decimal from a string costs on every call).
_D0_02 = Decimal("0.02")
_D0_03 = Decimal("0.03")
_D0_05 = Decimal("0.05")
_D0_1 = Decimal("0.1")
_D0_15 = Decimal("0.15")
_D0_3 = Decimal("0.3")
_D0_4 = Decimal("0.4")
_D0_5 = Decimal("0.5")
_D0_6 = Decimal("0.6")
_D0_8 = Decimal("0.8")
_D180 = Decimal(180)


def heuristic_contribution(
    loan: Loan, assessment: Assessment, case: Case, as_of: dt.date
) -> ScoreContribution:
    """The built-in scores from payment history, promises, contact outcomes and income.

    - willingness rises with kept promises and right-party contacts and payments
      made, and falls with broken promises, refusals and unanswered contacts;
    - ability comes from the debt-service ratio when income is known, falls with
      stated hardship, and otherwise from how much of the loan has been repaid;
    - risk rises with DPD (saturating at 180 days) and falls with willingness.
    """
    rpc = refused = no_answer = 0
    hardship = False
    for c in case.contacts:  # one pass (most cases have no contacts yet)
        outcome = c.outcome
        if outcome is OutcomeKind.RIGHT_PARTY_CONTACT:
            rpc += 1
        elif outcome is OutcomeKind.REFUSED:
            refused += 1
        elif outcome is OutcomeKind.NO_ANSWER:
            no_answer += 1
        elif outcome is OutcomeKind.HARDSHIP_STATED:
            hardship = True
    paid = assessment.minor[8]  # total paid, in minor units (Assessment.total_paid)
    willingness = (
        _D0_6
        + _D0_1 * case.kept_promises
        - _D0_15 * case.broken_promises
        + _D0_03 * rpc
        - _D0_15 * refused
        - _D0_02 * no_answer
        + (_D0_05 if paid else _ZERO)
        - _D0_1 * case.broken_arrangements
    )
    borrower = loan.borrower
    income = borrower.monthly_income
    if income is not None and income.is_positive() and income.currency == loan.currency:
        debt = borrower.monthly_debt_service
        service = debt.amount if debt is not None and debt.currency == loan.currency else _ZERO
        ratio = service / income.amount
        # Companies carry more leverage before they are unable to pay.
        limit = _D0_8 if borrower.kind is PartyKind.COMPANY else _D0_5
        ability = _ONE - ratio / (2 * limit)
    else:
        repaid = _ONE - assessment.outstanding_principal.amount / loan.principal.amount
        ability = _D0_6 + repaid * _D0_3
    if hardship:
        ability -= _D0_4
    dpd_part = min(Decimal(assessment.dpd), _D180) / _D180
    willingness = _clamp(willingness)
    risk = _clamp(_D0_1 + dpd_part * _D0_6 + (_ONE - willingness) * _D0_3)
    return ScoreContribution(
        source="heuristic",
        risk=risk,
        ability=_clamp(ability),
        willingness=willingness,
        reason=f"dpd={assessment.dpd} kept={case.kept_promises} broken={case.broken_promises}",
    )


# The matrix: (able, willing) -> segment name, per party kind.
SEGMENTS: dict[PartyKind, dict[tuple[bool, bool], str]] = {
    PartyKind.INDIVIDUAL: {
        (True, True): "forgetful",  # forgot / can pay
        (False, True): "hardship",  # wants to pay, cannot
        (True, False): "strategic",  # can pay, will not
        (False, False): "unresponsive",  # cannot and will not
    },
    PartyKind.COMPANY: {
        (True, True): "company_cash_gap",
        (False, True): "company_distressed",
        (True, False): "company_evasive",
        (False, False): "company_insolvent",
    },
}


@attrs.frozen
class SegmentationRules:
    """Thresholds of the matrix (inclusive: a score at the threshold counts as able/willing)."""

    ability_threshold: Decimal = Decimal("0.5")
    willingness_threshold: Decimal = Decimal("0.5")
    company_ability_threshold: Decimal = Decimal("0.4")
    company_willingness_threshold: Decimal = Decimal("0.5")


def segment_for(
    kind: PartyKind, scores: Scores, rules: SegmentationRules = SegmentationRules()
) -> str:
    """The segment name for a party of ``kind`` with ``scores``."""
    if kind is PartyKind.COMPANY:
        able = scores.ability >= rules.company_ability_threshold
        willing = scores.willingness >= rules.company_willingness_threshold
    else:
        able = scores.ability >= rules.ability_threshold
        willing = scores.willingness >= rules.willingness_threshold
    return SEGMENTS[kind][(able, willing)]
