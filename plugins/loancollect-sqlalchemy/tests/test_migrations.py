"""Migrations: an empty database upgraded gives exactly the table definitions; downgrade
and upgrade round-trip; a database filled at revision 0001 keeps its records (as the
default tenant) through 0002; one filled at 0003 gets its streams anchored by 0004, and
signed when the key is given (else a note says they are not); the API and the command
line agree."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import attrs
import pendulum
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from loancollect_sqlalchemy import SqlStore, cli, migrate
from loancollect_sqlalchemy import mapping as m
from loancollect_sqlalchemy import tables as t
from loancollect_sqlalchemy.repository import make_engine
from loancollect_sqlalchemy.tables import metadata

from loancollect.domain.events import Event, EventKind, chain
from loancollect.ports import AuditKey, DeliveryResult, OutboxEntry, OutboxStatus
from loancollect.testing import (
    MemoryStore,
    make_action,
    make_event,
    make_loan,
    make_payment,
    make_rich_case,
)


def _diff(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(
                conn, opts={"compare_type": True, "version_table": migrate.VERSION_TABLE}
            )
            return list(compare_metadata(ctx, metadata))
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return {n for n in sa.inspect(engine).get_table_names() if n.startswith("lc_")}
    finally:
        engine.dispose()


def _indexes(url: str) -> dict[str, list[str]]:
    engine = make_engine(url)
    try:
        insp = sa.inspect(engine)
        return {
            t.name: sorted(str(i["name"]) for i in insp.get_indexes(t.name))
            for t in metadata.sorted_tables
        }
    finally:
        engine.dispose()


def _round_trip(url: str) -> None:
    assert migrate.current(url) is None
    migrate.upgrade(url)
    assert migrate.current(url) == migrate.head()
    assert _diff(url) == []
    schema = _indexes(url)
    assert schema["lc_cases"] == ["ix_lc_cases_due"]
    migrate.downgrade(url, "base")
    assert migrate.current(url) is None
    assert _tables(url) == {"lc_alembic_version"}
    migrate.upgrade(url)
    assert _diff(url) == []
    assert _indexes(url) == schema


def test_sqlite_upgrade_matches_the_tables_and_round_trips(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path}/m.db")


def test_postgres_upgrade_matches_the_tables_and_round_trips(pg_empty_database: str) -> None:
    _round_trip(pg_empty_database)


def test_every_table_is_created_by_a_migration(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/m.db"
    migrate.upgrade(url)
    assert _tables(url) == {t.name for t in metadata.sorted_tables} | {"lc_alembic_version"}


def test_command_line_migrates_and_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    assert cli.main(["current", url]) == 0
    assert capsys.readouterr().out.strip() == "base"
    assert cli.main(["migrate", url]) == 0
    assert capsys.readouterr().out.strip() == f"base -> {migrate.head()}"
    assert cli.main(["migrate", url, "--to", "base"]) == 0
    assert capsys.readouterr().out.strip() == f"{migrate.head()} -> base"
    assert cli.main(["heads"]) == 0
    assert capsys.readouterr().out.strip() == migrate.head()


def test_a_bad_url_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["current", "sqlite://"]) == 2
    assert "in-memory SQLite" in capsys.readouterr().err


def test_migration_files_ship_inside_the_package() -> None:
    versions = migrate.MIGRATIONS / "versions"
    assert (migrate.MIGRATIONS / "env.py").is_file()
    assert any(p.name.startswith("0001_") for p in versions.glob("*.py"))
    assert any(p.name.startswith("0002_") for p in versions.glob("*.py"))


# -- 0002: tenants ------------------------------------------------------------------------


def _as_of_0001(table: sa.Table) -> sa.Table:
    """``table`` as revision 0001 had it: the same columns and types, no tenant."""
    return sa.Table(
        table.name,
        sa.MetaData(),
        *(sa.Column(c.name, c.type) for c in table.columns if c.name not in LATER_COLUMNS),
    )


LATER_COLUMNS = frozenset({"tenant_id", "work", "version", "mac"})  # added by 0002, 0003, 0004


def _fill_at_0001(url: str) -> dict[str, Any]:
    """Write a loan, a payment, a case, two outbox entries and two event streams with
    the 0001 schema; return the values they stand for."""
    loan = make_loan()
    payment = make_payment()
    # (revision 0001 has no place for the case's work: assignment, placement …)
    case = make_rich_case(
        assignment=None, placement=None, legal_matter=None, charge_off=None, sale=None
    )
    with MemoryStore()() as scratch:  # chain the events as the repositories do
        events = scratch.events.append(
            [
                make_event(EventKind.CASE_OPENED, "L-1"),
                make_event(EventKind.STAGE_CHANGED, "L-1"),
                make_event(EventKind.CASE_OPENED, "L-2"),
            ]
        )
    sent_at = pendulum.datetime(2025, 3, 1, 9, tz="Asia/Shanghai")
    sent = OutboxEntry(
        key=make_action().idempotency_key,
        action=make_action(),
        status=OutboxStatus.SENT,
        attempts=1,
        created_on=dt.date(2025, 3, 1),
        sent_at=sent_at,
        result=DeliveryResult.sent("m-1"),
    )
    waiting = OutboxEntry(
        key=make_action(rule_id="later").idempotency_key,
        action=make_action(rule_id="later"),
        created_on=dt.date(2025, 3, 1),
        next_attempt_at=sent_at.add(hours=2),
    )
    outbox_rows = [
        {
            "key": e.key,
            "loan_id": e.action.loan_id,
            "action": m.action_to_json(e.action),
            "status": e.status.value,
            "attempts": e.attempts,
            "last_error": e.last_error,
            "next_attempt_at": e.next_attempt_at,
            "created_on": e.created_on,
            "sent_at": e.sent_at,
            "result": m.result_to_json(e.result),
            "lease_until": None,
        }
        for e in (sent, waiting)
    ]
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.insert(_as_of_0001(t.borrowers)), m.borrower_to_row(loan.borrower))
        conn.execute(sa.insert(_as_of_0001(t.loans)), m.loan_to_row(loan))
        conn.execute(sa.insert(_as_of_0001(t.payments)), m.payment_to_row(payment))
        row = {k: v for k, v in m.case_to_row(case).items() if k != "work"}
        conn.execute(sa.insert(_as_of_0001(t.cases)), row)
        conn.execute(sa.insert(_as_of_0001(t.outbox)), outbox_rows)
        conn.execute(sa.insert(_as_of_0001(t.events)), [m.event_to_row(e) for e in events])
    engine.dispose()
    return {
        "loan": loan,
        "payment": payment,
        "case": case,
        "sent": sent,
        "waiting": waiting,
        "events": events,
    }


def _upgrade_a_filled_0001_database(url: str) -> None:
    migrate.upgrade(url, "0001")
    assert migrate.current(url) == "0001"
    kept = _fill_at_0001(url)
    migrate.upgrade(url)
    assert migrate.current(url) == migrate.head() == "0004"
    assert _diff(url) == []
    engine = make_engine(url)
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            tenants = conn.execute(sa.select(table.c.tenant_id).distinct()).scalars().all()
            assert tenants == ["default"], table.name
    columns = {c["name"]: c for c in sa.inspect(engine).get_columns("lc_cases")}
    assert columns["tenant_id"]["default"] is None  # writers must name their tenant
    store = SqlStore(url, migrate=False, engine=engine)
    with store() as uow:
        assert uow.loans.get("L-1") == kept["loan"]
        assert uow.loans.payments_for("L-1") == (kept["payment"],)
        assert uow.cases.get("L-1") == kept["case"]
        assert [c.loan_id for c in uow.cases.due_for_review(dt.date(2025, 3, 25), limit=5)] == [
            "L-1"
        ]
        assert uow.outbox.get(kept["sent"].key) == kept["sent"]
        assert uow.outbox.get(kept["waiting"].key) == kept["waiting"]
        assert uow.outbox.pending(limit=5) == [kept["waiting"]]
        events = kept["events"]
        assert uow.events.stream("L-1") == events[:2]
        assert uow.events.stream("L-2") == events[2:]
        assert uow.events.verify("L-1") is None
        # the streams go on where they stopped
        (more,) = uow.events.append([make_event(EventKind.ACTION_SENT, "L-1")])
        assert (more.seq, more.prev_hash) == (2, events[1].hash)
        uow.commit()
    with store.for_tenant("brand-b")() as uow:
        assert uow.loans.list_ids() == []
        assert uow.cases.get("L-1") is None
        assert uow.outbox.pending(limit=5) == []
        assert uow.events.stream("L-1") == ()
        uow.loans.add(kept["loan"])
        uow.commit()
    engine.dispose()
    # revision 0001 cannot hold two tenants: the downgrade refuses and changes nothing
    with pytest.raises(RuntimeError, match=r"holds records of tenants \['brand-b'\]"):
        migrate.downgrade(url, "0001")
    assert migrate.current(url) == "0004"  # the whole downgrade was rolled back
    with SqlStore(url, tenant="brand-b", migrate=False)() as uow:
        assert uow.loans.list_ids() == ["L-1"]
        uow.execute(sa.delete(t.loans).where(t.loans.c.tenant_id == "brand-b"))
        uow.execute(sa.delete(t.borrowers).where(t.borrowers.c.tenant_id == "brand-b"))
        uow.commit()
    migrate.downgrade(url, "0001")
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM lc_events")).scalar_one() == 4
        assert "tenant_id" not in {c["name"] for c in sa.inspect(conn).get_columns("lc_loans")}
    engine.dispose()


def test_sqlite_upgrade_of_a_0001_database_keeps_its_records_as_the_default_tenant(
    tmp_path: Path,
) -> None:
    _upgrade_a_filled_0001_database(f"sqlite:///{tmp_path}/old.db")


def test_postgres_upgrade_of_a_0001_database_keeps_its_records_as_the_default_tenant(
    pg_empty_database: str,
) -> None:
    _upgrade_a_filled_0001_database(pg_empty_database)


def test_case_work_survives_the_store_and_blocks_a_downgrade_that_would_lose_it(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'work.db'}"
    store = SqlStore(url)
    case = make_rich_case()
    with store() as uow:
        uow.loans.add(make_loan())
        uow.cases.save(case)
        uow.commit()
    with store() as uow:
        assert uow.cases.get("L-1") == case
    store.dispose()
    with pytest.raises(RuntimeError, match=r"1 case\(s\) have an assignment"):
        migrate.downgrade(url, "0002")
    assert migrate.current(url) == "0004"
    with SqlStore(url, migrate=False)() as uow:
        uow.cases.save(
            make_rich_case(
                placement=None, assignment=None, legal_matter=None, charge_off=None, sale=None
            )
        )
        uow.commit()
    migrate.downgrade(url, "0002")
    assert migrate.current(url) == "0002"


# -- 0004: stream heads, signatures, case versions ----------------------------------------

AUDIT_KEY = AuditKey(b"migration-test-audit-key-0123456789")


def _as_of_0003(table: sa.Table) -> sa.Table:
    """``table`` as revision 0003 had it (no signatures, no case versions)."""
    return sa.Table(
        table.name,
        sa.MetaData(),
        *(sa.Column(c.name, c.type) for c in table.columns if c.name not in {"version", "mac"}),
    )


def _fill_at_0003(url: str) -> dict[tuple[str, str], tuple[Event, ...]]:
    """A loan with its case, and event streams of two tenants written at revision 0003,
    one of them (L-4) already broken; return the streams by (tenant, loan id)."""
    migrate.upgrade(url, "0003")
    at = pendulum.datetime(2025, 3, 1, 9, tz="Asia/Shanghai")
    streams: dict[tuple[str, str], tuple[Event, ...]] = {}
    for tenant, loan_id, n in [
        ("default", "L-1", 3),
        ("default", "L-2", 1),
        ("default", "L-4", 2),
        ("brand-b", "L-1", 2),
    ]:
        events = [make_event(EventKind.ACTION_SENT, loan_id, at=at.add(hours=i)) for i in range(n)]
        streams[(tenant, loan_id)] = chain(events)
    rows = []
    for (tenant, loan_id), stream in streams.items():
        for ev in stream:
            row = m.event_to_row(ev)
            row["tenant_id"] = tenant
            if loan_id == "L-4" and ev.seq == 1:
                row["data"] = [["forged", "yes"]]  # broken before the migration
            rows.append(row)
    loan = make_loan()
    engine = make_engine(url)
    with engine.begin() as conn:
        borrower = m.borrower_to_row(loan.borrower) | {"tenant_id": "default"}
        conn.execute(sa.insert(_as_of_0003(t.borrowers)), borrower)
        conn.execute(
            sa.insert(_as_of_0003(t.loans)), m.loan_to_row(loan) | {"tenant_id": "default"}
        )
        case = m.case_to_row(make_rich_case()) | {"tenant_id": "default"}
        conn.execute(sa.insert(_as_of_0003(t.cases)), case)
        conn.execute(sa.insert(_as_of_0003(t.events)), rows)
    engine.dispose()
    return streams


def _faults(store: SqlStore, key: AuditKey | None) -> list[tuple[str, str, int, str]]:
    """The bad streams of every tenant, checked with ``key`` (``None``: without a key)."""
    plain = SqlStore(store.url, migrate=False, engine=store.engine)
    return [
        (p.tenant, p.loan_id, p.seq, p.fault.value)
        for p in plain.verify_all(key=key, every_tenant=True)
    ]


def _upgrade_a_filled_0003_database(url: str, key: AuditKey | None) -> None:
    streams = _fill_at_0003(url)
    notes = migrate.upgrade(url, audit_key=key)
    assert migrate.current(url) == "0004"
    assert _diff(url) == []
    store = SqlStore(url, migrate=False, audit_key=key)
    engine = store.engine
    with engine.connect() as conn:
        heads = conn.execute(
            sa.text("SELECT tenant_id, loan_id, seq, hash, mac FROM lc_stream_heads")
        ).all()
        versions = conn.execute(sa.text("SELECT version FROM lc_cases")).scalars().all()
    assert versions == [1]
    assert {(h[0], h[1]): (h[2], h[3]) for h in heads} == {
        k: (s[-1].seq, s[-1].hash) for k, s in streams.items()
    }
    broken = ("default", "L-4", 1, "edited")
    if key is None:
        assert len(notes) == 1
        assert "4 event stream head(s) created unsigned" in notes[0]
        assert all(h[4] is None for h in heads)
        assert _faults(store, None) == [broken]
        with_key = SqlStore(url, migrate=False, audit_key=AUDIT_KEY)
        unsigned = [(p[0], p[1], p[3]) for p in _faults(with_key, AUDIT_KEY)]
        assert unsigned == [
            ("brand-b", "L-1", "unsigned"),
            ("default", "L-1", "unsigned"),
            ("default", "L-2", "unsigned"),
            ("default", "L-4", "unsigned"),
        ]
        assert with_key.sign_unsigned(every_tenant=True) == 3
        store.dispose()
        store = with_key
    else:
        assert notes == [
            "0004: 3 event stream(s) anchored and signed; 1 do not verify and were left "
            "unsigned (default/L-4): see loancollect verify"
        ]
        assert {(h[0], h[1]) for h in heads if h[4] is not None} == {
            ("default", "L-1"),
            ("default", "L-2"),
            ("brand-b", "L-1"),
        }
    assert _faults(store, AUDIT_KEY) == [("default", "L-4", 0, "unsigned")]
    assert _faults(store, None) == [broken]
    # the streams go on where they stopped, signed, and the case saves with its version
    with store() as uow:
        (more,) = uow.events.append([make_event(EventKind.STAGE_CHANGED, "L-1")])
        assert (more.seq, more.prev_hash) == (3, streams[("default", "L-1")][-1].hash)
        case = uow.cases.get("L-1")
        assert case == make_rich_case()
        uow.cases.save(attrs.evolve(case, stage="late"))
        uow.commit()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version FROM lc_cases")).scalar_one() == 2
    assert _faults(store, AUDIT_KEY) == [("default", "L-4", 0, "unsigned")]
    store.dispose()
    # downgrading would drop the signatures: refused, and nothing changes
    with pytest.raises(RuntimeError, match="are signed; revision 0003 has no place"):
        migrate.downgrade(url, "0003")
    assert migrate.current(url) == "0004"


@pytest.mark.parametrize("key", [None, AUDIT_KEY], ids=["without-key", "with-key"])
def test_sqlite_0004_anchors_and_signs_the_streams_of_a_filled_database(
    tmp_path: Path, key: AuditKey | None
) -> None:
    _upgrade_a_filled_0003_database(f"sqlite:///{tmp_path}/old.db", key)


@pytest.mark.parametrize("key", [None, AUDIT_KEY], ids=["without-key", "with-key"])
def test_postgres_0004_anchors_and_signs_the_streams_of_a_filled_database(
    pg_empty_database: str, key: AuditKey | None
) -> None:
    _upgrade_a_filled_0003_database(pg_empty_database, key)


def test_a_store_opened_with_a_key_migrates_with_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/keyed.db"
    _fill_at_0003(url)
    store = SqlStore(url, audit_key=AUDIT_KEY)
    assert store.notes == [
        "0004: 3 event stream(s) anchored and signed; 1 do not verify and were left "
        "unsigned (default/L-4): see loancollect verify"
    ]
    assert _faults(store, None) == [("default", "L-4", 1, "edited")]
    store.dispose()


def test_the_plugin_command_line_migrates_with_the_key_from_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/cli-key.db"
    _fill_at_0003(url)
    monkeypatch.setenv("LOANCOLLECT_AUDIT_KEY", AUDIT_KEY.secret.decode())
    assert cli.main(["migrate", url]) == 0
    out = capsys.readouterr().out
    assert "0003 -> 0004" in out
    assert "1 do not verify" in out
    assert AUDIT_KEY.secret.decode() not in out
    store = SqlStore(url, migrate=False)
    assert _faults(store, AUDIT_KEY) == [("default", "L-4", 0, "unsigned")]
    store.dispose()
