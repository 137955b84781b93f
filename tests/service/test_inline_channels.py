"""Channels that do no I/O (``CAP_INLINE``) are sent in the dispatching thread, and
are still judged at the instant of sending and bound by the batch's deadline."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pendulum

from loancollect import (
    Borrower,
    ContactKind,
    ContactPoint,
    Loan,
    Money,
    PartyKind,
    make_plugin_manager,
)
from loancollect.domain.events import EventKind
from loancollect.domain.strategy import PlannedAction
from loancollect.engine import CollectionEngine, CycleConfig
from loancollect.ports import (
    CAP_IDEMPOTENT,
    CAP_INLINE,
    CAP_POLL,
    DeliveryResult,
    OutboxStatus,
    RenderedMessage,
)
from loancollect.testing import FixedClock, MemoryStore, RecordingChannel

CHANNELS = ("sms", "email", "letter", "phone", "visit")
DAY = dt.date(2025, 2, 11)  # one day past the first due date
MORNING = pendulum.datetime(2025, 2, 11, 10, tz="Asia/Shanghai")
NIGHT = pendulum.datetime(2025, 2, 11, 23, 30, tz="Asia/Shanghai")


class ThreadNoting(RecordingChannel):
    """A recording channel declaring ``CAP_INLINE`` that notes the thread of each send."""

    def __init__(self, name: str) -> None:
        super().__init__(name, capabilities=frozenset({CAP_IDEMPOTENT, CAP_POLL, CAP_INLINE}))
        self.threads: list[int] = []

    def send(
        self, action: PlannedAction, message: RenderedMessage, idempotency_key: str
    ) -> DeliveryResult:
        self.threads.append(threading.get_ident())
        return super().send(action, message, idempotency_key)


def _loan(i: int) -> Loan:
    borrower = Borrower(
        id=f"B-{i}",
        kind=PartyKind.INDIVIDUAL,
        name="张伟",
        jurisdiction="CN",
        time_zone="Asia/Shanghai",
        locale="zh_CN",
        contact_points=(
            ContactPoint(ContactKind.PHONE, f"+86 138 0013 80{i:02d}", label="mobile"),
            ContactPoint(ContactKind.EMAIL, f"zhang{i}@example.com"),
            ContactPoint(ContactKind.ADDRESS, "1 Renmin Road, Shanghai"),
        ),
    )
    return Loan.create(
        id=f"L-{i}",
        borrower=borrower,
        principal=Money("12000", "CNY"),
        annual_rate=Decimal("0.12"),
        term=12,
        disbursement_date=dt.date(2025, 1, 10),
    )


def _world(
    at: dt.datetime, config: CycleConfig | None = None
) -> tuple[CollectionEngine, FixedClock, MemoryStore, dict[str, ThreadNoting]]:
    store, clock = MemoryStore(), FixedClock(at)
    channels = {name: ThreadNoting(name) for name in CHANNELS}
    engine = CollectionEngine(
        pm=make_plugin_manager(load_entrypoints=["rules-cn"]),
        storage=store,
        clock=clock,
        channels=channels,
        config=config or CycleConfig(),
    )
    engine.add_loans([_loan(i) for i in range(1, 4)], review_on=DAY)
    return engine, clock, store, channels


def test_an_inline_channel_is_sent_in_the_dispatching_thread() -> None:
    engine, _, _, channels = _world(MORNING)
    report = engine.run_cycle(DAY)
    threads = [t for c in channels.values() for t in c.threads]
    assert report.summary.sent > 0
    assert len(threads) == report.summary.sent
    assert set(threads) == {threading.get_ident()}


def test_an_inline_channel_is_judged_at_the_instant_of_sending() -> None:
    engine, clock, store, channels = _world(MORNING)
    planned = engine.review(DAY)
    assert planned.summary.actions_planned > 0
    clock.set(NIGHT)
    sent = engine.dispatch(DAY)
    assert sent.summary.sent == 0
    assert sum(len(c.deliveries) for c in channels.values()) == 0
    with store() as uow:
        moved = [
            e
            for i in range(1, 4)
            for e in uow.events.stream(f"L-{i}")
            if e.kind is EventKind.ACTION_RESCHEDULED
        ]
    assert len(moved) == planned.summary.actions_planned


def test_an_inline_send_after_the_batch_deadline_is_left_in_the_outbox() -> None:
    engine, _, store, channels = _world(MORNING, CycleConfig(batch_timeout=1e-9))
    planned = engine.review(DAY)
    assert planned.summary.actions_planned > 0
    report = engine.dispatch(DAY)
    assert report.summary.sent == 0
    assert sum(len(c.deliveries) for c in channels.values()) == 0
    assert any("deadline" in p.message for p in report.problems)
    with store() as uow:
        entries = uow.outbox.pending(limit=100, now=MORNING)
    assert len(entries) == planned.summary.actions_planned
    assert {e.status for e in entries} == {OutboxStatus.PENDING}
