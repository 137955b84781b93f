"""No penalty or compound interest accrues while a breathing space lasts (the Debt
Respite Scheme regulations 2020, reg. 7)."""

import datetime as dt

from loancollect import DEFAULT_POLICY, DEFAULT_STRATEGY, Hold, HoldKind
from loancollect.domain.case import Case
from loancollect.domain.decision import decide
from loancollect.testing import make_loan

LOAN = make_loan()
FIRST_DUE = LOAN.installments[0].due_date
START = FIRST_DUE + dt.timedelta(days=10)
LATER = FIRST_DUE + dt.timedelta(days=40)


def _penalty(case: Case, as_of: dt.date) -> object:
    decision = decide(
        loan=LOAN,
        payments=(),
        case=case,
        as_of=as_of,
        policy=DEFAULT_POLICY,
        strategy=DEFAULT_STRATEGY,
    )
    return decision.assessment.penalty + decision.assessment.compound_interest


def test_penalty_interest_stops_accruing_during_a_breathing_space() -> None:
    open_case = Case(loan_id=LOAN.id)
    held = Case(loan_id=LOAN.id, holds=(Hold(HoldKind.BREATHING_SPACE, START, None, "BS"),))
    before = _penalty(open_case, START - dt.timedelta(days=1))
    assert _penalty(held, LATER) == before  # frozen from the hold's first day
    assert _penalty(open_case, LATER) > before  # it would have accrued


def test_penalty_interest_resumes_after_the_breathing_space_ends() -> None:
    end = START + dt.timedelta(days=9)
    held = Case(loan_id=LOAN.id, holds=(Hold(HoldKind.BREATHING_SPACE, START, end, "BS"),))
    frozen = _penalty(held, end)
    assert _penalty(held, LATER) > frozen


def test_other_holds_do_not_stop_penalty_interest() -> None:
    disputed = Case(loan_id=LOAN.id, holds=(Hold(HoldKind.DISPUTE, START, None, "amount"),))
    assert _penalty(disputed, LATER) == _penalty(Case(loan_id=LOAN.id), LATER)
