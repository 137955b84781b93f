"""Payments loaded from files come in through the intake's door, like any other."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

from loancollect.builtin.memory import MemoryStore
from loancollect.domain.events import EventKind
from loancollect.importing import import_files
from loancollect.reporting import build_report, load_report_data

BORROWERS = """\
id,kind,name,jurisdiction,time_zone,locale,phone
B1,individual,Wang Fang,CN,Asia/Shanghai,zh_CN,+86 138 0013 8000
"""
LOANS = """\
id,borrower_id,currency,principal,annual_rate,disbursement_date,term
L1,B1,CNY,12000.00,0.12,2025-01-15,12
"""
PAYMENTS = (
    '{"id": "P1", "loan_id": "L1", "amount": "1066.19", "currency": "CNY", '
    '"value_date": "2025-02-15", "received_at": "2025-02-15T09:30:00+08:00"}\n'
)


def _imported(tmp_path: Path) -> MemoryStore:
    paths = []
    for name, text in (("b.csv", BORROWERS), ("l.csv", LOANS), ("p.jsonl", PAYMENTS)):
        (tmp_path / name).write_text(text, encoding="utf-8")
        paths.append(tmp_path / name)
    store = MemoryStore()
    import_files(store, paths, review_on=dt.date(2025, 2, 1))
    return store


def test_an_imported_payment_is_recorded_as_payment_received(tmp_path: Path) -> None:
    store = _imported(tmp_path)
    with store() as uow:
        events = uow.events.stream("L1")
    received = [e for e in events if e.kind is EventKind.PAYMENT_RECEIVED]
    assert len(received) == 1
    assert received[0].on == dt.date(2025, 2, 15)
    assert received[0].at == dt.datetime.fromisoformat("2025-02-15T09:30:00+08:00")


def test_the_recovery_figures_count_imported_payments(tmp_path: Path) -> None:
    store = _imported(tmp_path)
    data = load_report_data(store, start=dt.date(2025, 1, 31), end=dt.date(2025, 3, 31))
    (totals,) = [t for t in build_report(data) if t.name == "recovery_totals"]
    assert [row[:2] for row in totals.rows] == [("CNY", f"{Decimal('1066.19'):,.2f}")]
