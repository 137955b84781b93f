"""Four worker processes share one day over 20,000 loans: every due case is reviewed
once and every idempotency key is sent once."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from loancollect_sqlalchemy import SqlStore
from loancollect_sqlalchemy.bulk import import_rows
from loancollect_sqlalchemy.synthetic import Portfolio, portfolio
from loancollect_sqlalchemy.testkit import sends_table

from loancollect.engine.workers import WorkerSpec, run_workers

LOANS = 20_000
AS_OF = dt.date(2025, 10, 31)


def test_four_workers_process_each_due_case_and_key_exactly_once(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = Portfolio(loans=LOANS, as_of=AS_OF, due_share=0.25, seed=11)
    store = SqlStore(pg_url, migrate=False)
    report = import_rows(store, portfolio(spec))
    assert report.ok
    assert report.loans == LOANS
    with store() as uow:
        due = uow.cases.count_due(AS_OF)
    assert due == LOANS // 4
    # The send log's table exists before the workers start (four processes creating it
    # at once would race in the catalogue).
    sends_table.metadata.create_all(store.engine)
    monkeypatch.setenv("LOANCOLLECT_SENDS_URL", pg_url)
    monkeypatch.setenv("LOANCOLLECT_NOW", "2025-10-31T10:00:00+08:00")
    results = run_workers(
        WorkerSpec(
            url=pg_url,
            as_of=AS_OF,
            channels="loancollect_sqlalchemy.testkit:channels_from_env",
            clock="loancollect_sqlalchemy.testkit:clock_from_env",
            batch_size=100,
        ),
        4,
    )
    assert all(r.ok for r in results), [r.error for r in results]
    assert len({r.pid for r in results}) == 4
    reviewed = [r.summary.reviewed for r in results]
    assert sum(reviewed) == due, reviewed
    assert sum(1 for n in reviewed if n > 0) >= 2, f"work was not shared: {reviewed}"
    assert all(r.summary.errors == 0 for r in results)
    with store.engine.connect() as conn:
        # every due case reviewed exactly once: one stage change each, none left due
        per_loan = conn.execute(
            sa.text(
                "SELECT loan_id, count(*) FROM lc_events WHERE kind = 'stage_changed' "
                "GROUP BY loan_id"
            )
        ).all()
        assert len(per_loan) == due
        assert {n for _, n in per_loan} == {1}
        # every idempotency key dispatched exactly once
        sends = conn.execute(
            sa.text("SELECT count(*), count(DISTINCT key) FROM lc_test_sends")
        ).one()
        sent_keys = set(
            conn.execute(sa.text("SELECT key FROM lc_outbox WHERE status = 'sent'")).scalars()
        )
        logged = set(conn.execute(sa.text("SELECT key FROM lc_test_sends")).scalars())
        open_left = conn.execute(
            sa.text("SELECT count(*) FROM lc_outbox WHERE status IN ('pending', 'retry')")
        ).scalar_one()
    assert sends[0] == sends[1], f"{sends[0] - sends[1]} duplicate sends"
    assert logged == sent_keys
    assert len(sent_keys) == sum(r.summary.sent for r in results) > 0
    assert open_left == 0
    with store() as uow:
        assert uow.cases.count_due(AS_OF) == 0
    store.dispose()
