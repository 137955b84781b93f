"""Four worker processes share one day over 20,000 loans: every due case is reviewed
once and every idempotency key is sent once; and the same with a fifth process
recording outcomes and payments on the cases as the workers review them: no update is
lost (each case holds what its events say), and the signed audit trail verifies."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import time
from typing import Any

import pytest
import sqlalchemy as sa
from loancollect_sqlalchemy import SqlStore
from loancollect_sqlalchemy.bulk import import_rows
from loancollect_sqlalchemy.synthetic import Portfolio, portfolio
from loancollect_sqlalchemy.testkit import ingest_process, sends_table

from loancollect.engine.workers import WorkerSpec, run_workers
from loancollect.ports import AuditKey

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


# -- four workers and an ingesting process at once ----------------------------------------

INGEST_KEY = "workers-and-ingest-audit-key-0123"


def _replay(conn: sa.Connection) -> dict[str, dict[str, Any]]:
    """Per loan, what its events say its case must hold: the final stage, the notes of
    its contact outcomes, the number of stage changes and the payments received."""
    found: dict[str, dict[str, Any]] = {}
    rows = conn.execute(
        sa.text(
            "SELECT loan_id, kind, data FROM lc_events WHERE kind IN "
            "('stage_changed', 'contact_outcome', 'payment_received') ORDER BY loan_id, seq"
        )
    )
    for loan_id, kind, data in rows:
        pairs = dict(data)
        entry = found.setdefault(
            loan_id, {"stage": "current", "notes": [], "changes": 0, "payments": []}
        )
        if kind == "stage_changed":
            entry["stage"] = pairs["current"]
            entry["changes"] += 1
        elif kind == "contact_outcome":
            entry["notes"].append(pairs["note"])
        else:
            entry["payments"].append(pairs["payment"])
    return found


def test_four_workers_and_a_concurrent_ingestion_lose_no_update(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = Portfolio(loans=LOANS, as_of=AS_OF, due_share=0.25, seed=11)
    store = SqlStore(pg_url, migrate=False, audit_key=AuditKey(INGEST_KEY))
    assert import_rows(store, portfolio(spec)).ok
    due_ids = [spec.loan_id(k) for k in range(LOANS) if spec.is_due(k)]
    assert len(due_ids) == LOANS // 4
    # in loan-id order, as the workers go: half the due cases, and some not due (an
    # outcome makes those due today)
    targets = sorted(due_ids[: len(due_ids) // 2] + [spec.loan_id(k) for k in range(1, 2000, 4)])
    sends_table.metadata.drop_all(store.engine)  # (not one of the plug-in's tables: not emptied)
    sends_table.metadata.create_all(store.engine)
    monkeypatch.setenv("LOANCOLLECT_SENDS_URL", pg_url)
    monkeypatch.setenv("LOANCOLLECT_NOW", "2025-10-31T10:00:00+08:00")
    monkeypatch.setenv("LOANCOLLECT_AUDIT_KEY", INGEST_KEY)
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    ingesting = ctx.Process(target=ingest_process, args=(pg_url, targets, AS_OF, child))
    started = time.perf_counter()
    ingesting.start()
    child.close()
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
    workers_done = time.perf_counter() - started
    assert parent.poll(300), "the ingesting process did not finish in time"
    ingested = parent.recv()
    ingesting.join(30)
    assert isinstance(ingested, dict), ingested
    print(
        f"\nworkers {workers_done:.1f} s, ingestion {ingested['seconds']:.1f} s "
        f"({ingested['outcomes']} outcomes, {ingested['payments']} payments); "
        f"reviewed {[r.summary.reviewed for r in results]}"
    )
    assert all(r.ok for r in results), [r.error for r in results]
    assert all(r.summary.errors == 0 for r in results), [r.problems for r in results]
    reviewed = sum(r.summary.reviewed for r in results)
    assert reviewed >= len(due_ids)
    with store.engine.connect() as conn:
        replay = _replay(conn)
        cases = {
            loan_id: (stage, [c[3] for c in contacts])
            for loan_id, stage, contacts in conn.execute(
                sa.text("SELECT loan_id, stage, contacts FROM lc_cases")
            )
        }
        payments = conn.execute(
            sa.text("SELECT count(*) FROM lc_payments WHERE reference = 'ingest'")
        ).scalar_one()
        sends = conn.execute(
            sa.text("SELECT count(*), count(DISTINCT key) FROM lc_test_sends")
        ).one()
        left_due = set(
            conn.execute(
                sa.text(
                    "SELECT loan_id FROM lc_cases WHERE closed_on IS NULL "
                    "AND next_review_date <= :d"
                ),
                {"d": AS_OF},
            ).scalars()
        )
    assert len(cases) == LOANS
    # no update lost: every case holds what its events say happened to it
    for loan_id, (stage, notes) in cases.items():
        expected = replay.get(loan_id, {"stage": "current", "notes": [], "changes": 0})
        assert stage == expected["stage"], (loan_id, stage, expected)
        assert sorted(notes) == sorted(expected["notes"]), (loan_id, notes, expected)
    # every recorded outcome and payment is there, once
    all_notes = [n for entry in replay.values() for n in entry["notes"]]
    assert sorted(all_notes) == sorted(f"ingest {n}" for n in range(len(targets)))
    assert payments == ingested["payments"]
    assert sum(len(e["payments"]) for e in replay.values()) == ingested["payments"]
    # every case due at the start was reviewed once: one stage change each, none twice
    assert all(replay[loan_id]["changes"] == 1 for loan_id in due_ids)
    assert all(entry["changes"] <= 1 for entry in replay.values())
    # left due only by an outcome recorded after its review (the next run's work)
    assert left_due <= set(targets)
    assert sends[0] == sends[1], f"{sends[0] - sends[1]} duplicate sends"
    # the audit trail holds, signed, across five writing processes
    assert list(store.verify_all()) == []
    store.dispose()
