"""``loancollect import`` stores exactly the rows it stored before the import was made
faster (schedules computed in integers, loans encoded from their integer rows).

The CSV files are generated here (every repayment method and frequency, day counts,
first due dates, penalty terms, tolerances, private lending, contract dates, a
schedules file with fees, borrowers with phones, e-mail addresses and an income);
``data/import_identity.json`` holds the borrower, loan and case rows the import
wrote for them before the change. Regenerate it only for an intended change of the
stored rows: ``python tests/test_import_identity.py`` (from the plug-in's folder).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

GOLDEN = Path(__file__).parent / "data" / "import_identity.json"
REVIEW_ON = dt.date(2025, 10, 31)
METHODS = ("equal_installment", "equal_principal", "interest_only_bullet", "bullet")
FREQUENCIES = ("monthly", "weekly", "biweekly")
DAY_COUNTS = ("", "ACT/360", "ACT/365F", "30/360")


def write_files(folder: Path) -> list[Path]:
    """Borrowers, loans and a schedules file, the same every time."""
    borrowers = ["id,kind,name,jurisdiction,time_zone,locale,phone,email,monthly_income,currency"]
    loans = [
        "id,borrower_id,currency,principal,annual_rate,disbursement_date,term,method,"
        "frequency,day_count,first_due_date,grace_days,penalty_markup,compound,tolerance,"
        "private_lending,contract_date,product"
    ]
    for n in range(48):
        income = f"{8000 + n * 113}.50" if n % 5 == 0 else ""
        email = f"b{n}@example.com" if n % 3 == 0 else ""
        borrowers.append(
            f"B{n},{'company' if n % 7 == 0 else 'individual'},Name {n},CN,Asia/Shanghai,"
            f"zh_CN,+86 139 0000 {n:04d},{email},{income},{'CNY' if income else ''}"
        )
        start = dt.date(2024, 1, 31) + dt.timedelta(days=17 * n)
        first_due = (start + dt.timedelta(days=20 + n % 9)).isoformat() if n % 4 == 1 else ""
        currency = ("CNY", "USD", "JPY")[n % 3]
        principal = f"{1000 + n * 977}" + ("" if currency == "JPY" else f".{n % 100:02d}")
        loans.append(
            f"L{n},B{n},{currency},{principal},0.{(n * 7) % 36 + 1:02d}{n % 10},"
            f"{start.isoformat()},{1 + n % 24},{METHODS[n % 4]},{FREQUENCIES[n % 3]},"
            f"{DAY_COUNTS[n % 4]},{first_due},{n % 10},{'' if n % 2 else '0.3'},"
            f"{'false' if n % 5 == 2 else ''},{'0.50' if n % 6 == 0 and currency != 'JPY' else ''},"
            f"{'true' if n % 11 == 3 else ''},{(start - dt.timedelta(days=3)).isoformat()},"
            f"{'consumer' if n % 2 else ''}"
        )
    # One loan with its own schedule (fees included) instead of the computed one.
    loans.append("L-OWN,B1,CNY,300.00,0.10,2025-01-01,2,,,,,,,,,,,")
    schedules = [
        "loan_id,number,due_date,principal,interest,fees",
        "L-OWN,2,2025-03-01,200.00,1.25,5.00",
        "L-OWN,1,2025-02-01,100.00,2.50,",
    ]
    paths = []
    for name, lines in (
        ("borrowers.csv", borrowers),
        ("loans.csv", loans),
        ("schedules.csv", schedules),
    ):
        path = folder / name
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def stored_rows(db: Path) -> dict[str, list[list[Any]]]:
    """Every column of the borrower, loan and case rows, in key order."""
    with sqlite3.connect(db) as conn:
        return {
            table: [list(r) for r in conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2")]
            for table in ("lc_borrowers", "lc_loans", "lc_cases")
        }


def import_into(folder: Path, processes: int = 1) -> dict[str, list[list[Any]]]:
    """Import the files (in batches of 7, through the bulk path, validated in
    ``processes`` processes) and read the rows back."""
    from loancollect_sqlalchemy import SqlStore

    from loancollect.import_batches import import_in_batches

    db = folder / "import.db"
    store = SqlStore(f"sqlite:///{db}")
    try:
        result = import_in_batches(
            store, write_files(folder), review_on=REVIEW_ON, batch_rows=7, processes=processes
        )
        assert result.counts == {"borrowers": 48, "loans": 49, "payments": 0}
    finally:
        store.dispose()
    return stored_rows(db)


@pytest.mark.parametrize("processes", [1, 2])
def test_the_import_stores_the_rows_it_stored_before_in_one_or_more_processes(
    tmp_path: Path, processes: int
) -> None:
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    got = json.loads(json.dumps(import_into(tmp_path, processes)))
    for table, rows in expected.items():
        assert len(got[table]) == len(rows), table
        for new, old in zip(got[table], rows, strict=True):
            assert new == old, (table, old[:2])


if __name__ == "__main__":  # write the golden file with the code on the path
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        rows = import_into(Path(tmp))
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(
        "{\n"
        + ",\n".join(
            f"{json.dumps(table)}: [\n"
            + ",\n".join(json.dumps(r, ensure_ascii=False) for r in table_rows)
            + "\n]"
            for table, table_rows in rows.items()
        )
        + "\n}\n",
        encoding="utf-8",
    )
    print(f"wrote {GOLDEN}", {k: len(v) for k, v in rows.items()}, file=sys.stderr)
