"""Imports in batches through the storage's bulk path (``loancollect import`` on SQL storage).

Each test names the rule: a batch is written all or nothing, ``skip_bad`` drops only
the bad row, borrowers are stored on their own before their loans, and a file longer
than one batch is imported whole.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from loancollect.import_batches import import_in_batches
from loancollect.importing import ImportRejectedError, ImportResult
from loancollect.ports import BulkLoading, UnitOfWorkFactory

pytest.importorskip("loancollect_sqlalchemy")

REVIEW_ON = dt.date(2025, 3, 1)
BORROWERS_HEADER = "id,kind,name,jurisdiction,time_zone,locale,phone\n"
LOANS_HEADER = "id,borrower_id,currency,principal,annual_rate,disbursement_date,term\n"


def borrowers(n: int) -> str:
    return BORROWERS_HEADER + "".join(
        f"B{i},individual,Borrower {i},CN,Asia/Shanghai,zh_CN,+86 138 0013 {8000 + i}\n"
        for i in range(1, n + 1)
    )


def loans(n: int, bad: int | None = None) -> str:
    """``n`` loans, L1 to Ln, of B1 to Bn; loan ``bad`` has a principal that is not a number."""
    return LOANS_HEADER + "".join(
        f"L{i},B{i},CNY,{'abc' if i == bad else '12000.00'},0.12,2025-01-15,12\n"
        for i in range(1, n + 1)
    )


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def sql_storage(tmp_path: Path) -> UnitOfWorkFactory:
    from loancollect.plugins import make_plugin_manager
    from loancollect.registry import open_storage

    db = (tmp_path / "import.db").as_posix()
    return open_storage(make_plugin_manager(load_entrypoints=True), f"sqlite:///{db}")


def stored_loans(storage: UnitOfWorkFactory) -> list[str]:
    with storage() as uow:
        return sorted(uow.loans.list_ids(), key=lambda x: int(x[1:]))


def run(
    storage: UnitOfWorkFactory,
    *paths: Path,
    skip_bad: bool = False,
    progress: list[int] | None = None,
) -> ImportResult:
    return import_in_batches(
        storage,
        list(paths),
        skip_bad=skip_bad,
        review_on=REVIEW_ON,
        batch_rows=3,
        progress=None if progress is None else progress.append,
    )


def test_the_sql_storage_loads_in_bulk(tmp_path: Path) -> None:
    assert isinstance(sql_storage(tmp_path), BulkLoading)


def test_a_bad_row_refuses_its_batch_only_and_the_other_batches_are_written(
    tmp_path: Path,
) -> None:
    storage = sql_storage(tmp_path)
    with pytest.raises(ImportRejectedError) as info:
        run(storage, write(tmp_path, "b.csv", borrowers(7)), write(tmp_path, "l.csv", loans(7, 5)))
    # Batches of 3: lines 2-4 (L1-L3), 5-7 (L4-L6, L5 bad), 8 (L7).
    assert stored_loans(storage) == ["L1", "L2", "L3", "L7"]
    (problem,) = info.value.problems
    assert problem.startswith("l.csv:6: principal='abc'")
    assert info.value.refused == [
        "l.csv lines 5-7: nothing imported: 1 bad row(s) in this batch of 3 row(s)"
    ]
    assert info.value.result is not None
    assert info.value.result.counts == {"borrowers": 7, "loans": 4, "payments": 0}


def test_skip_bad_writes_the_batch_without_its_bad_row(tmp_path: Path) -> None:
    storage = sql_storage(tmp_path)
    result = run(
        storage,
        write(tmp_path, "b.csv", borrowers(7)),
        write(tmp_path, "l.csv", loans(7, 5)),
        skip_bad=True,
    )
    assert stored_loans(storage) == ["L1", "L2", "L3", "L4", "L6", "L7"]
    assert result.counts["loans"] == 6
    ((problem, row),) = result.rejected
    assert problem.startswith("l.csv:6: principal='abc'")
    assert row["id"] == "L5"


def test_borrowers_are_stored_before_and_without_their_loans(tmp_path: Path) -> None:
    storage = sql_storage(tmp_path)
    first = run(storage, write(tmp_path, "b.csv", borrowers(4)))
    assert first.counts == {"borrowers": 4, "loans": 0, "payments": 0}
    assert stored_loans(storage) == []
    assert isinstance(storage, BulkLoading)
    assert sorted(storage.stored_borrowers(["B1", "B4", "B9"])) == ["B1", "B4"]
    # A later import of the loans alone finds their borrowers stored.
    second = run(storage, write(tmp_path, "l.csv", loans(4)))
    assert second.counts == {"borrowers": 0, "loans": 4, "payments": 0}
    with storage() as uow:
        loan = uow.loans.get("L4")
        assert loan is not None
        assert loan.borrower.name == "Borrower 4"
        assert uow.cases.get("L4") is not None


def test_borrowers_go_first_whatever_the_order_of_the_files(tmp_path: Path) -> None:
    storage = sql_storage(tmp_path)
    result = run(
        storage, write(tmp_path, "l.csv", loans(5)), write(tmp_path, "b.csv", borrowers(5))
    )
    assert result.counts == {"borrowers": 5, "loans": 5, "payments": 0}


def test_a_loan_whose_borrower_is_not_stored_names_the_borrower(tmp_path: Path) -> None:
    storage = sql_storage(tmp_path)
    with pytest.raises(ImportRejectedError) as info:
        run(storage, write(tmp_path, "b.csv", borrowers(2)), write(tmp_path, "l.csv", loans(3)))
    assert info.value.problems[0].startswith("l.csv:4: borrower_id='B3': no such borrower")
    assert stored_loans(storage) == []  # L1-L3 are one batch


def test_a_file_longer_than_a_batch_is_imported_whole_with_progress_per_batch(
    tmp_path: Path,
) -> None:
    storage = sql_storage(tmp_path)
    seen: list[int] = []
    result = run(
        storage,
        write(tmp_path, "b.csv", borrowers(8)),
        write(tmp_path, "l.csv", loans(8)),
        progress=seen,
    )
    assert result.counts == {"borrowers": 8, "loans": 8, "payments": 0}
    assert stored_loans(storage) == [f"L{i}" for i in range(1, 9)]
    assert seen == [3, 3, 2, 3, 3, 2]


def test_a_repeated_id_within_a_batch_is_refused_naming_both_lines(tmp_path: Path) -> None:
    storage = sql_storage(tmp_path)
    text = loans(2) + "L1,B1,CNY,500.00,0.12,2025-01-15,6\n"
    with pytest.raises(ImportRejectedError) as info:
        run(storage, write(tmp_path, "b.csv", borrowers(2)), write(tmp_path, "l.csv", text))
    assert "l.csv:2: id='L1': the same id is also on l.csv:4" in info.value.problems[0]
    assert stored_loans(storage) == []


def test_payments_are_imported_in_batches_and_recorded_as_received(tmp_path: Path) -> None:
    storage = sql_storage(tmp_path)
    payments = "".join(
        f'{{"id": "P{i}", "loan_id": "L{i}", "amount": "100.00", "currency": "CNY", '
        f'"value_date": "2025-02-15", "received_at": "2025-02-15T09:30:00+08:00"}}\n'
        for i in range(1, 5)
    )
    result = run(
        storage,
        write(tmp_path, "p.jsonl", payments),
        write(tmp_path, "b.csv", borrowers(4)),
        write(tmp_path, "l.csv", loans(4)),
    )
    assert result.counts == {"borrowers": 4, "loans": 4, "payments": 4}
    with storage() as uow:
        assert [p.id for p in uow.loans.payments_for("L4")] == ["P4"]
        assert len(uow.events.stream("L4")) == 1


def test_the_command_names_the_batch_not_imported_and_what_was(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from loancollect.cli import main

    db = f"sqlite:///{(tmp_path / 'cli.db').as_posix()}"
    runner = CliRunner(env={"COLUMNS": "200"})
    assert runner.invoke(main, ["migrate", "--db", db]).exit_code == 0
    result = runner.invoke(
        main,
        [
            "import",
            "--db",
            db,
            str(write(tmp_path, "l.csv", loans(3, 2))),
            str(write(tmp_path, "b.csv", borrowers(3))),
        ],
    )
    assert result.exit_code == 2, result.output
    assert "l.csv:3: principal='abc'" in result.output
    assert "l.csv lines 2-4: nothing imported: 1 bad row(s) in this batch of 3 row(s)" in (
        result.output
    )
    assert "imported from the other batches: 3 borrowers, 0 loans, 0 payments" in result.output
    assert "rows/s" in result.output
    from loancollect.plugins import make_plugin_manager
    from loancollect.registry import open_storage

    assert stored_loans(open_storage(make_plugin_manager(load_entrypoints=True), db)) == []
