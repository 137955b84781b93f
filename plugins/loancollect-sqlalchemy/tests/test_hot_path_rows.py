"""The cycle's hot path writes and reads rows through the driver, byte for byte as the
tables' SQLAlchemy types would:

- a batch's case saves go through one ``executemany`` (``RowWriter.save_cases_checked``)
  and store the very bytes the SQLAlchemy statement stores; a case saved meanwhile by
  another unit of work is still named, and nothing of the batch is written;
- the due cases and the batch's loans decode their JSON documents as SQLAlchemy's JSON
  type does (``json.loads``);
- a loan read again with the very row it was built from is the loan built then (the
  pipelined review reads each batch twice); a changed row builds a new loan;
- the court calendars the packs need are built at start-up.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from loancollect_sqlalchemy import SqlStore
from loancollect_sqlalchemy import mapping as m
from loancollect_sqlalchemy import tables as t
from loancollect_sqlalchemy.repository import _sqlite_document

from loancollect.builtin.compliance import warm_calendars
from loancollect.domain.case import Case
from loancollect.domain.compliance import RulePack
from loancollect.domain.legal import court_calendar
from loancollect.ports import ConcurrentUpdateError
from loancollect.testing import make_case, make_loan, make_rich_case

_CASES: list[Case] = [
    make_case(loan_id="L-1"),
    make_rich_case(loan_id="L-2"),
    attrs.evolve(make_rich_case(loan_id="L-3"), closed_on=dt.date(2025, 4, 1), segment=None),
    attrs.evolve(make_case(loan_id="L-4"), flags=frozenset({"b", "a", "中文"}), variant=None),
]


def _rows(path: Path) -> list[tuple[Any, ...]]:
    """Every stored case value with its SQLite type and bytes."""
    conn = sqlite3.connect(path)
    cols = [r[1] for r in conn.execute("PRAGMA table_info(lc_cases)")]
    expr = ", ".join(f'typeof("{c}"), hex("{c}")' for c in cols)
    found = conn.execute(f"SELECT {expr} FROM lc_cases ORDER BY loan_id").fetchall()
    conn.close()
    return found


def _store_loans(store: SqlStore) -> None:
    with store() as uow:
        for case in _CASES:
            uow.loans.add(make_loan(id=case.loan_id))
        uow.commit()


def _through_sqlalchemy(store: SqlStore, cases: list[Case], version: int) -> None:
    """The statement the case saves went through before: one row dictionary per case."""
    with store() as uow:
        rows = []
        for case in cases:
            row = m.case_to_row(case)
            row["tenant_id"] = store.tenant
            row["version"] = version
            rows.append(row)
        written = {r[0] for r in uow.conn.execute(uow._save_checked(), rows)}
        assert written == {c.loan_id for c in cases}
        uow.commit()


def _through_the_batch(store: SqlStore, cases: list[Case]) -> None:
    with store() as uow:
        for case in cases:
            uow.cases.get(case.loan_id)  # read first: the save is checked
            uow.cases.save(case)
        uow.commit()


def test_batched_case_saves_store_the_bytes_the_sqlalchemy_statement_stores(
    tmp_path: Path,
) -> None:
    old, new = tmp_path / "old.db", tmp_path / "new.db"
    stores = SqlStore(f"sqlite:///{old}"), SqlStore(f"sqlite:///{new}")
    for store in stores:
        _store_loans(store)
    # inserted (no case row yet), then updated (the version read is 1)
    _through_sqlalchemy(stores[0], _CASES, version=1)
    _through_the_batch(stores[1], _CASES)
    assert _rows(old) == _rows(new)
    changed = [attrs.evolve(c, stage="legal", next_review_date=dt.date(2026, 1, 2)) for c in _CASES]
    _through_sqlalchemy(stores[0], changed, version=2)
    _through_the_batch(stores[1], changed)
    assert _rows(old) == _rows(new)
    for store in stores:
        store.dispose()


def test_a_case_saved_meanwhile_is_named_and_nothing_of_the_batch_is_written(
    tmp_path: Path,
) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'c.db'}")
    _store_loans(store)
    _through_the_batch(store, _CASES)
    before = _rows(tmp_path / "c.db")
    with store() as uow:
        for case in _CASES:
            uow.cases.get(case.loan_id)
        # another writer's save of L-3 since it was read (its version moved)
        uow.conn.execute(
            sa.update(t.cases)
            .where(t.cases.c.loan_id == "L-3")
            .values(version=t.cases.c.version + 1)
        )
        for case in _CASES:
            uow.cases.save(attrs.evolve(case, stage="legal"))
        with pytest.raises(ConcurrentUpdateError) as raised:
            uow.commit()
        assert raised.value.loan_id == "L-3"
    assert _rows(tmp_path / "c.db") == before
    store.dispose()


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=12,
)


@given(_JSON, st.sampled_from(["", " ", "\n "]))
def test_hot_reads_decode_a_document_as_json_loads_does(value: Any, pad: str) -> None:
    text = pad + json.dumps(value) + pad
    assert _sqlite_document(text) == json.loads(text)
    assert _sqlite_document(None) is None


def test_a_malformed_document_fails_as_json_loads_fails() -> None:
    for text in ("[1,", "[] x", "{"):
        with pytest.raises(json.JSONDecodeError):
            _sqlite_document(text)


def test_the_packs_court_calendars_are_built_at_start_up() -> None:
    pack = RulePack(name="cn-and-fr", jurisdictions=("CN", "FR"), rules=())
    assert warm_calendars([pack]) == ("CN",)  # FR: no court calendar here
    assert court_calendar("CN") is court_calendar("CN")  # kept: the first check reuses it


def _read_loan(store: SqlStore, loan_id: str) -> Any:
    with store() as uow:
        uow.prefetch([loan_id])
        return uow.loans.get(loan_id)


def test_a_loan_read_again_from_an_unchanged_row_is_the_loan_built_before(
    tmp_path: Path,
) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'lc.db'}")
    _store_loans(store)
    first = _read_loan(store, "L-1")
    assert first == make_loan(id="L-1")
    assert _read_loan(store, "L-1") is first
    with store.engine.begin() as conn:
        conn.execute(
            sa.update(t.loans).where(t.loans.c.id == "L-1").values(product="card", grace_days=3)
        )
    changed = _read_loan(store, "L-1")
    assert changed is not first
    assert (changed.product, changed.grace_days) == ("card", 3)
    assert _read_loan(store, "L-1") is changed
