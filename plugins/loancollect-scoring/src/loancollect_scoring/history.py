"""Training samples from a store's own history, point in time.

A sample is a case in collection (DPD ≥ 1) on a scoring date, with the
features known that day and two outcomes observed over the following
``horizon`` days: whether the borrower paid anything, and whether the loan rolled
into a later aging bucket. The loan is assessed with the payments that had
*arrived* by the date (value date and receipt both on or before it), and the
case is taken as it stood then (:func:`~loancollect_scoring.features.case_as_of`),
so nothing recorded later leaks into a feature.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

import attrs

from loancollect.domain.case import Case
from loancollect.domain.loans import Loan, Payment
from loancollect.domain.overdue import DEFAULT_BUCKETS, assess
from loancollect.domain.scoring import heuristic_contribution
from loancollect.ports import UnitOfWorkFactory
from loancollect_scoring.features import case_as_of, features

__all__ = ["Sample", "arrived_by", "samples", "samples_of_loan", "scoring_dates"]


@attrs.frozen(kw_only=True)
class Sample:
    """One case on one scoring date, with what happened next.

    :param paid: a payment arrived within the horizon.
    :param rolled: the loan's aging bucket at the end of the horizon is a later one.
    :param heuristic_risk: the built-in heuristic's risk for the same case and day
        (the baseline the trained models are held against).
    """

    loan_id: str
    on: dt.date
    features: dict[str, object]
    paid: bool
    rolled: bool
    heuristic_risk: float


def arrived_by(payments: Sequence[Payment], day: dt.date) -> tuple[Payment, ...]:
    """The payments known at the end of ``day``: value date and receipt on or before it."""
    return tuple(p for p in payments if p.value_date <= day and p.received_at.date() <= day)


def scoring_dates(start: dt.date, end: dt.date, *, every_days: int) -> list[dt.date]:
    """``start``, then every ``every_days`` days up to ``end`` inclusive."""
    out, day = [], start
    while day <= end:
        out.append(day)
        day += dt.timedelta(days=every_days)
    return out


def _bucket_index(dpd: int) -> int:
    return DEFAULT_BUCKETS.labels.index(DEFAULT_BUCKETS.bucket(dpd))


def samples_of_loan(
    loan: Loan,
    payments: Sequence[Payment],
    case: Case,
    dates: Sequence[dt.date],
    *,
    horizon: int = 30,
) -> Iterator[Sample]:
    """The samples of one loan on ``dates`` (only days it was in collection)."""
    for on in dates:
        if on < loan.disbursement_date:
            continue
        assessment = assess(loan, arrived_by(payments, on), on)
        if assessment.dpd < 1:
            continue
        then = case_as_of(case, on)
        end = on + dt.timedelta(days=horizon)
        later = assess(loan, arrived_by(payments, end), end)
        paid = any(on < p.value_date <= end and p.received_at.date() <= end for p in payments)
        risk = heuristic_contribution(loan, assessment, then, on).risk
        yield Sample(
            loan_id=loan.id,
            on=on,
            features=features(loan, assessment, then, on),
            paid=paid,
            rolled=_bucket_index(later.dpd) > _bucket_index(assessment.dpd),
            heuristic_risk=float(risk) if risk is not None else 0.5,
        )


def samples(
    storage: UnitOfWorkFactory,
    *,
    start: dt.date,
    end: dt.date,
    every_days: int = 7,
    horizon: int = 30,
) -> list[Sample]:
    """Samples of every stored loan on scoring dates from ``start`` to ``end - horizon``.

    Only dates whose horizon ends by ``end`` are used, so every label is observed.
    """
    last = end - dt.timedelta(days=horizon)
    dates = scoring_dates(start, last, every_days=every_days)
    out: list[Sample] = []
    if not dates:
        return out
    with storage() as uow:
        for loan_id in uow.loans.list_ids(limit=None):
            loan = uow.loans.get(loan_id)
            case = uow.cases.get(loan_id)
            if loan is None or case is None:
                continue
            payments = uow.loans.payments_for(loan_id)
            out.extend(samples_of_loan(loan, payments, case, dates, horizon=horizon))
    out.sort(key=lambda s: (s.on, s.loan_id))
    return out
