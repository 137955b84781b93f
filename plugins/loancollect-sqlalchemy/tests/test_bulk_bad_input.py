"""Bulk import refuses what storage cannot hold: NUL characters, amounts beyond a
64-bit integer, dates outside 1900-2999; the batch is not written (SQLite)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from loancollect_sqlalchemy import SqlStore
from loancollect_sqlalchemy.bulk import import_rows, loan_rows, payment_row

from loancollect.testing import make_loan, make_payment


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    s = SqlStore(f"sqlite:///{tmp_path}/bulk.db")
    yield s
    s.dispose()


def _rows() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    borrower, loan = loan_rows(make_loan())
    return borrower, loan, payment_row(make_payment())


@pytest.mark.parametrize(
    ("kind", "field", "value", "reason"),
    [
        ("borrower", "name", "Wang\x00Fang", "NUL"),
        ("borrower", "id", "B\x00", "NUL"),
        ("loan", "product", "cash\x00", "NUL"),
        ("loan", "principal_minor", 2**63, "out of range"),
        ("loan", "disbursement_date", dt.date(9999, 1, 1), "out of range"),
        ("payment", "amount_minor", 2**63, "out of range"),
        ("payment", "reference", "x\x00", "NUL"),
        ("payment", "value_date", "0001-01-01", "out of range"),
        (
            "payment",
            "received_at",
            dt.datetime(9999, 12, 31, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
            "out of range",
        ),
    ],
)
def test_bulk_rows_storage_cannot_hold_are_refused_and_not_written(
    store: SqlStore, kind: str, field: str, value: object, reason: str
) -> None:
    borrower, loan, payment = _rows()
    row = {"borrower": borrower, "loan": loan, "payment": payment}[kind]
    row[field] = value
    report = import_rows(store, [("borrower", borrower), ("loan", loan), ("payment", payment)])
    assert not report.ok
    problem = report.problems[0]
    assert problem.kind == kind
    assert problem.field == field
    assert reason in problem.reason
    assert "Wang" not in str(problem)
    with store() as uow:
        if kind == "payment":
            assert uow.loans.payments_for("L-1") == ()
        else:
            assert uow.loans.list_ids() == []


def test_an_installment_interest_beyond_a_64_bit_integer_is_refused(store: SqlStore) -> None:
    borrower, loan, _ = _rows()
    first = list(loan["installments"][0])
    first[2] = 2**63
    loan["installments"] = [first, *loan["installments"][1:]]
    report = import_rows(store, [("borrower", borrower), ("loan", loan)])
    (problem,) = report.problems
    assert problem.field == "installments[0].interest_minor"
    assert "out of range" in problem.reason
