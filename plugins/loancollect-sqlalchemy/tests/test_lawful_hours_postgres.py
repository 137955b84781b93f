"""Claiming workers on PostgreSQL judge every send at the instant they make it: what
was planned at 10:00 is not sent by workers running at 23:30 (Beijing time)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from loancollect_sqlalchemy import SqlStore
from loancollect_sqlalchemy.bulk import import_rows
from loancollect_sqlalchemy.synthetic import Portfolio, portfolio
from loancollect_sqlalchemy.testkit import channels_from_env, clock_from_env, sends_table

from loancollect import CollectionEngine, make_plugin_manager
from loancollect.engine.workers import WorkerSpec, run_workers

AS_OF = dt.date(2025, 10, 31)
MORNING = "2025-10-31T10:00:00+08:00"
NIGHT = "2025-10-31T23:30:00+08:00"


def test_workers_at_half_past_eleven_send_nothing_planned_at_ten(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SqlStore(pg_url)
    import_rows(store, portfolio(Portfolio(loans=2_000, as_of=AS_OF, due_share=0.25, seed=5)))
    sends_table.metadata.create_all(store.engine)
    monkeypatch.setenv("LOANCOLLECT_SENDS_URL", pg_url)
    monkeypatch.setenv("LOANCOLLECT_NOW", MORNING)
    planner = CollectionEngine(
        pm=make_plugin_manager(load_entrypoints=True),
        storage=store,
        clock=clock_from_env(),
        channels=channels_from_env(),
    )
    planned = planner.review(AS_OF)  # 10:00: planned and in the outbox, not sent
    assert planned.summary.actions_planned > 0
    monkeypatch.setenv("LOANCOLLECT_NOW", NIGHT)
    results = run_workers(
        WorkerSpec(
            url=pg_url,
            as_of=AS_OF,
            channels="loancollect_sqlalchemy.testkit:channels_from_env",
            clock="loancollect_sqlalchemy.testkit:clock_from_env",
            batch_size=100,
        ),
        2,
    )
    assert all(r.ok for r in results), [r.error for r in results]
    assert sum(r.summary.sent for r in results) == 0
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(sends_table)).scalar() == 0
        waiting = conn.execute(
            sa.text(
                "SELECT count(*) FROM lc_outbox WHERE status = 'retry' "
                "AND next_attempt_at > '2025-10-31T15:30:00+00:00'"
            )
        ).scalar()
    assert waiting == planned.summary.actions_planned  # moved to the morning, not lost
    store.dispose()
