"""Point-in-time features of a case: what was known about it on the scoring date.

One function, :func:`features`, computes them for training and for live scoring
alike, from the loan, its assessment on the date and the case *as it stood on
the date* (:func:`case_as_of`). Nothing dated after the scoring date may reach
it: :func:`case_as_of` drops later contacts and arrangements and reopens
arrangements resolved later, and the training set assesses each loan with only
the payments that had arrived by then (see :mod:`loancollect_scoring.history`).
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

import attrs

from loancollect.domain.arrangements import ArrangementKind, ArrangementStatus
from loancollect.domain.case import Case, OutcomeKind
from loancollect.domain.loans import Loan, PartyKind
from loancollect.domain.overdue import Assessment

__all__ = ["FEATURES", "Feature", "FeatureKind", "case_as_of", "features"]


class FeatureKind(enum.Enum):
    """How a model reads a feature."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"


@attrs.frozen(kw_only=True)
class Feature:
    """One input of the models, with what it means (for the model card)."""

    name: str
    kind: FeatureKind
    meaning: str


FEATURES: tuple[Feature, ...] = (
    Feature(name="dpd", kind=FeatureKind.NUMERIC, meaning="days past due on the date"),
    Feature(name="overdue_share", kind=FeatureKind.NUMERIC, meaning="overdue amount / principal"),
    Feature(name="paid_share", kind=FeatureKind.NUMERIC, meaning="paid so far / principal"),
    Feature(
        name="outstanding_share",
        kind=FeatureKind.NUMERIC,
        meaning="outstanding principal / principal",
    ),
    Feature(
        name="months_on_book", kind=FeatureKind.NUMERIC, meaning="whole months since disbursement"
    ),
    Feature(name="term", kind=FeatureKind.NUMERIC, meaning="number of installments"),
    Feature(
        name="contacts_30d", kind=FeatureKind.NUMERIC, meaning="contact outcomes, last 30 days"
    ),
    Feature(name="rpc_30d", kind=FeatureKind.NUMERIC, meaning="right-party contacts, last 30 days"),
    Feature(
        name="no_answer_30d", kind=FeatureKind.NUMERIC, meaning="unanswered attempts, last 30 days"
    ),
    Feature(name="refusals", kind=FeatureKind.NUMERIC, meaning="refusals to pay, ever"),
    Feature(name="promises_kept", kind=FeatureKind.NUMERIC, meaning="promises kept by the date"),
    Feature(
        name="promises_broken", kind=FeatureKind.NUMERIC, meaning="promises broken by the date"
    ),
    Feature(name="open_promise", kind=FeatureKind.NUMERIC, meaning="1 if a promise is open"),
    Feature(name="hardship", kind=FeatureKind.NUMERIC, meaning="1 if hardship was stated"),
    Feature(
        name="days_since_contact",
        kind=FeatureKind.NUMERIC,
        meaning="days since the last contact outcome (999 if none)",
    ),
    Feature(name="company", kind=FeatureKind.NUMERIC, meaning="1 for a company borrower"),
    Feature(name="jurisdiction", kind=FeatureKind.CATEGORICAL, meaning="borrower's country"),
    Feature(name="product", kind=FeatureKind.CATEGORICAL, meaning="loan product"),
)
"""The models' inputs, in the order of their columns."""


def case_as_of(case: Case, on: dt.date) -> Case:
    """``case`` as it stood at the end of ``on``: later contacts and arrangements dropped,
    arrangements resolved after ``on`` open again."""
    arrangements = []
    for arrangement in case.arrangements:
        if arrangement.made_on > on:
            continue
        resolved_on = arrangement.resolved_on
        if resolved_on is not None and resolved_on > on:
            # a promise waits for its payment; plans and the rest were running
            status = (
                ArrangementStatus.PENDING
                if arrangement.kind is ArrangementKind.PROMISE
                else ArrangementStatus.ACTIVE
            )
            arrangement = attrs.evolve(arrangement, status=status, resolved_on=None)
        arrangements.append(arrangement)
    return attrs.evolve(
        case,
        contacts=tuple(c for c in case.contacts if c.on <= on),
        arrangements=tuple(arrangements),
    )


def _share(numerator: Decimal, denominator: Decimal) -> float:
    # Ratios are model inputs, not money: a float is what the learners take.
    return 0.0 if denominator <= 0 else float(numerator / denominator)


def features(loan: Loan, assessment: Assessment, case: Case, as_of: dt.date) -> dict[str, object]:
    """The features of a case on ``as_of``, keyed by :data:`FEATURES` names.

    :param case: the case as it stood on ``as_of`` (:func:`case_as_of`); contacts
        dated later are ignored all the same.
    """
    contacts = [c for c in case.contacts if c.on <= as_of]
    recent = [c for c in contacts if (as_of - c.on).days < 30]
    principal = loan.principal.amount
    months = (as_of.year - loan.disbursement_date.year) * 12 + (
        as_of.month - loan.disbursement_date.month
    )
    last = max((c.on for c in contacts), default=None)
    return {
        "dpd": float(assessment.dpd),
        "overdue_share": _share(assessment.overdue_amount.amount, principal),
        "paid_share": _share(assessment.total_paid.amount, principal),
        "outstanding_share": _share(assessment.outstanding_principal.amount, principal),
        "months_on_book": float(max(months, 0)),
        "term": float(len(loan.installments)),
        "contacts_30d": float(len(recent)),
        "rpc_30d": float(sum(c.outcome is OutcomeKind.RIGHT_PARTY_CONTACT for c in recent)),
        "no_answer_30d": float(sum(c.outcome is OutcomeKind.NO_ANSWER for c in recent)),
        "refusals": float(sum(c.outcome is OutcomeKind.REFUSED for c in contacts)),
        "promises_kept": float(case.kept_promises),
        "promises_broken": float(case.broken_promises),
        "open_promise": float(any(p.status.is_open for p in case.promises)),
        "hardship": float(any(c.outcome is OutcomeKind.HARDSHIP_STATED for c in contacts)),
        "days_since_contact": 999.0 if last is None else float((as_of - last).days),
        "company": float(loan.borrower.kind is PartyKind.COMPANY),
        "jurisdiction": loan.borrower.jurisdiction or "",
        "product": loan.product or "",
    }
