"""The guard derives a case's facts once for the review's and the send-time judgement.

What it reuses are facts derived from the very same loan, case and history objects;
the instant of each judgement is still judged, and another case object (new flags,
holds) is judged afresh. Each verdict is compared with a guard that never saw the
case before.
"""

from __future__ import annotations

import attrs
from tests.service.test_compliance_fail_closed import PlansOneSms
from tests.service.test_compliance_in_cycle import DPD1, World, make_loan, new_york, us_borrower

from loancollect.builtin.compliance import ComplianceGuard
from loancollect.domain.case import Case
from loancollect.domain.compliance import Verdict
from loancollect.domain.loans import Loan


def _setup() -> tuple[World, ComplianceGuard, Loan, Case]:
    world = World(at=new_york(DPD1, 10))
    guard = world.engine.compliance
    assert isinstance(guard, ComplianceGuard)
    loan = make_loan(us_borrower(), "L-US")
    world.add(loan, DPD1)
    with world.store() as uow:
        case = uow.cases.get(loan.id)
    assert case is not None
    return world, guard, loan, case


def _fresh_verdict(loan: Loan, case: Case, hour: int) -> Verdict | None:
    """The verdict of a guard that judges the case for the first time."""
    guard = World(at=new_york(DPD1, 10)).engine.compliance
    assert isinstance(guard, ComplianceGuard)
    action = PlansOneSms().plan(loan, DPD1)
    return guard.verdict(
        action=action, loan=loan, case=case, as_of=DPD1, at=new_york(DPD1, hour), history=()
    )


def test_the_same_case_judged_at_a_later_instant_is_judged_at_that_instant() -> None:
    _, guard, loan, case = _setup()
    action = PlansOneSms().plan(loan, DPD1)
    history = ()

    def at(hour: int) -> Verdict | None:
        return guard.verdict(
            action=action,
            loan=loan,
            case=case,
            as_of=DPD1,
            at=new_york(DPD1, hour),
            history=history,
        )

    by_day, by_night = at(10), at(23)

    assert by_day is not None
    assert by_day.allowed
    assert by_night is not None
    assert not by_night.allowed  # outside the calling hours
    assert (by_day, by_night) == (_fresh_verdict(loan, case, 10), _fresh_verdict(loan, case, 23))


def test_another_case_object_of_the_same_loan_is_judged_afresh() -> None:
    _, guard, loan, case = _setup()
    action = PlansOneSms().plan(loan, DPD1)
    first = guard.verdict(
        action=action, loan=loan, case=case, as_of=DPD1, at=new_york(DPD1, 10), history=()
    )
    ceased = attrs.evolve(case, flags=case.flags | {"cease_communication"})

    second = guard.verdict(
        action=action, loan=loan, case=ceased, as_of=DPD1, at=new_york(DPD1, 10), history=()
    )

    assert first is not None
    assert first.allowed
    assert second is not None
    assert not second.allowed  # the borrower asked us to stop
    assert second == _fresh_verdict(loan, ceased, 10)
