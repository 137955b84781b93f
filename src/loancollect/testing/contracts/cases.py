"""The conformance suites of :class:`loancollect.ports.CaseRepository` and of the
optional capability :class:`loancollect.ports.ClaimingCases`."""

from __future__ import annotations

import datetime as dt

from loancollect.domain.case import Case
from loancollect.ports import ClaimingCases, UnitOfWork, UnitOfWorkFactory
from loancollect.testing.builders import make_case, make_rich_case
from loancollect.testing.contracts._base import DAY, StorageFixtures

__all__ = ["CaseRepositoryContract", "ClaimingCasesContract"]


def _selection() -> list[Case]:
    """Two due cases among ones that are not due (future, no date, closed)."""
    return [
        make_case(loan_id="A-past", next_review_date=DAY - dt.timedelta(days=3)),
        make_case(loan_id="B-today", next_review_date=DAY),
        make_case(loan_id="C-tomorrow", next_review_date=DAY + dt.timedelta(days=1)),
        make_case(loan_id="D-none", next_review_date=None),
        make_case(loan_id="E-closed", next_review_date=DAY, closed_on=DAY),
    ]


def _save(uow_factory: UnitOfWorkFactory, cases: list[Case]) -> None:
    with uow_factory() as uow:
        for case in cases:
            uow.cases.save(case)
        uow.commit()


class CaseRepositoryContract(StorageFixtures):
    """Collection cases (``uow.cases``). Provide a ``uow_factory`` fixture."""

    def test_case_round_trip_keeps_every_field(self, seeded: UnitOfWorkFactory) -> None:
        case = make_rich_case()
        with seeded() as uow:
            uow.cases.save(case)
            uow.commit()
        with seeded() as uow:
            assert uow.cases.get("L-1") == case

    def test_saving_a_case_again_replaces_it(self, seeded: UnitOfWorkFactory) -> None:
        with seeded() as uow:
            uow.cases.save(make_case())
            uow.commit()
        with seeded() as uow:
            uow.cases.save(make_case(stage="late"))
            uow.commit()
        with seeded() as uow:
            stored = uow.cases.get("L-1")
            assert stored is not None
            assert stored.stage == "late"
            assert uow.cases.get("L-2") is None

    def test_due_for_review_selects_by_next_review_date(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        _save(uow_factory, _selection())
        with uow_factory() as uow:
            due = uow.cases.due_for_review(DAY, limit=100)
        assert [c.loan_id for c in due] == ["A-past", "B-today"]

    def test_due_for_review_streams_in_batches_by_loan_id(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        ids = [f"L-{n:03d}" for n in (7, 3, 11, 1, 5, 9, 2)]
        _save(uow_factory, [make_case(loan_id=loan_id) for loan_id in ids])
        seen: list[str] = []
        after: str | None = None
        batches = 0
        with uow_factory() as uow:
            while True:
                batch = uow.cases.due_for_review(DAY, limit=3, after_loan_id=after)
                if not batch:
                    break
                batches += 1
                assert len(batch) <= 3
                seen += [c.loan_id for c in batch]
                after = batch[-1].loan_id
        assert seen == sorted(ids)
        assert batches == 3


def claiming(uow: UnitOfWork) -> ClaimingCases:
    """``uow.cases`` as a :class:`ClaimingCases` (the test fails if it is not one)."""
    cases = uow.cases
    assert isinstance(cases, ClaimingCases), f"{type(cases).__name__} does not claim_due"
    return cases


class ClaimingCasesContract(StorageFixtures):
    """Optional capability: several workers claim disjoint batches of due cases.

    For backends whose case repository offers ``claim_due``
    (:class:`~loancollect.ports.ClaimingCases`). Provide a ``uow_factory`` fixture;
    its units of work must be able to be open at the same time (the suite holds a
    claim in one while it claims in another).
    """

    def test_the_case_repository_claims(self, uow_factory: UnitOfWorkFactory) -> None:
        with uow_factory() as uow:
            claiming(uow)

    def test_claim_due_hands_out_open_due_cases_only(self, uow_factory: UnitOfWorkFactory) -> None:
        _save(uow_factory, _selection())
        with uow_factory() as uow:
            claimed = claiming(uow).claim_due(DAY, limit=100)
        assert sorted(c.loan_id for c in claimed) == ["A-past", "B-today"]

    def test_claim_due_returns_at_most_limit_cases(self, uow_factory: UnitOfWorkFactory) -> None:
        _save(uow_factory, [make_case(loan_id=f"L-{n}") for n in range(5)])
        with uow_factory() as uow:
            assert len(claiming(uow).claim_due(DAY, limit=2)) == 2

    def test_claimed_cases_are_returned_whole(self, uow_factory: UnitOfWorkFactory) -> None:
        case = make_rich_case(next_review_date=DAY)
        _save(uow_factory, [case])
        with uow_factory() as uow:
            assert claiming(uow).claim_due(DAY, limit=10) == [case]

    def test_units_of_work_open_together_claim_disjoint_batches(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        ids = [f"L-{n}" for n in range(6)]
        _save(uow_factory, [make_case(loan_id=i) for i in ids])
        with uow_factory() as first, uow_factory() as second:
            a = {c.loan_id for c in claiming(first).claim_due(DAY, limit=3)}
            b = {c.loan_id for c in claiming(second).claim_due(DAY, limit=3)}
        assert len(a) == len(b) == 3
        assert a.isdisjoint(b)
        assert a | b == set(ids)

    def test_a_claim_lasts_until_its_unit_of_work_ends(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        ids = [f"L-{n}" for n in range(4)]
        _save(uow_factory, [make_case(loan_id=i) for i in ids])
        with uow_factory() as holder:
            assert len(claiming(holder).claim_due(DAY, limit=10)) == 4
            with uow_factory() as other:
                assert claiming(other).claim_due(DAY, limit=10) == []
        # the holder rolled back: its cases are still due and free to claim
        with uow_factory() as uow:
            again = claiming(uow).claim_due(DAY, limit=10)
        assert sorted(c.loan_id for c in again) == ids
