"""Every event the engine stores parses into its payload and is written back to the same bytes.

A small demo portfolio is played for six weeks (payments, calls answered, promises,
plans, holds through the rule packs, retries and fallbacks); then every stored
event of every stream is parsed by kind and serialised again.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from loancollect import CollectionEngine, CycleConfig, EventKind, make_plugin_manager
from loancollect.demo import SimulatedClock, World, demo_strategy, generate_portfolio
from loancollect.domain.events import PAYLOADS, verify_chain
from loancollect.domain.overdue import assess
from loancollect.testing import MemoryStore, RecordingChannel

FIRST = dt.date(2025, 1, 1)
CHANNELS = ("sms", "email", "letter", "phone", "visit")


def test_every_stored_event_round_trips_through_its_payload() -> None:
    pm = make_plugin_manager(load_entrypoints=["rules-cn", "rules-us", "rules-uk", "rules-eu"])
    store = MemoryStore()
    clock = SimulatedClock(dt.datetime(2025, 1, 1, 2, tzinfo=dt.UTC))
    portfolio = generate_portfolio(40, seed=3, start=FIRST)
    world = World(portfolio, seed=3)
    pm.register(world, name="demo-world")
    engine = CollectionEngine(
        pm=pm,
        storage=store,
        clock=clock,
        config=CycleConfig(strategy=demo_strategy(), dispatch_workers=1),
        channels={name: RecordingChannel(name) for name in CHANNELS},
    )
    engine.add_loans((d.loan for d in portfolio), review_on=FIRST)

    def due(loan, day):  # type: ignore[no-untyped-def]
        with store() as uow:
            return assess(loan, uow.loans.payments_for(loan.id), day).amount_due

    day = min(d.loan.disbursement_date for d in portfolio)
    while day < FIRST:
        for payment in world.payments_on(day, due):
            engine.record_payment(payment)
        day += dt.timedelta(days=1)
    for offset in range(45):
        day = FIRST + dt.timedelta(days=offset)
        clock.set(dt.datetime(day.year, day.month, day.day, 1, tzinfo=dt.UTC))
        for payment in world.payments_on(day, due):
            engine.record_payment(payment)
        world.answer_calls(engine, day)
        clock.set(dt.datetime(day.year, day.month, day.day, 2, tzinfo=dt.UTC))
        engine.run_cycle(day)
        clock.set(dt.datetime(day.year, day.month, day.day, 15, tzinfo=dt.UTC))
        engine.dispatch(day)

    kinds: Counter[EventKind] = Counter()
    with store() as uow:
        for demo in portfolio:
            stream = uow.events.stream(demo.loan.id)
            assert verify_chain(stream) is None
            for event in stream:
                payload = event.payload
                assert isinstance(payload, PAYLOADS[event.kind])
                assert payload.pairs() == event.data, event
                kinds[event.kind] += 1
    # The run touched the kinds the engine writes in ordinary collection.
    assert {
        EventKind.STAGE_CHANGED,
        EventKind.SEGMENT_ASSIGNED,
        EventKind.VARIANT_ASSIGNED,
        EventKind.ACTION_PLANNED,
        EventKind.ACTION_SENT,
        EventKind.ACTION_RESCHEDULED,
        EventKind.PAYMENT_RECEIVED,
        EventKind.CONTACT_OUTCOME,
        EventKind.PROMISE_MADE,
    } <= set(kinds)
