"""No feature uses data from after its scoring date."""

from __future__ import annotations

import datetime as dt

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loancollect_scoring.features import case_as_of, features
from loancollect_scoring.history import arrived_by, samples_of_loan

from loancollect.domain.arrangements import ArrangementStatus, PromiseToPay
from loancollect.domain.case import Case, ContactOutcome, OutcomeKind
from loancollect.domain.loans import Payment
from loancollect.domain.money import Money
from loancollect.domain.overdue import assess
from loancollect.ports import UnitOfWorkFactory

ON = dt.date(2025, 3, 10)


def _stored(history: UnitOfWorkFactory, count: int = 40):
    with history() as uow:
        for loan_id in uow.loans.list_ids(limit=None):
            loan, case = uow.loans.get(loan_id), uow.cases.get(loan_id)
            if loan is None or case is None:
                continue
            payments = uow.loans.payments_for(loan_id)
            if assess(loan, arrived_by(payments, ON), ON).dpd >= 1:
                yield loan, payments, case
                count -= 1
                if not count:
                    return


def test_features_from_the_whole_history_equal_those_from_history_cut_at_the_date(
    history: UnitOfWorkFactory,
) -> None:
    checked = 0
    for loan, payments, case in _stored(history):
        # What a store frozen at the end of ON would have held.
        cut_payments = [p for p in payments if p.received_at.date() <= ON]
        cut_case = attrs.evolve(
            case,
            contacts=[c for c in case.contacts if c.on <= ON],
            arrangements=list(case_as_of(case, ON).arrangements),
        )
        (full,) = samples_of_loan(loan, payments, case, [ON])
        (cut,) = samples_of_loan(loan, cut_payments, cut_case, [ON])
        assert full.features == cut.features, loan.id
        assert full.heuristic_risk == cut.heuristic_risk, loan.id
        checked += 1
    assert checked >= 10


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    later=st.lists(
        st.tuples(st.integers(1, 60), st.sampled_from(list(OutcomeKind)), st.integers(1, 5_000)),
        max_size=6,
    ),
)
def test_anything_recorded_after_the_date_changes_no_feature(
    history: UnitOfWorkFactory, later: list[tuple[int, OutcomeKind, int]]
) -> None:
    loan, payments, case = next(iter(_stored(history, 1)))
    base = features(loan, assess(loan, arrived_by(payments, ON), ON), case_as_of(case, ON), ON)
    more_payments = list(payments)
    contacts = list(case.contacts)
    arrangements = list(case.arrangements)
    for i, (days, kind, amount) in enumerate(later):
        when = ON + dt.timedelta(days=days)
        at = dt.datetime(when.year, when.month, when.day, 9, tzinfo=dt.UTC)
        money = Money.from_minor(amount * 100, loan.currency)
        # a back-valued payment that only arrived later, a later contact, a later promise
        more_payments.append(
            Payment(id=f"late-{i}", loan_id=loan.id, amount=money, value_date=ON, received_at=at)
        )
        contacts.append(ContactOutcome(when, "phone", kind))
        arrangements.append(
            PromiseToPay(id=f"p-{i}", made_on=when, amount=money, due=when + dt.timedelta(days=3))
        )
    # and a promise made before the date that was resolved only after it
    arrangements.append(
        PromiseToPay(
            id="open-then",
            made_on=ON - dt.timedelta(days=1),
            amount=Money.from_minor(10_000, loan.currency),
            due=ON + dt.timedelta(days=2),
            status=ArrangementStatus.BROKEN,
            resolved_on=ON + dt.timedelta(days=3),
        )
    )
    grown = attrs.evolve(case, contacts=contacts, arrangements=arrangements)
    earlier = attrs.evolve(case, arrangements=[*case.arrangements, arrangements[-1]])
    expected = features(
        loan, assess(loan, arrived_by(payments, ON), ON), case_as_of(earlier, ON), ON
    )
    got = features(loan, assess(loan, arrived_by(more_payments, ON), ON), case_as_of(grown, ON), ON)
    assert got == expected
    assert expected["open_promise"] == 1.0
    assert base["promises_broken"] == expected["promises_broken"]


def test_a_promise_resolved_after_the_date_is_open_on_the_date() -> None:
    promise = PromiseToPay(
        id="p",
        made_on=ON,
        amount=Money.from_minor(1_000, "CNY"),
        due=ON,
        status=ArrangementStatus.KEPT,
        resolved_on=ON + dt.timedelta(days=1),
    )
    then = case_as_of(Case(loan_id="L", arrangements=(promise,)), ON)
    assert then.promises[0].status is ArrangementStatus.PENDING
    assert then.kept_promises == 0
