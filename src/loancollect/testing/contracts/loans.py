"""The conformance suite of :class:`loancollect.ports.LoanRepository`."""

from __future__ import annotations

import datetime as dt

import pytest

from loancollect.domain.errors import ValidationError
from loancollect.domain.money import Money
from loancollect.ports import UnitOfWorkFactory
from loancollect.testing.builders import make_loan, make_payment
from loancollect.testing.contracts._base import StorageFixtures

__all__ = ["LoanRepositoryContract"]


class LoanRepositoryContract(StorageFixtures):
    """Loans and payments (``uow.loans``). Provide a ``uow_factory`` fixture."""

    def test_loan_round_trip(self, uow_factory: UnitOfWorkFactory) -> None:
        loan = make_loan()
        with uow_factory() as uow:
            uow.loans.add(loan)
            uow.commit()
        with uow_factory() as uow:
            assert uow.loans.get("L-1") == loan

    def test_unknown_loan_is_none(self, uow_factory: UnitOfWorkFactory) -> None:
        with uow_factory() as uow:
            assert uow.loans.get("nope") is None

    def test_adding_a_loan_again_replaces_it(self, seeded: UnitOfWorkFactory) -> None:
        changed = make_loan(id="L-1", grace_days=3)
        with seeded() as uow:
            uow.loans.add(changed)
            uow.commit()
        with seeded() as uow:
            stored = uow.loans.get("L-1")
            assert stored is not None
            assert stored.grace_days == 3

    def test_list_ids_is_ordered_and_paged(self, seeded: UnitOfWorkFactory) -> None:
        with seeded() as uow:
            assert uow.loans.list_ids() == ["L-1", "L-2", "L-3"]
            assert uow.loans.list_ids(limit=2) == ["L-1", "L-2"]
            assert uow.loans.list_ids(after="L-1") == ["L-2", "L-3"]
            assert uow.loans.list_ids(after="L-3") == []

    def test_payments_are_ordered_by_value_date_then_id(self, seeded: UnitOfWorkFactory) -> None:
        late = make_payment(id="P-2", value_date=dt.date(2025, 3, 5))
        early_b = make_payment(id="P-B", value_date=dt.date(2025, 3, 1))
        early_a = make_payment(id="P-A", value_date=dt.date(2025, 3, 1))
        other = make_payment(id="P-9", loan_id="L-2")
        with seeded() as uow:
            for p in (late, early_b, other, early_a):
                uow.loans.add_payment(p)
            uow.commit()
        with seeded() as uow:
            assert uow.loans.payments_for("L-1") == (early_a, early_b, late)
            assert uow.loans.payments_for("L-2") == (other,)
            assert uow.loans.payments_for("L-3") == ()

    def test_adding_the_same_payment_twice_is_a_no_op(self, seeded: UnitOfWorkFactory) -> None:
        with seeded() as uow:
            uow.loans.add_payment(make_payment())
            uow.commit()
        with seeded() as uow:
            uow.loans.add_payment(make_payment())
            uow.commit()
        with seeded() as uow:
            assert uow.loans.payments_for("L-1") == (make_payment(),)

    def test_a_different_payment_with_a_known_id_is_refused(
        self, seeded: UnitOfWorkFactory
    ) -> None:
        with seeded() as uow:
            uow.loans.add_payment(make_payment())
            uow.commit()
        with seeded() as uow, pytest.raises(ValidationError, match=r"payment\.id"):
            uow.loans.add_payment(make_payment(amount=Money("1.00", "CNY")))

    def test_a_payment_for_an_unknown_loan_is_refused(self, uow_factory: UnitOfWorkFactory) -> None:
        with uow_factory() as uow, pytest.raises(ValidationError, match=r"payment\.loan_id"):
            uow.loans.add_payment(make_payment(loan_id="L-404"))
