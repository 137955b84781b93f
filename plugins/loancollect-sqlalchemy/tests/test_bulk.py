"""Bulk import: validated rows in batches; a bad row is reported by position and its
batch is not written; SQLite (executemany) and PostgreSQL (COPY) alike."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from loancollect_sqlalchemy import SqlStore, bulk
from loancollect_sqlalchemy.bulk import (
    BulkImportError,
    import_rows,
    loan_rows,
    payment_row,
)
from loancollect_sqlalchemy.synthetic import Portfolio, portfolio

from loancollect.domain.loans import PenaltyTerms
from loancollect.domain.money import Money
from loancollect.testing import make_loan, make_payment

AS_OF = dt.date(2025, 10, 31)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    if request.param == "sqlite":
        s = SqlStore(f"sqlite:///{tmp_path}/bulk.db")
    else:
        s = SqlStore(request.getfixturevalue("pg_url"), migrate=False)
    yield s
    s.dispose()


def _rows(n: int) -> list[tuple[str, dict[str, Any]]]:
    return list(portfolio(Portfolio(loans=n, as_of=AS_OF, due_share=0.5, seed=3)))


def test_import_writes_every_row_and_opens_cases(store: SqlStore) -> None:
    rows = _rows(300)
    report = import_rows(store, rows, batch_size=64)
    assert report.ok
    assert report.borrowers == report.loans == report.cases_opened == 300
    assert report.payments == sum(1 for k, _ in rows if k == "payment")
    with store() as uow:
        assert len(uow.loans.list_ids()) == 300
        assert uow.cases.count_due(AS_OF) == 150
        due = uow.cases.due_for_review(AS_OF, limit=500)
        loan = uow.loans.get(due[0].loan_id)
        assert loan is not None
        assert len(loan.installments) == 12
        assert sum(i.principal.minor_units for i in loan.installments) == (
            loan.principal.minor_units
        )


def test_domain_objects_import_and_read_back_equal(store: SqlStore) -> None:
    loan = make_loan(
        penalty=PenaltyTerms(markup=Decimal("0.3"), compound=False), grace_days=3, product="cash"
    )
    borrower, row = loan_rows(loan, next_review_date=AS_OF)
    pay = make_payment()
    report = import_rows(
        store, [("borrower", borrower), ("loan", row), ("payment", payment_row(pay))]
    )
    assert report.ok
    with store() as uow:
        assert uow.loans.get("L-1") == loan
        assert uow.loans.payments_for("L-1") == (pay,)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("principal_minor", 10.5, "integer"),
        ("annual_rate", 6, "fraction"),
        ("currency", "XXX", "currency"),
        ("borrower_id", "B-404", "no such borrower"),
        ("installments", [], "at least one"),
    ],
)
def test_a_bad_row_rejects_its_batch_only(
    store: SqlStore, field: str, value: object, reason: str
) -> None:
    rows = _rows(30)
    loans = [i for i, (k, _) in enumerate(rows) if k == "loan"]
    bad_index = loans[25]  # in the third batch of 10 loans
    rows[bad_index] = ("loan", {**rows[bad_index][1], field: value})
    report = import_rows(store, rows, batch_size=10)
    assert not report.ok
    assert report.rejected_batches == 1
    (problem,) = report.problems
    assert (problem.kind, problem.position, problem.field) == ("loan", 25, field)
    assert reason in problem.reason
    with store() as uow:
        ids = uow.loans.list_ids()
    assert len(ids) == 20  # batches 1 and 2 written, batch 3 not at all
    assert rows[loans[20]][1]["id"] not in ids
    assert rows[loans[19]][1]["id"] in ids


def test_a_bad_installment_names_its_position(store: SqlStore) -> None:
    rows = _rows(3)
    loan_at = [i for i, (k, _) in enumerate(rows) if k == "loan"][1]
    row = dict(rows[loan_at][1])
    items = list(row["installments"])
    items[4] = (items[2][0], items[4][1], items[4][2])  # due date going backwards
    row["installments"] = items
    rows[loan_at] = ("loan", row)
    with pytest.raises(BulkImportError, match=r"loans\[1\]\.installments\[4\]\.due_date"):
        import_rows(store, rows, stop_on_error=True)


def test_payments_for_unknown_loans_and_repeats_are_refused(store: SqlStore) -> None:
    loan = make_loan()
    borrower, row = loan_rows(loan)
    assert import_rows(store, [("borrower", borrower), ("loan", row)]).ok
    good = payment_row(make_payment())
    stray = payment_row(make_payment(id="P-2", loan_id="L-404"))
    report = import_rows(store, [("payment", good), ("payment", stray)])
    assert [(p.position, p.field) for p in report.problems] == [(1, "loan_id")]
    with store() as uow:
        assert uow.loans.payments_for("L-1") == ()
    assert import_rows(store, [("payment", good)]).ok
    again = import_rows(store, [("payment", good)])
    assert [p.reason for p in again.problems] == ["payment already recorded"]


def test_personal_data_is_masked_in_problems(store: SqlStore) -> None:
    rows = _rows(1)
    borrower = dict(rows[0][1])
    borrower["contact_points"] = [["phone", "+86 12", "mobile"]]
    report = import_rows(store, [("borrower", borrower)])
    (problem,) = report.problems
    assert "+86 12" not in str(problem)
    assert problem.field == "contact_points[0].value"


def test_money_is_exact(store: SqlStore) -> None:
    loan = make_loan(principal=Money("12345678901234.57", "CNY"))
    borrower, row = loan_rows(loan)
    assert import_rows(store, [("borrower", borrower), ("loan", row)]).ok
    with store() as uow:
        stored = uow.loans.get("L-1")
    assert stored is not None
    assert stored.principal == Money("12345678901234.57", "CNY")


def test_a_repeated_id_is_reported_before_a_later_bad_row(store: SqlStore) -> None:
    rows = _rows(6)
    loans = [r for k, r in rows if k == "loan"]
    borrowers = [("borrower", r) for k, r in rows if k == "borrower"]
    batch = [dict(r) for r in loans]
    batch[3]["id"] = batch[1]["id"]
    batch[5]["currency"] = "XXX"
    report = import_rows(store, [*borrowers, *(("loan", r) for r in batch)])
    assert [(p.kind, p.position, p.field) for p in report.problems] == [("loan", 3, "id")]
    assert report.loans == 0


def test_loans_of_a_rejected_borrower_batch_are_refused(store: SqlStore) -> None:
    rows = _rows(4)
    borrowers = [("borrower", dict(r)) for k, r in rows if k == "borrower"]
    loans = [("loan", r) for k, r in rows if k == "loan"]
    borrowers[3][1]["locale"] = ""
    # Borrowers 0-1 are written, 2-3 rejected; the loan of borrower 2 must not be
    # taken for one of a borrower this import wrote.
    report = import_rows(store, [*borrowers, loans[0], loans[2]], batch_size=2)
    assert [(p.kind, p.position, p.field) for p in report.problems] == [
        ("borrower", 3, "locale"),
        ("loan", 1, "borrower_id"),
    ]
    assert (report.borrowers, report.loans) == (2, 0)
    assert import_rows(store, [loans[0], loans[1]], batch_size=2).ok


def test_installment_shapes_are_stored_alike() -> None:
    enc = bulk._Encoder("sqlite")
    _, row = _rows(1)[1]
    assert row["installments"]
    triples = [tuple(i) for i in row["installments"]]
    full = [[*i, None, None, None] for i in triples]
    as_text = [[i[0].isoformat(), i[1], i[2]] for i in triples]
    stored = {
        bulk._loan({**row, "installments": shape}, enc)[0][6]
        for shape in (triples, [list(i) for i in triples], full, as_text)
    }
    assert len(stored) == 1
    (text,) = stored
    assert json.loads(text)[0] == [1, triples[0][0].isoformat(), *triples[0][1:], None, None, None]


def test_contact_points_are_stored_as_json() -> None:
    enc = bulk._Encoder("sqlite")
    points = [
        ["phone", "+86 138 0000 1234", "mobile"],
        ["email", 'a"b\\c@例え.jp\n', None],
        ["address", "北京 \u2028", ""],
        ["phone", "١٢٣٤٥٦", 7],
    ]
    _, borrower = _rows(1)[0]
    stored = bulk._borrower({**borrower, "contact_points": points}, enc)[6]
    expected = [{"kind": k, "value": v} | ({"label": str(lb)} if lb else {}) for k, v, lb in points]
    assert stored == json.dumps(expected, ensure_ascii=False)


def test_an_import_writes_for_its_stores_tenant_only(store: SqlStore) -> None:
    rows = _rows(40)
    other = store.for_tenant("brand-b")
    assert import_rows(store, rows, batch_size=16).ok
    with other() as uow:
        assert uow.loans.list_ids() == []
        assert uow.cases.count_due(AS_OF) == 0
    # the same rows again, for the other tenant: the same ids, no clash
    report = import_rows(other, rows, batch_size=16)
    assert report.ok
    assert (report.borrowers, report.loans) == (40, 40)
    assert report.cases_opened == 40  # cases of the first tenant do not count
    with store() as a, other() as b:
        assert a.loans.list_ids() == b.loans.list_ids()
        assert a.cases.count_due(AS_OF) == b.cases.count_due(AS_OF) == 20


def test_references_are_looked_up_in_the_importing_tenant(store: SqlStore) -> None:
    loan = make_loan()
    borrower, row = loan_rows(loan)
    assert import_rows(store, [("borrower", borrower), ("loan", row)]).ok
    assert import_rows(store, [("payment", payment_row(make_payment()))]).ok
    other = store.for_tenant("brand-b")
    # the borrower and the loan exist in the first tenant only
    refused = import_rows(other, [("loan", row), ("payment", payment_row(make_payment()))])
    assert [(p.kind, p.field, p.reason) for p in refused.problems] == [
        ("loan", "borrower_id", "no such borrower"),
        ("payment", "loan_id", "no such loan"),
    ]
    # with its own borrower and loan, the same payment id is not "already recorded"
    assert import_rows(other, [("borrower", borrower), ("loan", row)]).ok
    assert import_rows(other, [("payment", payment_row(make_payment()))]).ok
    with other() as uow:
        assert uow.loans.payments_for("L-1") == (make_payment(),)


# -- validated domain records (the storage port's BulkLoading) ------------------------------


def test_load_records_writes_borrowers_alone_then_their_loans_with_cases(store: SqlStore) -> None:
    from loancollect.ports import BulkLoading
    from loancollect.testing import make_borrower

    assert isinstance(store, BulkLoading)
    plain = make_borrower(id="B-1")
    earning = make_borrower(id="B-2", monthly_income=Money("8000.00", "CNY"))
    store.load_records(borrowers=[plain, earning], loans=[], review_on=AS_OF)
    assert store.stored_borrowers(["B-1", "B-2", "B-3"]) == {"B-1": plain, "B-2": earning}
    assert store.stored_loan_ids(["L-1"]) == set()
    loans = [make_loan(id="L-1", borrower=plain), make_loan(id="L-2", borrower=earning)]
    store.load_records(borrowers=[], loans=loans, review_on=AS_OF)
    assert store.stored_loan_ids(["L-1", "L-2", "L-3"]) == {"L-1", "L-2"}
    with store() as uow:
        assert uow.loans.get("L-1") == loans[0]
        assert uow.loans.get("L-2") == loans[1]
        case = uow.cases.get("L-2")
        assert case is not None
        assert case.next_review_date == AS_OF


def test_load_records_writes_nothing_when_a_loans_borrower_is_unknown(store: SqlStore) -> None:
    from loancollect.domain.errors import ValidationError
    from loancollect.testing import make_borrower

    known = make_borrower(id="B-1")
    stranger = make_borrower(id="B-404")
    loans = [make_loan(id="L-1", borrower=known), make_loan(id="L-2", borrower=stranger)]
    with pytest.raises(ValidationError, match="B-404"):
        store.load_records(borrowers=[known], loans=loans, review_on=AS_OF)
    assert store.stored_borrowers(["B-1"]) == {}
    assert store.stored_loan_ids(["L-1", "L-2"]) == set()
