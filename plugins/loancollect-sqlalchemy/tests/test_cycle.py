"""The engine over SQL storage: a day's cycle, re-running it, and an injected failure in
the middle of a batch that rolls back that batch only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pendulum
import pytest
import sqlalchemy as sa
from loancollect_sqlalchemy import SqlStore, SqlUnitOfWork
from loancollect_sqlalchemy.bulk import import_rows
from loancollect_sqlalchemy.synthetic import Portfolio, portfolio
from loancollect_sqlalchemy.testkit import CHANNELS

from loancollect.builtin.recording import RecordingChannel
from loancollect.domain.events import ActionPlanned, EventKind
from loancollect.engine import CollectionEngine, CycleConfig
from loancollect.plugins import make_plugin_manager
from loancollect.testing import UNCHECKED_CONTACT
from loancollect.testing.clock import FixedClock

AS_OF = dt.date(2025, 10, 31)


class FailingStore(SqlStore):
    """Fails the ``fail_on``-th commit, after its writes reached the database."""

    fail_on = 2

    def __call__(self) -> SqlUnitOfWork:
        store = self

        class Uow(SqlUnitOfWork):
            def commit(self) -> None:
                store.commits = getattr(store, "commits", 0) + 1
                if store.commits == store.fail_on:
                    self.flush()  # cases, outbox and events are all in the database now
                    raise RuntimeError("injected failure")
                super().commit()

        return Uow(self)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/cycle.db"
    return str(request.getfixturevalue("pg_url"))


def _engine(store: SqlStore, batch_size: int = 10) -> CollectionEngine:
    return CollectionEngine(
        pm=make_plugin_manager(load_entrypoints=False, config=UNCHECKED_CONTACT),
        storage=store,
        clock=FixedClock(pendulum.datetime(2025, 10, 31, 10, tz="Asia/Shanghai")),
        channels={c: RecordingChannel(name=c) for c in CHANNELS},
        config=CycleConfig(batch_size=batch_size),
    )


@pytest.fixture
def loaded(url: str) -> Iterator[str]:
    store = SqlStore(url)
    assert import_rows(store, portfolio(Portfolio(loans=60, as_of=AS_OF, due_share=0.5))).ok
    store.dispose()
    return url


def _consistent(store: SqlStore) -> dict[str, int]:
    """Outbox, events and case records agree for every loan."""
    with store.engine.connect() as conn:
        loans = list(conn.execute(sa.text("SELECT DISTINCT loan_id FROM lc_events")).scalars())
        outbox = set(conn.execute(sa.text("SELECT key FROM lc_outbox")).scalars())
    keys: set[str] = set()
    changed = 0
    with store() as uow:
        for loan_id in loans:
            stream = uow.events.stream(loan_id)
            assert uow.events.verify(loan_id) is None
            keys |= {
                ActionPlanned.parse(e).key for e in stream if e.kind is EventKind.ACTION_PLANNED
            }
            if any(e.kind is EventKind.STAGE_CHANGED for e in stream):
                changed += 1
                case = uow.cases.get(loan_id)
                assert case is not None
                assert case.stage != "current"
                assert case.next_review_date is not None
                assert case.next_review_date > AS_OF
    assert keys == outbox
    return {"planned": len(outbox), "changed": changed}


def test_a_day_reviews_due_cases_and_a_rerun_changes_nothing(loaded: str) -> None:
    store = SqlStore(loaded)
    first = _engine(store).run_cycle(AS_OF)
    assert first.summary.reviewed == 30
    assert first.summary.errors == 0
    assert first.summary.sent == first.summary.actions_planned > 0
    counts = _consistent(store)
    again = _engine(store).run_cycle(AS_OF)
    assert again.summary.reviewed == 0
    assert again.summary.sent == 0
    assert _consistent(store) == counts
    store.dispose()


def test_an_injected_failure_rolls_back_that_batch_only(loaded: str) -> None:
    store = FailingStore(loaded)
    report = _engine(store).review(AS_OF)
    assert any("injected failure" in p.message for p in report.problems)
    with store() as uow:
        still_due = uow.cases.due_for_review(AS_OF, limit=100)
    if store.claims:
        # claiming stops at a failed batch; the rest is left for the next run
        assert 0 < len(still_due) < 30
    else:
        assert len(still_due) == 10  # exactly the failed batch
    failed = {c.loan_id for c in still_due}
    with store() as uow:
        for loan_id in failed:
            assert uow.events.stream(loan_id) == ()
            assert (
                uow.cases.get(loan_id) == still_due[[c.loan_id for c in still_due].index(loan_id)]
            )
    _consistent(store)
    # the next run picks the failed batch up
    plain = SqlStore(loaded, migrate=False)
    rerun = _engine(plain).review(AS_OF)
    assert rerun.summary.reviewed == len(failed)
    _consistent(plain)
    store.dispose()
    plain.dispose()


def test_the_gateway_channel_accepts_everything_keeps_only_counts_and_is_idempotent(
    loaded: str,
) -> None:
    from loancollect_sqlalchemy.testkit import Gateway

    from loancollect.ports import DeliveryStatus

    store = SqlStore(loaded)
    gateways = {c: Gateway(c) for c in CHANNELS}
    engine = CollectionEngine(
        pm=make_plugin_manager(load_entrypoints=False, config=UNCHECKED_CONTACT),
        storage=store,
        clock=FixedClock(pendulum.datetime(2025, 10, 31, 10, tz="Asia/Shanghai")),
        channels=gateways,
    )
    report = engine.run_cycle(AS_OF)
    assert report.summary.sent == report.summary.actions_planned > 0
    assert sum(g.accepted for g in gateways.values()) == report.summary.sent
    assert all(g.characters > 0 for g in gateways.values() if g.accepted)
    with store() as uow:
        entry = uow.outbox.pending(limit=1)
    assert entry == []
    sms = gateways["sms"]
    key = next(iter(sms._sent))
    again = sms.send(None, None, key)  # type: ignore[arg-type]
    assert again.status is DeliveryStatus.SENT
    assert sms.poll(key) == again
    assert sms.poll("never sent") is None
    store.dispose()
