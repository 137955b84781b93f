"""The conformance suite of :class:`loancollect.ports.UnitOfWork`: isolation and atomicity
across all four repositories."""

from __future__ import annotations

import pytest

from loancollect.domain.errors import ValidationError
from loancollect.domain.events import EventKind
from loancollect.ports import UnitOfWork, UnitOfWorkFactory
from loancollect.testing.builders import (
    make_action,
    make_case,
    make_event,
    make_loan,
    make_payment,
)
from loancollect.testing.contracts._base import DAY, StorageFixtures

__all__ = ["UnitOfWorkContract"]


class UnitOfWorkContract(StorageFixtures):
    """Commit, rollback and isolation of units of work. Provide a ``uow_factory`` fixture."""

    def test_uncommitted_writes_are_invisible_to_others(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        with uow_factory() as writer:
            writer.loans.add(make_loan())
            writer.cases.save(make_case())
            assert writer.loans.get("L-1") is not None  # reads see own writes
            assert writer.cases.get("L-1") is not None
            with uow_factory() as reader:
                assert reader.loans.get("L-1") is None
                assert reader.cases.get("L-1") is None
                assert reader.cases.due_for_review(DAY, limit=10) == []
            writer.commit()
        with uow_factory() as reader:
            assert reader.loans.get("L-1") is not None

    def test_leaving_without_commit_rolls_back_everything(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        with uow_factory() as uow:
            write_everything(uow)
        assert_nothing_stored(uow_factory)

    def test_an_exception_rolls_back_and_propagates(self, uow_factory: UnitOfWorkFactory) -> None:
        def fail_midway() -> None:
            with uow_factory() as uow:
                write_everything(uow)
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            fail_midway()
        assert_nothing_stored(uow_factory)

    def test_rollback_discards_changes_since_the_last_commit(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        with uow_factory() as uow:
            uow.loans.add(make_loan(id="L-1"))
            uow.commit()
            uow.loans.add(make_loan(id="L-2"))
            uow.cases.save(make_case(loan_id="L-2"))
            uow.rollback()
            assert uow.loans.get("L-2") is None
            uow.loans.add(make_loan(id="L-3"))
            uow.commit()
        with uow_factory() as uow:
            assert uow.loans.list_ids() == ["L-1", "L-3"]
            assert uow.cases.get("L-2") is None

    def test_a_failed_write_inside_does_not_leave_half_a_unit(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        with uow_factory() as uow:
            uow.loans.add(make_loan())
            uow.commit()

        def fail_midway() -> None:
            with uow_factory() as uow:
                uow.cases.save(make_case())
                uow.outbox.add(make_action(), created_on=DAY)
                uow.loans.add_payment(make_payment(loan_id="L-404"))  # fails
                uow.commit()

        with pytest.raises(ValidationError):
            fail_midway()
        with uow_factory() as uow:
            assert uow.cases.get("L-1") is None
            assert uow.outbox.pending(limit=10) == []


def write_everything(uow: UnitOfWork) -> None:
    """Write a loan, a payment, a case, an outbox entry and an event of ``L-1``."""
    uow.loans.add(make_loan())
    uow.loans.add_payment(make_payment())
    uow.cases.save(make_case())
    uow.outbox.add(make_action(), created_on=DAY)
    uow.events.append([make_event(EventKind.CASE_OPENED)])


def assert_nothing_stored(uow_factory: UnitOfWorkFactory) -> None:
    """Nothing of what :func:`write_everything` writes is stored."""
    with uow_factory() as uow:
        assert uow.loans.get("L-1") is None
        assert uow.loans.payments_for("L-1") == ()
        assert uow.cases.get("L-1") is None
        assert uow.outbox.get(make_action().idempotency_key) is None
        assert uow.events.stream("L-1") == ()
