"""Imports validated in worker processes (``import_in_batches(processes=N)``).

Each test names the rule: the rows stored and the problems reported are the same
whatever the number of processes (and the same as through the storage's plain
``load_records``), a bad row refuses only its batch, ``skip_bad`` drops only the
bad row, and a worker that dies stops the import after the batches before it.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import signal
import sqlite3
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import pytest

from loancollect.domain.loans import Borrower, Loan
from loancollect.import_batches import ImportStoppedError, import_in_batches
from loancollect.importing import ImportRejectedError
from loancollect.ports import BulkLoading, EncodedLoading, UnitOfWork

pytest.importorskip("loancollect_sqlalchemy")
from loancollect_sqlalchemy import SqlStore

REVIEW_ON = dt.date(2025, 3, 1)


def write(folder: Path, name: str, lines: Sequence[str]) -> Path:
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def varied_files(folder: Path) -> list[Path]:
    """Borrowers, loans and schedules with bad rows of every kind among good ones."""
    borrowers = ["id,kind,name,jurisdiction,time_zone,locale,phone,email,monthly_income,currency"]
    for n in range(1, 31):
        phone = "+86 12" if n == 4 else f"+86 139 0000 {n:04d}"  # B4: not a phone number
        jurisdiction = "UK" if n == 9 else "CN"  # B9: not a country code
        income = f"{7000 + n}.00" if n % 6 == 0 else ""
        borrowers.append(
            f"B{n},{'company' if n % 7 == 0 else 'individual'},Name {n},{jurisdiction},"
            f"Asia/Shanghai,zh_CN,{phone},{f'b{n}@example.com' if n % 3 == 0 else ''},"
            f"{income},{'CNY' if income else ''}"
        )
    borrowers.append("B30,individual,Again,CN,Asia/Shanghai,zh_CN,,,,")  # B30 twice in a batch
    loans = ["id,borrower_id,currency,principal,annual_rate,disbursement_date,term,method"]
    methods = ("equal_installment", "equal_principal", "interest_only_bullet", "bullet")
    for n in range(1, 31):
        principal = "abc" if n == 17 else f"{1000 + 37 * n}.{n % 100:02d}"
        loans.append(
            f"L{n},B{n},CNY,{principal},0.{10 + n % 20:02d},2025-01-{n % 28 + 1:02d},"
            f"{1 + n % 18},{methods[n % 4]}"
        )
    loans.append("L31,B99,CNY,500.00,0.12,2025-01-15,6,")  # no such borrower
    loans.append("L-OWN,B15,CNY,300.00,0.10,2025-01-01,2,")  # its own schedule
    loans.append("L-BADSCHED,B14,CNY,300.00,0.10,2025-01-01,2,")  # a bad installment
    schedules = [
        "loan_id,number,due_date,principal,interest,fees",
        "L-OWN,2,2025-03-01,200.00,1.25,5.00",
        "L-OWN,1,2025-02-01,100.00,2.50,",
        "L-BADSCHED,1,2025-02-31,300.00,2.50,",
        "L-NOWHERE,1,2025-02-01,100.00,2.50,",
    ]
    return [
        write(folder, "borrowers.csv", borrowers),
        write(folder, "loans.csv", loans),
        write(folder, "schedules.csv", schedules),
    ]


class PlainBulkStore:
    """The SQL store seen through ``BulkLoading`` alone: the import validates in this
    process and writes domain records with ``load_records`` (the path without
    ``EncodedLoading``)."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    def __call__(self) -> UnitOfWork:
        return self.store()

    def load_records(
        self, *, borrowers: Sequence[Borrower], loans: Sequence[Loan], review_on: dt.date
    ) -> None:
        self.store.load_records(borrowers=borrowers, loans=loans, review_on=review_on)

    def stored_borrowers(self, ids: Collection[str]) -> dict[str, Borrower]:
        return self.store.stored_borrowers(ids)

    def stored_loan_ids(self, ids: Collection[str]) -> set[str]:
        return self.store.stored_loan_ids(ids)


