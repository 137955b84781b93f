"""Two tenants of one in-memory database, each with its own engine: a cycle run for one
leaves the other's loans, cases, events and outbox exactly as they were."""

from __future__ import annotations

import datetime as dt
import pickle
from decimal import Decimal

import pendulum

from loancollect import (
    Borrower,
    CollectionEngine,
    ContactKind,
    ContactPoint,
    Loan,
    Money,
    PartyKind,
    make_plugin_manager,
)
from loancollect.builtin.memory import MemoryStore
from loancollect.testing import UNCHECKED_CONTACT, FixedClock, MemoryDatabase, RecordingChannel

CHANNELS = ("sms", "email", "letter", "phone", "visit")
DAY = dt.date(2025, 3, 20)


def _loans(n: int) -> list[Loan]:
    return [
        Loan.create(
            id=f"LN-{i:03d}",
            borrower=Borrower(
                id=f"C-{i:03d}",
                kind=PartyKind.INDIVIDUAL,
                name=f"Borrower {i}",
                jurisdiction="CN",
                time_zone="Asia/Shanghai",
                locale="en_US",
                contact_points=[ContactPoint(ContactKind.PHONE, f"+86 139 1234 {i:04d}")],
            ),
            principal=Money("6000.00", "CNY"),
            annual_rate=Decimal("0.15"),
            term=6,
            disbursement_date=dt.date(2025, 2, 10) - dt.timedelta(days=30 * (i % 3)),
        )
        for i in range(n)
    ]


def _engine(store: MemoryStore) -> tuple[CollectionEngine, dict[str, RecordingChannel]]:
    channels = {name: RecordingChannel(name) for name in CHANNELS}
    engine = CollectionEngine(
        pm=make_plugin_manager(config=UNCHECKED_CONTACT),
        storage=store,
        clock=FixedClock(pendulum.datetime(2025, 3, 20, 10, tz="Asia/Shanghai")),
        channels=channels,
    )
    return engine, channels


def _snapshot(store: MemoryStore) -> bytes:
    """Every committed record of the store's tenant, pickled in key order."""
    tables = (store.loans, store.payments, store.cases, store.outbox, store.events)
    return pickle.dumps([sorted(table.items()) for table in tables])


def test_a_cycle_for_one_tenant_leaves_the_other_byte_for_byte_unchanged() -> None:
    database = MemoryDatabase()
    alpha, beta = database.store("alpha"), database.store("beta")
    engine_a, sent_a = _engine(alpha)
    engine_b, sent_b = _engine(beta)
    loans = _loans(9)
    # the same loan ids in both tenants
    assert engine_a.add_loans(loans, review_on=DAY) == engine_b.add_loans(loans, review_on=DAY)
    before_b = _snapshot(beta)
    before_a = _snapshot(alpha)

    report_a = engine_a.run_cycle(DAY)
    assert report_a.summary.reviewed == 9
    assert report_a.summary.sent > 0
    assert _snapshot(alpha) != before_a
    assert _snapshot(beta) == before_b
    assert not any(channel.deliveries for channel in sent_b.values())

    # beta's day is untouched by alpha's: it reviews and sends exactly as alpha did
    after_a = _snapshot(alpha)
    report_b = engine_b.run_cycle(DAY)
    assert report_b.summary == report_a.summary
    assert _snapshot(alpha) == after_a
    assert sorted(d.key for c in sent_b.values() for d in c.deliveries) == sorted(
        d.key for c in sent_a.values() for d in c.deliveries
    )
