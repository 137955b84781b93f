"""``load_records`` (what ``loancollect import`` writes through) encodes a validated loan
straight from its integer schedule rows: the values are exactly those the bulk path
writes for ``loan_rows(loan)``, whatever the loan's terms and however it was built."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from loancollect_sqlalchemy import SqlStore, bulk
from loancollect_sqlalchemy.bulk import BulkImporter, loan_rows

from loancollect.domain.calendar import DayCount
from loancollect.domain.loans import (
    Frequency,
    Installment,
    Loan,
    PenaltyTerms,
    RepaymentMethod,
    stored_loan,
)
from loancollect.domain.money import Money
from loancollect.testing import make_loan


def _loans() -> list[Loan]:
    plain = make_loan()
    explicit = Loan(
        id="L-X",
        borrower=plain.borrower,
        principal=Money("300.00", "CNY"),
        annual_rate=Decimal("0.1"),
        disbursement_date=dt.date(2025, 1, 1),
        installments=(
            Installment(1, dt.date(2025, 2, 1), Money("100.00", "CNY"), Money("2.50", "CNY")),
            Installment(
                2,
                dt.date(2025, 3, 1),
                Money("200.00", "CNY"),
                Money("1.25", "CNY"),
                fees=Money("5.00", "CNY"),
                accrual_start=dt.date(2025, 2, 1),
                accrual_days=28,
            ),
        ),
        tolerance=Money("0.50", "CNY"),
        private_lending=True,
        contract_date=dt.date(2024, 12, 20),
        product="consumer",
        grace_days=3,
    )
    return [
        plain,
        make_loan(
            id="L-2",
            principal=Money("12345.67", "USD"),
            annual_rate=Decimal("0.0725"),
            term=7,
            method=RepaymentMethod.EQUAL_PRINCIPAL,
            frequency=Frequency.BIWEEKLY,
            day_count=DayCount.ACT_365F,
            penalty=PenaltyTerms(markup=Decimal("0.3"), compound=False),
            first_due_date=dt.date(2025, 2, 3),
        ),
        make_loan(id="L-3", principal=Money("5000", "JPY"), method=RepaymentMethod.BULLET),
        explicit,
        # rebuilt from stored rows, as the repositories do
        stored_loan(
            id="L-S",
            borrower=plain.borrower,
            currency="CNY",
            principal_minor=300_00,
            annual_rate=Decimal("0.1"),
            disbursement_date=dt.date(2025, 1, 1),
            schedule=[
                [1, "2025-02-01", 100_00, 250, None, "2025-01-01", 31],
                [2, "2025-03-01", 200_00, 125, 500, None, None],
            ],
        ),
        attrs.evolve(plain, id="L-E"),  # installments given as objects
    ]


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_encoded_loan_is_what_the_bulk_path_writes_for_its_rows(
    dialect: str, tmp_path: Path
) -> None:
    store = SqlStore(f"sqlite:///{tmp_path}/r.db")
    try:
        importer = BulkImporter(store, review_on=dt.date(2025, 10, 31))
        enc = bulk._Encoder(dialect, "tenant-a")
        importer._enc = enc
        loans = _loans()
        expected, cases = importer._prepare("loan", 0, [loan_rows(x)[1] for x in loans])
        assert [bulk._loan_values(x, enc) for x in loans] == expected
        assert importer._cases(expected, [None] * len(loans)) == cases
    finally:
        store.dispose()


def test_schedule_rows_of_a_loan_match_its_installments() -> None:
    for loan in _loans():
        rows = loan.schedule_rows()
        assert [(r[1], r[2], r[3], r[4]) for r in rows] == [
            (
                i.due_date,
                i.principal.minor_units,
                i.interest.minor_units,
                None if i.fees is None else i.fees.minor_units,
            )
            for i in loan.installments
        ]


def test_load_records_refuses_a_loan_id_twice_and_writes_nothing(tmp_path: Path) -> None:
    from loancollect.domain.errors import ValidationError

    store = SqlStore(f"sqlite:///{tmp_path}/twice.db")
    try:
        loan = make_loan()
        with pytest.raises(ValidationError) as refused:
            store.load_records(
                borrowers=[loan.borrower], loans=[loan, loan], review_on=dt.date(2025, 10, 31)
            )
        assert refused.value.field == "id"
        assert refused.value.value == "L-1"
        assert bulk.stored_ids(store, bulk.t.borrowers, ["B-1", loan.borrower.id]) == set()
    finally:
        store.dispose()


def test_a_borrower_with_a_zero_income_is_stored_not_dropped(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path}/zero.db")
    try:
        loan = make_loan()
        broke = attrs.evolve(loan.borrower, monthly_income=Money("0", "CNY"))
        store.load_records(
            borrowers=[broke],
            loans=[attrs.evolve(loan, borrower=broke)],
            review_on=dt.date(2025, 10, 31),
        )
        assert bulk.stored_ids(store, bulk.t.borrowers, [broke.id]) == {broke.id}
        assert store.stored_loan_ids([loan.id]) == {loan.id}
    finally:
        store.dispose()


def test_the_record_encoder_pickles_and_encodes_as_load_records_writes(tmp_path: Path) -> None:
    import pickle
    import sqlite3

    loans = _loans()
    borrowers = list({x.borrower.id: x.borrower for x in loans}.values())
    review = dt.date(2025, 10, 31)
    direct = SqlStore(f"sqlite:///{tmp_path}/direct.db")
    encoded = SqlStore(f"sqlite:///{tmp_path}/encoded.db")
    try:
        direct.load_records(borrowers=borrowers, loans=loans, review_on=review)
        encoder = pickle.loads(pickle.dumps(encoded.record_encoder()))
        rows = pickle.loads(
            pickle.dumps((encoder.encode_borrowers(borrowers), encoder.encode_loans(loans)))
        )
        encoded.load_encoded(borrowers=rows[0], loans=rows[1], review_on=review)
    finally:
        direct.dispose()
        encoded.dispose()
    tables = ("lc_borrowers", "lc_loans", "lc_cases")
    found = []
    for name in ("direct", "encoded"):
        with sqlite3.connect(tmp_path / f"{name}.db") as conn:
            found.append([list(conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2")) for t in tables])
    assert found[0] == found[1]
    assert all(found[0])