def stored_rows(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every column of every borrower, loan and case row, in key order."""
    with sqlite3.connect(db) as conn:
        return {
            table: list(conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2"))
            for table in ("lc_borrowers", "lc_loans", "lc_cases")
        }


def imported(
    folder: Path, files: list[Path], way: str, *, skip_bad: bool
) -> tuple[object, dict[str, list[tuple[Any, ...]]]]:
    """Import ``files`` into a new database ``way`` ("plain", "1" or "2" processes):
    what the import returned or raised (as comparable values) and the stored rows."""
    db = folder / f"{way}-{skip_bad}.db"
    store = SqlStore(f"sqlite:///{db.as_posix()}")
    storage: Any = PlainBulkStore(store) if way == "plain" else store
    processes = 1 if way == "plain" else int(way)
    try:
        try:
            result = import_in_batches(
                storage,
                files,
                review_on=REVIEW_ON,
                batch_rows=4,
                skip_bad=skip_bad,
                processes=processes,
            )
            outcome: object = (result.counts, result.rejected, result.not_written)
        except ImportRejectedError as exc:
            written = None if exc.result is None else exc.result.counts
            outcome = (exc.problems, exc.refused, written)
    finally:
        store.dispose()
    return outcome, stored_rows(db)


def test_the_plain_store_takes_the_path_without_encoded_loading(tmp_path: Path) -> None:
    plain = PlainBulkStore(SqlStore(f"sqlite:///{(tmp_path / 'x.db').as_posix()}"))
    assert isinstance(plain, BulkLoading)
    assert not isinstance(plain, EncodedLoading)


@pytest.mark.parametrize("skip_bad", [False, True])
def test_one_or_two_processes_store_the_same_rows_and_report_the_same_problems(
    tmp_path: Path, skip_bad: bool
) -> None:
    files = varied_files(tmp_path)
    plain = imported(tmp_path, files, "plain", skip_bad=skip_bad)
    one = imported(tmp_path, files, "1", skip_bad=skip_bad)
    two = imported(tmp_path, files, "2", skip_bad=skip_bad)
    assert one == plain
    assert two == plain
    outcome, rows = two
    assert len(rows["lc_loans"]) == len(rows["lc_cases"]) > 0
    if skip_bad:
        counts, rejected, _ = outcome  # type: ignore[misc]
        problems = [message for message, _ in rejected]
    else:
        problems, refused, counts = outcome  # type: ignore[misc]
        assert refused  # the batches with a bad row
    assert counts["loans"] == len(rows["lc_loans"])
    text = "\n".join(problems)
    for expected in (
        "borrowers.csv:5: ",  # B4's phone
        "borrowers.csv:10: jurisdiction='UK'",
        "borrowers.csv:31: id='B30': the same id is also on borrowers.csv:32",
        "loans.csv:18: principal='abc'",
        "loans.csv:32: borrower_id='B99': no such borrower",
        "loans.csv:5: borrower_id='B4': its borrower's row is bad",
        "loans.csv:34: schedule schedules.csv:4",
        "schedules.csv:5: loan_id='L-NOWHERE': no such loan in this import",
    ):
        assert expected in text


def loan_lines(n: int, bad: int | None = None) -> list[str]:
    return ["id,borrower_id,currency,principal,annual_rate,disbursement_date,term"] + [
        f"L{i},B{i},CNY,{'abc' if i == bad else '12000.00'},0.12,2025-01-15,12"
        for i in range(1, n + 1)
    ]


def borrower_lines(n: int) -> list[str]:
    return ["id,kind,name,jurisdiction,time_zone,locale,phone"] + [
        f"B{i},individual,Borrower {i},CN,Asia/Shanghai,zh_CN,+86 138 0013 {8000 + i}"
        for i in range(1, n + 1)
    ]


def stored_loan_ids(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM lc_loans")]
    return sorted(ids, key=lambda x: int(x[1:]))


def test_a_bad_row_in_a_worker_batch_refuses_that_batch_only(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    store = SqlStore(f"sqlite:///{db.as_posix()}")
    files = [
        write(tmp_path, "b.csv", borrower_lines(10)),
        write(tmp_path, "l.csv", loan_lines(10, 5)),
    ]
    with pytest.raises(ImportRejectedError) as info:
        import_in_batches(store, files, review_on=REVIEW_ON, batch_rows=3, processes=2)
    store.dispose()
    # Batches of 3: L1-L3, L4-L6 (L5 bad), L7-L9, L10.
    assert stored_loan_ids(db) == ["L1", "L2", "L3", "L7", "L8", "L9", "L10"]
    (problem,) = info.value.problems
    assert problem.startswith("l.csv:6: principal='abc'")
    assert info.value.refused == [
        "l.csv lines 5-7: nothing imported: 1 bad row(s) in this batch of 3 row(s)"
    ]


def test_skip_bad_in_workers_writes_the_batch_without_its_bad_row(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    store = SqlStore(f"sqlite:///{db.as_posix()}")
    files = [
        write(tmp_path, "b.csv", borrower_lines(10)),
        write(tmp_path, "l.csv", loan_lines(10, 5)),
    ]
    result = import_in_batches(
        store, files, review_on=REVIEW_ON, batch_rows=3, processes=2, skip_bad=True
    )
    store.dispose()
    assert stored_loan_ids(db) == [f"L{i}" for i in range(1, 11) if i != 5]
    assert result.counts == {"borrowers": 10, "loans": 9, "payments": 0}
    ((problem, row),) = result.rejected
    assert problem.startswith("l.csv:6: principal='abc'")
    assert row["id"] == "L5"


def test_a_killed_worker_stops_the_import_after_the_batches_before_it(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    store = SqlStore(f"sqlite:///{db.as_posix()}")
    files = [write(tmp_path, "b.csv", borrower_lines(30)), write(tmp_path, "l.csv", loan_lines(30))]
    batches: list[int] = []
    before = {child.pid for child in multiprocessing.active_children()}
    killed: list[int] = []

    def progress(rows: int) -> None:
        batches.append(rows)
        if len(batches) == 11:  # the 10 borrower batches and the first loan batch written
            for child in multiprocessing.active_children():
                if child.pid is not None and child.pid not in before:  # the import's workers
                    os.kill(child.pid, signal.SIGKILL)
                    child.join()
                    killed.append(child.pid)

    with pytest.raises(ImportStoppedError) as info:
        import_in_batches(
            store, files, review_on=REVIEW_ON, batch_rows=3, processes=2, progress=progress
        )
    store.dispose()
    assert killed
    written = info.value.result.counts["loans"]
    # Batches are written whole and in file order: what is stored is the batches
    # before the one whose worker died, and the error names that batch.
    assert 3 <= written < 30, (written, batches)
    assert written % 3 == 0, (written, batches)
    assert stored_loan_ids(db) == [f"L{i}" for i in range(1, written + 1)]
    assert info.value.where == f"l.csv lines {written + 2}-{written + 4}"
    assert "ended unexpectedly" in str(info.value)


def test_processes_must_be_at_least_one(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{(tmp_path / 'w.db').as_posix()}")
    files = [write(tmp_path, "b.csv", borrower_lines(2))]
    with pytest.raises(ValueError, match="processes"):
        import_in_batches(store, files, review_on=REVIEW_ON, processes=0)
    store.dispose()


def test_files_split_among_workers_are_imported_whole_in_file_order(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    store = SqlStore(f"sqlite:///{db.as_posix()}")
    files = [write(tmp_path, "b.csv", borrower_lines(20)), write(tmp_path, "l.csv", loan_lines(20))]
    seen: list[int] = []
    result = import_in_batches(
        store, files, review_on=REVIEW_ON, batch_rows=3, processes=2, progress=seen.append
    )
    store.dispose()
    assert result.counts == {"borrowers": 20, "loans": 20, "payments": 0}
    assert stored_loan_ids(db) == [f"L{i}" for i in range(1, 21)]
    assert seen == [3, 3, 3, 3, 3, 3, 2] * 2


@pytest.mark.parametrize("way", ["plain", "2"])
def test_a_stored_loan_with_payments_is_not_replaced_by_changed_terms_in_workers(
    tmp_path: Path, way: str
) -> None:
    db = tmp_path / f"{way}.db"
    store = SqlStore(f"sqlite:///{db.as_posix()}")
    storage: Any = PlainBulkStore(store) if way == "plain" else store
    processes = 1 if way == "plain" else 2
    payment = (
        '{"id": "P1", "loan_id": "L2", "amount": "100.00", "currency": "CNY", '
        '"value_date": "2025-02-15", "received_at": "2025-02-15T09:30:00+08:00"}'
    )
    first = [
        write(tmp_path, "b.csv", borrower_lines(4)),
        write(tmp_path, "l.csv", loan_lines(4)),
        write(tmp_path, "p.jsonl", [payment]),
    ]
    import_in_batches(storage, first, review_on=REVIEW_ON, batch_rows=3, processes=processes)
    changed = [line.replace("0.12,", "0.18,") for line in loan_lines(4)]
    with pytest.raises(ImportRejectedError) as info:
        import_in_batches(
            storage,
            [write(tmp_path, "l2.csv", changed)],
            review_on=REVIEW_ON,
            batch_rows=3,
            processes=processes,
        )
    store.dispose()
    assert info.value.problems == [
        "l2.csv:3: id='L2': already stored with other terms and 1 payment(s); replacing it "
        "changes what was due and collected: pass --replace-loans-with-payments "
        "(replace_loans_with_payments=True) if that is meant"
    ]
    assert info.value.refused == [
        "l2.csv lines 2-4: nothing imported: 1 bad row(s) in this batch of 3 row(s)"
    ]
    with sqlite3.connect(db) as conn:
        rates = dict(conn.execute("SELECT id, annual_rate FROM lc_loans"))
    assert rates == {"L1": "0.12", "L2": "0.12", "L3": "0.12", "L4": "0.18"}
