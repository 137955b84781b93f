"""The conformance suites of concurrent case updates: a stale save is refused
(:class:`CaseVersionContract`, every backend) and a case read for update waits for the
unit of work holding it (:class:`LockingCasesContract`, the optional
:class:`~loancollect.ports.LockingCases`).

Both need a ``uow_factory`` whose units of work can be open at the same time, in
one thread or several.
"""

from __future__ import annotations

import threading
import time

import pytest

from loancollect.domain.case import Case
from loancollect.ports import (
    ConcurrentUpdateError,
    LockingCases,
    StorageBusyError,
    UnitOfWork,
    UnitOfWorkFactory,
)
from loancollect.testing.builders import make_case
from loancollect.testing.contracts._base import StorageFixtures

__all__ = ["CaseVersionContract", "LockingCasesContract"]

STALE = (ConcurrentUpdateError, StorageBusyError)
"""What a stale save raises: :class:`ConcurrentUpdateError` naming the case, or, from a
database that refuses the whole transaction first (SQLite after another writer
committed), :class:`StorageBusyError`."""


def _stage(uow_factory: UnitOfWorkFactory, loan_id: str = "L-1") -> Case | None:
    with uow_factory() as uow:
        return uow.cases.get(loan_id)


def _save(uow_factory: UnitOfWorkFactory, case: Case) -> None:
    with uow_factory() as uow:
        uow.cases.save(case)
        uow.commit()


def _save_in(uow: UnitOfWork, case: Case) -> None:
    """Save ``case`` in ``uow`` and commit (a stale save is refused at the save, or at
    the latest at the commit)."""
    uow.cases.save(case)
    uow.commit()


def locking(uow: UnitOfWork) -> LockingCases:
    """``uow.cases`` as :class:`LockingCases` (the test fails if it is not one)."""
    cases = uow.cases
    assert isinstance(cases, LockingCases), f"{type(cases).__name__} has no get_for_update"
    return cases


class CaseVersionContract(StorageFixtures):
    """A case read and then saved is refused if another unit of work saved it between.
    Provide a ``uow_factory`` fixture."""

    def test_a_stale_save_is_refused_and_writes_nothing(self, seeded: UnitOfWorkFactory) -> None:
        _save(seeded, make_case(stage="early"))
        with seeded() as slow:
            read = slow.cases.get("L-1")
            assert read is not None
            _save(seeded, make_case(stage="late"))  # another unit of work wins
            with pytest.raises(STALE) as raised:
                _save_in(slow, make_case(stage="stale"))
        if isinstance(raised.value, ConcurrentUpdateError):
            assert raised.value.loan_id == "L-1"
            assert "L-1" in str(raised.value)
        stored = _stage(seeded)
        assert stored is not None
        assert stored.stage == "late"

    def test_a_save_after_reading_no_case_is_refused_when_one_was_saved_meanwhile(
        self, seeded: UnitOfWorkFactory
    ) -> None:
        with seeded() as slow:
            assert slow.cases.get("L-1") is None
            _save(seeded, make_case(stage="first"))
            with pytest.raises(STALE):
                _save_in(slow, make_case(stage="second"))
        stored = _stage(seeded)
        assert stored is not None
        assert stored.stage == "first"

    def test_a_case_saved_without_being_read_replaces_what_is_there(
        self, seeded: UnitOfWorkFactory
    ) -> None:
        _save(seeded, make_case(stage="early"))
        _save(seeded, make_case(stage="late"))
        stored = _stage(seeded)
        assert stored is not None
        assert stored.stage == "late"

    def test_saving_again_in_the_same_unit_of_work_is_not_a_conflict(
        self, seeded: UnitOfWorkFactory
    ) -> None:
        _save(seeded, make_case(stage="early"))
        with seeded() as uow:
            case = uow.cases.get("L-1")
            assert case is not None
            uow.cases.save(make_case(stage="mid"))
            uow.commit()
            assert uow.cases.get("L-1") == make_case(stage="mid")
            uow.cases.save(make_case(stage="late"))
            uow.commit()
        stored = _stage(seeded)
        assert stored is not None
        assert stored.stage == "late"


class LockingCasesContract(StorageFixtures):
    """Optional capability: ``cases.get_for_update`` holds a case until the unit of
    work ends; another reader for update waits for it and sees its change. Provide a
    ``uow_factory`` fixture."""

    def test_the_case_repository_reads_for_update(self, uow_factory: UnitOfWorkFactory) -> None:
        with uow_factory() as uow:
            locking(uow)

    def test_a_case_read_for_update_is_saved_without_conflict(
        self, seeded: UnitOfWorkFactory
    ) -> None:
        _save(seeded, make_case(stage="early"))
        with seeded() as uow:
            case = locking(uow).get_for_update("L-1")
            assert case == make_case(stage="early")
            assert locking(uow).get_for_update("L-9") is None
            uow.cases.save(make_case(stage="late"))
            uow.commit()
        stored = _stage(seeded)
        assert stored is not None
        assert stored.stage == "late"

    def test_a_second_reader_for_update_waits_and_sees_the_first_ones_change(
        self, seeded: UnitOfWorkFactory
    ) -> None:
        _save(seeded, make_case(stage="early", flags=frozenset()))
        holding = threading.Event()
        seen: list[Case | None] = []
        errors: list[BaseException] = []

        def second() -> None:
            try:
                holding.wait(10)
                with seeded() as uow:
                    case = locking(uow).get_for_update("L-1")
                    seen.append(case)
                    assert case is not None
                    uow.cases.save(make_case(stage=case.stage, flags=case.flags | {"second"}))
                    uow.commit()
            except BaseException as exc:  # reported in the main thread
                errors.append(exc)

        thread = threading.Thread(target=second)
        thread.start()
        with seeded() as uow:
            case = locking(uow).get_for_update("L-1")
            assert case is not None
            holding.set()
            time.sleep(0.3)  # the second reader is waiting now
            assert seen == []
            uow.cases.save(make_case(stage="late", flags=frozenset({"first"})))
            uow.commit()
        thread.join(30)
        assert not thread.is_alive()
        assert errors == []
        assert len(seen) == 1
        assert seen[0] is not None
        assert seen[0].stage == "late"
        stored = _stage(seeded)
        assert stored is not None
        assert (stored.stage, stored.flags) == ("late", frozenset({"first", "second"}))
