"""Two tenants in one SQL database, each with its own engine: a cycle run for one leaves
every row of the other (loans, cases, events, outbox, ...) byte for byte as it was. On
PostgreSQL the engines claim cases and outbox entries, so the claims are checked too."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pendulum
import pytest
import sqlalchemy as sa
from loancollect_sqlalchemy import SqlStore
from loancollect_sqlalchemy.bulk import import_rows
from loancollect_sqlalchemy.synthetic import Portfolio, portfolio
from loancollect_sqlalchemy.tables import metadata
from loancollect_sqlalchemy.testkit import CHANNELS

from loancollect import CollectionEngine, CycleConfig
from loancollect.builtin.recording import RecordingChannel
from loancollect.plugins import make_plugin_manager
from loancollect.ports import OutboxStatus
from loancollect.testing import UNCHECKED_CONTACT
from loancollect.testing.clock import FixedClock

AS_OF = dt.date(2025, 10, 31)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    if request.param == "sqlite":
        s = SqlStore(f"sqlite:///{tmp_path}/tenants.db", tenant="alpha")
    else:
        s = SqlStore(request.getfixturevalue("pg_url"), tenant="alpha", migrate=False)
    yield s
    s.dispose()


def _snapshot(store: SqlStore, tenant: str) -> list[list[str]]:
    """Every row of ``tenant`` in every table, as the database's own text, in key order."""
    out = []
    with store.engine.connect() as conn:
        for table in metadata.sorted_tables:
            keys = ", ".join(f'"{c.name}"' for c in table.primary_key.columns)
            if store.dialect == "postgresql":
                q = f"SELECT CAST(r AS text) FROM {table.name} AS r WHERE tenant_id = :t"
            else:
                cols = " || '|' || ".join(f'quote("{c.name}")' for c in table.columns)
                q = f"SELECT {cols} FROM {table.name} WHERE tenant_id = :t"
            rows = conn.execute(sa.text(f"{q} ORDER BY {keys}"), {"t": tenant}).scalars()
            out.append(list(rows))
    return out


def _engine(store: SqlStore) -> tuple[CollectionEngine, dict[str, RecordingChannel]]:
    channels = {c: RecordingChannel(name=c) for c in CHANNELS}
    engine = CollectionEngine(
        pm=make_plugin_manager(load_entrypoints=False, config=UNCHECKED_CONTACT),
        storage=store,
        clock=FixedClock(pendulum.datetime(2025, 10, 31, 10, tz="Asia/Shanghai")),
        channels=channels,
        config=CycleConfig(batch_size=7),
    )
    return engine, channels


def test_a_cycle_for_one_tenant_leaves_the_other_byte_for_byte_unchanged(
    store: SqlStore,
) -> None:
    alpha, beta = store, store.for_tenant("beta")
    rows = list(portfolio(Portfolio(loans=40, as_of=AS_OF, due_share=0.5)))
    assert import_rows(alpha, rows).ok
    assert import_rows(beta, rows).ok  # the same loan ids, borrowers and payments
    before_alpha, before_beta = _snapshot(store, "alpha"), _snapshot(store, "beta")
    # the same records in both tenants, only their tenant differs
    assert [[r.replace("alpha", "beta") for r in table] for table in before_alpha] == before_beta
    names = [t.name for t in metadata.sorted_tables]
    counts = {name: len(rows) for name, rows in zip(names, before_beta, strict=True)}
    assert counts["lc_loans"] == counts["lc_cases"] == 40
    assert counts["lc_events"] == counts["lc_outbox"] == 0

    engine_a, sent_a = _engine(alpha)
    report_a = engine_a.run_cycle(AS_OF)
    assert report_a.summary.reviewed == 20
    assert report_a.summary.errors == 0
    assert report_a.summary.sent == report_a.summary.actions_planned > 0
    assert _snapshot(store, "alpha") != before_alpha
    assert _snapshot(store, "beta") == before_beta

    # beta's day is as alpha's was: nothing of it was reviewed, claimed or sent
    after_alpha = _snapshot(store, "alpha")
    engine_b, sent_b = _engine(beta)
    report_b = engine_b.run_cycle(AS_OF)
    assert report_b.summary == report_a.summary
    assert _snapshot(store, "alpha") == after_alpha
    keys_a = sorted(d.key for c in sent_a.values() for d in c.deliveries)
    keys_b = sorted(d.key for c in sent_b.values() for d in c.deliveries)
    assert keys_a == keys_b
    with alpha() as a_uow, beta() as b_uow:
        for key in keys_a:
            a_entry, b_entry = a_uow.outbox.get(key), b_uow.outbox.get(key)
            assert a_entry is not None
            assert b_entry is not None
            assert (a_entry.status, a_entry.attempts) == (b_entry.status, b_entry.attempts)
            assert a_entry.status is OutboxStatus.SENT
        assert a_uow.cases.count_due(AS_OF) == b_uow.cases.count_due(AS_OF) == 0
