"""Concurrent writers on SQL storage.

- PostgreSQL: an outcome recorded while the cycle holds the case (a claimed batch)
  waits for the batch and is applied to its result (no lost update); the wait is
  bounded and then a ConcurrentUpdateError names the case.
- SQLite: a writer waits for another process's write lock (busy timeout) and, past it,
  gets a StorageBusyError, never the driver's OperationalError; two processes recording
  outcomes on the same cases at once lose none; a read made stale by another process
  fails the unit of work with a StorageBusyError.
- A storage error in a review batch fails that batch only, reported as a problem.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import attrs
import pendulum
import pytest
import sqlalchemy as sa
from loancollect_sqlalchemy import SqlStore
from loancollect_sqlalchemy.bulk import import_rows
from loancollect_sqlalchemy.synthetic import Portfolio, portfolio
from loancollect_sqlalchemy.testkit import CHANNELS

from loancollect.builtin.recording import RecordingChannel
from loancollect.domain.case import ContactOutcome, OutcomeKind
from loancollect.domain.events import (
    ContactOutcomeRecorded,
    Event,
    EventKind,
    StageChanged,
    new_event,
)
from loancollect.engine import CollectionEngine, CycleConfig
from loancollect.engine.intake import Intake
from loancollect.plugins import make_plugin_manager
from loancollect.ports import ConcurrentUpdateError, LockingCases, StorageBusyError
from loancollect.testing import UNCHECKED_CONTACT, make_case, make_loan
from loancollect.testing.clock import FixedClock

AS_OF = dt.date(2025, 10, 31)
NOW = pendulum.datetime(2025, 10, 31, 10, tz="Asia/Shanghai")


def _outcome(note: str) -> ContactOutcome:
    return ContactOutcome(AS_OF, "phone", OutcomeKind.NO_ANSWER, note)


def _intake(store: SqlStore) -> Intake:
    return Intake(storage=store, notify=lambda events: None)


def _engine(
    store: SqlStore, batch_size: int = 10, processes: int | None = None
) -> CollectionEngine:
    return CollectionEngine(
        pm=make_plugin_manager(load_entrypoints=False, config=UNCHECKED_CONTACT),
        storage=store,
        clock=FixedClock(NOW),
        channels={c: RecordingChannel(name=c) for c in CHANNELS},
        config=CycleConfig(batch_size=batch_size, review_processes=processes),
    )


def _seed(store: SqlStore, loans: int = 1) -> None:
    with store() as uow:
        for n in range(1, loans + 1):
            uow.loans.add(make_loan(id=f"L-{n}"))
            uow.cases.save(make_case(loan_id=f"L-{n}", next_review_date=AS_OF))
        uow.commit()


# -- PostgreSQL: the intake waits for the cycle's batch ----------------------------------


def test_an_outcome_recorded_during_a_review_waits_and_keeps_both_changes(
    pg_store: SqlStore,
) -> None:
    _seed(pg_store)
    done = threading.Event()
    errors: list[BaseException] = []

    def record() -> None:
        try:
            _intake(pg_store).record_outcome("L-1", _outcome("called during the review"))
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)
        finally:
            done.set()

    with pg_store() as review:
        (case,) = review.cases.claim_due(AS_OF, limit=10)  # type: ignore[attr-defined]
        thread = threading.Thread(target=record)
        thread.start()
        time.sleep(0.5)
        assert not done.is_set(), "the intake did not wait for the claimed case"
        review.cases.save(attrs.evolve(case, stage="late", next_review_date=AS_OF.replace(day=30)))
        review.events.append([_stage_changed("early", "late")])
        review.commit()
    thread.join(30)
    assert errors == []
    with pg_store() as uow:
        stored = uow.cases.get("L-1")
        stream = uow.events.stream("L-1")
    assert stored is not None
    assert stored.stage == "late"  # the review's change survived the intake
    assert [c.note for c in stored.contacts] == ["called during the review"]
    assert [e.kind for e in stream] == [EventKind.STAGE_CHANGED, EventKind.CONTACT_OUTCOME]
    assert list(pg_store.verify_all()) == []


def _stage_changed(previous: str, current: str) -> Event:
    payload = StageChanged(previous=previous, current=current, reason="test", dpd=31)
    return new_event(payload, loan_id="L-1", on=AS_OF, at=NOW)


def test_waiting_for_a_held_case_is_bounded_on_postgres(pg_url: str) -> None:
    store = SqlStore(pg_url, migrate=False, lock_timeout=dt.timedelta(milliseconds=300))
    _seed(store)
    with store() as holder:
        assert isinstance(holder.cases, LockingCases)
        holder.cases.get_for_update("L-1")
        started = time.monotonic()
        with pytest.raises(ConcurrentUpdateError, match=r"'L-1'.*more than 0\.3 s"):
            _intake(store).record_outcome("L-1", _outcome("too late"))
        assert time.monotonic() - started < 5
    with store() as uow:
        stored = uow.cases.get("L-1")
    assert stored is not None
    assert stored.contacts == ()
    store.dispose()


# -- SQLite: another process holds the write lock ----------------------------------------

HOLD = textwrap.dedent(
    """
    import sqlite3, sys, time
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    conn.execute("COMMIT")
    """
)


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    return tmp_path / "busy.db"


def _hold(path: Path, seconds: float) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_a_sqlite_writer_waits_for_another_process(sqlite_path: Path) -> None:
    store = SqlStore(f"sqlite:///{sqlite_path}")
    _seed(store)
    holder = _hold(sqlite_path, 1.0)
    started = time.monotonic()
    _intake(store).record_outcome("L-1", _outcome("after the other process"))
    assert time.monotonic() - started > 0.5  # it waited, then wrote
    holder.wait(10)
    with store() as uow:
        stored = uow.cases.get("L-1")
    assert stored is not None
    assert [c.note for c in stored.contacts] == ["after the other process"]
    store.dispose()


def test_a_sqlite_writer_gets_a_typed_error_past_the_busy_timeout(sqlite_path: Path) -> None:
    store = SqlStore(f"sqlite:///{sqlite_path}", busy_timeout=dt.timedelta(milliseconds=200))
    _seed(store)
    holder = _hold(sqlite_path, 2.0)
    try:
        with pytest.raises(
            StorageBusyError, match=r"locked by another writer for more than 0\.2 s"
        ):
            _intake(store).record_outcome("L-1", _outcome("refused"))
        with pytest.raises(StorageBusyError), store() as uow:
            uow.loans.add(make_loan(id="L-2"))
    finally:
        holder.wait(10)
    with store() as uow:
        stored = uow.cases.get("L-1")
        assert uow.loans.get("L-2") is None
    assert stored is not None
    assert stored.contacts == ()
    store.dispose()


def test_a_read_made_stale_by_another_writer_fails_with_a_typed_error(sqlite_path: Path) -> None:
    store = SqlStore(f"sqlite:///{sqlite_path}")
    _seed(store)
    with store() as slow:
        case = slow.cases.get("L-1")
        assert case is not None
        _intake(store).record_outcome("L-1", _outcome("meanwhile"))
        with pytest.raises(StorageBusyError, match="after this unit of work first read it"):
            slow.cases.save(attrs.evolve(case, stage="stale"))  # refused at the first write
    with store() as uow:
        stored = uow.cases.get("L-1")
    assert stored is not None
    assert (stored.stage, len(stored.contacts)) == ("early", 1)
    store.dispose()


WRITER = textwrap.dedent(
    """
    import datetime as dt, sys
    from loancollect_sqlalchemy import SqlStore
    from loancollect.domain.case import ContactOutcome, OutcomeKind
    from loancollect.engine.intake import Intake

    store = SqlStore(sys.argv[1], migrate=False)
    intake = Intake(storage=store, notify=lambda events: None)
    for round in range(int(sys.argv[3])):
        for n in range(1, int(sys.argv[4]) + 1):
            note = f"{sys.argv[2]}-{round}"
            outcome = ContactOutcome(dt.date(2025, 10, 31), "phone", OutcomeKind.BUSY, note)
            intake.record_outcome(f"L-{n}", outcome)
    store.dispose()
    """
)


def test_two_processes_recording_on_the_same_cases_lose_nothing(sqlite_path: Path) -> None:
    url = f"sqlite:///{sqlite_path}"
    store = SqlStore(url)
    _seed(store, loans=5)
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, url, name, "6", "5"],
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    for writer in writers:
        _, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
        assert "OperationalError" not in err
    with store() as uow:
        for n in range(1, 6):
            case = uow.cases.get(f"L-{n}")
            assert case is not None
            assert sorted(c.note for c in case.contacts) == sorted(
                f"{w}-{r}" for w in "ab" for r in range(6)
            )
            stream = uow.events.stream(f"L-{n}")
            assert len(stream) == 12
            assert {ContactOutcomeRecorded.parse(e).note for e in stream} == {
                f"{w}-{r}" for w in "ab" for r in range(6)
            }
    assert list(store.verify_all()) == []
    store.dispose()


# -- a storage error fails its batch only ---------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def loaded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/failing.db"
    else:
        url = str(request.getfixturevalue("pg_url"))
    store = SqlStore(url)
    assert import_rows(store, portfolio(Portfolio(loans=60, as_of=AS_OF, due_share=0.5))).ok
    yield store
    store.dispose()


def _refuse_writes_of(store: SqlStore, loan_id: str) -> None:
    """A trigger that makes the database refuse any write of the case ``loan_id``."""
    with store.engine.begin() as conn:
        if store.dialect == "sqlite":
            for op in ("INSERT", "UPDATE"):
                conn.exec_driver_sql(
                    f"CREATE TRIGGER refuse_{op.lower()} BEFORE {op} ON lc_cases "
                    f"WHEN NEW.loan_id = '{loan_id}' BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
        else:
            conn.exec_driver_sql(
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF NEW.loan_id = '{loan_id}' THEN RAISE EXCEPTION 'refused'; END IF; "
                "RETURN NEW; END $$"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON lc_cases "
                "FOR EACH ROW EXECUTE FUNCTION refuse()"
            )


def _drop_refusal(store: SqlStore) -> None:
    with store.engine.begin() as conn:
        if store.dialect == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER refuse_insert")
            conn.exec_driver_sql("DROP TRIGGER refuse_update")
        else:
            conn.exec_driver_sql("DROP TRIGGER refuse ON lc_cases")
            conn.exec_driver_sql("DROP FUNCTION refuse()")


# pipelined: on SQLite two decide processes; PostgreSQL claims, so it stays in one process
@pytest.mark.parametrize("processes", [1, 2], ids=["one-process", "pipelined"])
def test_a_storage_error_fails_its_batch_only_and_is_reported(
    loaded: SqlStore, processes: int
) -> None:
    with loaded() as uow:
        due = [c.loan_id for c in uow.cases.due_for_review(AS_OF, limit=100)]
    assert len(due) == 30
    victim = due[12]  # in the second batch of ten
    _refuse_writes_of(loaded, victim)
    report = _engine(loaded, processes=processes).review(AS_OF)
    (problem,) = [p for p in report.problems if "batch rolled back" in p.message]
    assert "refused" in problem.message
    with loaded() as uow:
        left = {c.loan_id for c in uow.cases.due_for_review(AS_OF, limit=100)}
    assert victim in left
    if loaded.claims:  # claiming stops at a failed batch; the rest waits for the next run
        assert set(due[:10]).isdisjoint(left)
    else:  # paging goes on after it: exactly the failed batch is left
        assert left == set(due[10:20])
        assert report.summary.reviewed == 20
    with loaded.engine.connect() as conn:
        written = conn.execute(
            sa.text("SELECT count(*) FROM lc_events WHERE loan_id = :l"), {"l": victim}
        ).scalar_one()
    assert written == 0  # nothing of the failed batch was written
    _drop_refusal(loaded)
    rerun = _engine(loaded, processes=processes).review(AS_OF)
    assert rerun.summary.errors == 0
    assert rerun.summary.reviewed == len(left)
    assert list(loaded.verify_all()) == []
