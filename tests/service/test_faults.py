"""Safe under faults: contacts judged at the instant they are made, real deadlines,
outcomes that are not known are never re-sent blindly.

Every test here is bounded: sends that hang are abandoned after a deadline of a
fraction of a second, and the threads that hang are released at the end.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from decimal import Decimal
from typing import Any

import pendulum
import pytest

from loancollect import (
    Borrower,
    ContactKind,
    ContactPoint,
    Loan,
    Money,
    PartyKind,
    hookimpl,
    make_plugin_manager,
)
from loancollect.domain.events import EventKind
from loancollect.engine import CollectionEngine, CycleConfig
from loancollect.errors import ConfigurationError
from loancollect.ports import CAP_IDEMPOTENT, DeliveryResult, DeliveryStatus, OutboxStatus
from loancollect.testing import FixedClock, MemoryStore, RecordingChannel

CHANNELS = ("sms", "email", "letter", "phone", "visit")
DAY = dt.date(2025, 2, 11)  # one day past the first due date
MORNING = pendulum.datetime(2025, 2, 11, 10, tz="Asia/Shanghai")
NIGHT = pendulum.datetime(2025, 2, 11, 23, 30, tz="Asia/Shanghai")


def _loan(i: int = 1) -> Loan:
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


class World:
    """An engine over the in-memory store with the PRC rule pack."""

    def __init__(
        self,
        at: dt.datetime,
        *,
        channels: dict[str, Any] | None = None,
        config: CycleConfig | None = None,
        plugins: tuple[object, ...] = (),
        store: MemoryStore | None = None,
        loans: int = 3,
        processes: int | None = None,
    ) -> None:
        self.store = store or MemoryStore()
        self.clock = FixedClock(at)
        self.channels: dict[str, Any] = {name: RecordingChannel(name) for name in CHANNELS}
        self.channels.update(channels or {})
        self.engine = CollectionEngine(
            pm=make_plugin_manager(load_entrypoints=["rules-cn"], plugins=plugins),
            storage=self.store,
            clock=self.clock,
            channels=self.channels,
            config=attrs_evolve(config or CycleConfig(), review_processes=processes),
        )
        if store is None:
            self.engine.add_loans([_loan(i) for i in range(1, loans + 1)], review_on=DAY)

    def delivered(self) -> int:
        return sum(len(c.deliveries) for c in self.channels.values())

    def events(self, kind: EventKind) -> list[Any]:
        with self.store() as uow:
            return [e for i in range(1, 10) for e in uow.events.stream(f"L-{i}") if e.kind is kind]


# -- lawful at the instant of sending -------------------------------------------------


# The review in one process, and pipelined (spawned decide processes): the same guarantees.
PROCESSES = pytest.mark.parametrize("processes", [1, 2], ids=["one-process", "pipelined"])


@PROCESSES
def test_an_action_planned_at_ten_is_not_sent_at_half_past_eleven_at_night(processes: int) -> None:
    world = World(MORNING, processes=processes)
    planned = world.engine.review(DAY)
    assert planned.summary.actions_planned > 0
    world.clock.set(NIGHT)
    sent = world.engine.dispatch(DAY)
    assert sent.summary.sent == 0
    assert world.delivered() == 0
    moved = world.events(EventKind.ACTION_RESCHEDULED)
    assert len(moved) == planned.summary.actions_planned
    with world.store() as uow:
        entries = uow.outbox.pending(limit=100, now=NIGHT.add(hours=9))  # 08:30 next day
    assert {e.status for e in entries} == {OutboxStatus.RETRY}  # moved, still open
    assert len(entries) == planned.summary.actions_planned
    assert all(e.next_attempt_at is not None and e.next_attempt_at > NIGHT for e in entries)


class CrashAfterPlanning:
    """The process dies right after the review committed, before anything is sent."""

    fired = False

    @hookimpl
    def loancollect_on_event(self, event: Any) -> None:
        if not self.fired and event.kind is EventKind.ACTION_PLANNED:
            self.fired = True
            raise KeyboardInterrupt("the process dies")


@PROCESSES
def test_a_crash_after_planning_then_a_rerun_at_night_sends_nothing(processes: int) -> None:
    store = MemoryStore()
    crashing = World(MORNING, plugins=(CrashAfterPlanning(),), store=store, processes=processes)
    crashing.engine.add_loans([_loan(i) for i in range(1, 4)], review_on=DAY)
    with pytest.raises(KeyboardInterrupt):
        crashing.engine.run_cycle(DAY)
    rerun = World(NIGHT, store=store, processes=processes)
    report = rerun.engine.run_cycle(DAY)
    assert report.summary.sent == 0
    assert rerun.delivered() == 0
    assert crashing.delivered() == 0


class NaiveClock:
    """A misconfigured host clock: local time without a zone."""

    def now(self) -> dt.datetime:
        return dt.datetime(2025, 2, 11, 10, 0)

    def today(self, tz: str) -> dt.date:
        return DAY


@PROCESSES
def test_a_naive_clock_contacts_no_one(processes: int) -> None:
    world = World(MORNING, processes=processes)
    world.engine.review(DAY)
    naive = CollectionEngine(
        pm=make_plugin_manager(load_entrypoints=["rules-cn"]),
        storage=world.store,
        clock=NaiveClock(),
        channels=world.channels,
        config=CycleConfig(review_processes=processes),
    )
    with pytest.raises(ConfigurationError, match="naive instant"):
        naive.run_cycle(DAY)
    assert world.delivered() == 0


# -- deadlines ------------------------------------------------------------------------


class HangingChannel(RecordingChannel):
    """Never answers until released (a provider that hangs)."""

    def __init__(self, name: str, capabilities: frozenset[str]) -> None:
        super().__init__(name, capabilities=capabilities)
        self.release = threading.Event()
        self.calls = 0

    def send(self, action: Any, message: Any, idempotency_key: str) -> DeliveryResult:
        self.calls += 1
        self.release.wait(30)
        return super().send(action, message, idempotency_key)


class SlowChannel(RecordingChannel):
    """Delivers, but only after ``delay`` seconds (after its deadline)."""

    def __init__(self, name: str, delay: float, capabilities: frozenset[str]) -> None:
        super().__init__(name, capabilities=capabilities)
        self.delay = delay
        self.calls = 0

    def send(self, action: Any, message: Any, idempotency_key: str) -> DeliveryResult:
        self.calls += 1
        time.sleep(self.delay)
        return super().send(action, message, idempotency_key)


FAST = CycleConfig(send_timeout=0.2, batch_timeout=5.0, retry_backoff=dt.timedelta(minutes=10))


@pytest.mark.parametrize("workers", [1, 4])
def test_a_channel_that_hangs_does_not_hang_the_cycle(workers: int) -> None:
    hanging = HangingChannel("sms", frozenset())  # cannot de-duplicate
    world = World(
        MORNING, channels={"sms": hanging}, config=attrs_evolve(FAST, dispatch_workers=workers)
    )
    try:
        started = time.monotonic()
        report = world.engine.run_cycle(DAY)
        elapsed = time.monotonic() - started
        assert hanging.calls > 0
        assert elapsed < 10  # the deadline, not the hang, ended the sends
        assert report.summary.sent > 0  # the other channels went on
        failed = [e.payload for e in world.events(EventKind.ACTION_FAILED)]
        assert failed
        assert {p.status for p in failed} == {DeliveryStatus.UNKNOWN.value}
        assert all(p.retry_at is None for p in failed)  # never re-sent blindly
        # Running the day again does not send the unknown ones again.
        calls = hanging.calls
        world.engine.run_cycle(DAY)
        assert hanging.calls == calls
    finally:
        hanging.release.set()


def test_a_slow_send_to_a_deduplicating_channel_is_delivered_once() -> None:
    slow = SlowChannel("sms", 0.5, frozenset({CAP_IDEMPOTENT}))
    world = World(MORNING, channels={"sms": slow}, config=FAST, loans=1)
    world.engine.run_cycle(DAY)  # the send overruns: unknown, retry allowed (de-duplicates)
    time.sleep(0.6)  # the late send lands at the provider meanwhile
    slow.delay = 0
    world.clock.set(MORNING.add(hours=1))  # past the retry's backoff
    world.engine.dispatch(DAY)  # the retry: the provider answers with the first result
    assert slow.calls == 2
    assert len(slow.sent) == 1  # one message reached the borrower
    with world.store() as uow:
        entries = [uow.outbox.get(d.key) for d in slow.deliveries]
    assert {e.status for e in entries if e is not None} == {OutboxStatus.SENT}


def test_an_unknown_outcome_on_a_polling_channel_is_reconciled_not_resent() -> None:
    slow = SlowChannel("sms", 0.5, frozenset({"poll"}))  # polls, does not de-duplicate
    world = World(MORNING, channels={"sms": slow}, config=FAST, loans=1)
    world.engine.run_cycle(DAY)
    time.sleep(0.6)  # the late send was accepted by the provider
    slow.delay = 0
    world.clock.set(MORNING.add(hours=1))  # past the retry's backoff
    world.engine.dispatch(DAY)
    assert slow.calls == 1  # asked, not sent again
    assert len(slow.sent) == 1
    (sent,) = [e.payload for e in world.events(EventKind.ACTION_SENT) if e.payload.channel == "sms"]
    assert sent.attempts == 2


def attrs_evolve(config: CycleConfig, **changes: Any) -> CycleConfig:
    import attrs

    return attrs.evolve(config, **changes)


# -- at most one re-delivery per crash ------------------------------------------------


class PlainGateway:
    """A provider with no de-duplication: every call delivers (and is logged); the
    process dies right after delivering the ``crash_on``-th message."""

    capabilities: frozenset[str] = frozenset()

    def __init__(self, name: str, log: list[str], crash_on: int | None = None) -> None:
        self.name, self.log, self.crash_on = name, log, crash_on

    def send(self, action: Any, message: Any, idempotency_key: str) -> DeliveryResult:
        self.log.append(idempotency_key)
        if self.crash_on is not None and len(self.log) == self.crash_on:
            raise KeyboardInterrupt("the process dies after the provider accepted it")
        return DeliveryResult.sent(f"p-{len(self.log)}")


@PROCESSES
def test_a_crash_mid_dispatch_re_sends_at_most_the_message_in_flight(processes: int) -> None:
    log: list[str] = []
    store = MemoryStore()
    first = World(
        MORNING,
        channels={"sms": PlainGateway("sms", log, crash_on=3)},
        store=store,
        config=CycleConfig(dispatch_workers=4, batch_size=2),  # several batches in flight
        processes=processes,
    )
    first.engine.add_loans([_loan(i) for i in range(1, 9)], review_on=DAY)
    with pytest.raises(KeyboardInterrupt):
        first.engine.run_cycle(DAY)
    rerun = World(
        MORNING, channels={"sms": PlainGateway("sms", log)}, store=store, processes=processes
    )
    rerun.engine.run_cycle(DAY)
    with store() as uow:
        planned = {
            e.payload.key
            for i in range(1, 9)
            for e in uow.events.stream(f"L-{i}")
            if e.kind is EventKind.ACTION_PLANNED and e.payload.channel == "sms"
        }
    assert len(planned) == 8
    assert set(log) == planned  # nothing lost
    repeated = [key for key in planned if log.count(key) > 1]
    assert len(repeated) == 1  # only the message in flight when the process died
    assert log.count(repeated[0]) == 2


# -- poison records ----------------------------------------------------------------------


def test_an_entry_that_cannot_be_prepared_fails_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    from loancollect.engine import dispatch as dispatch_module

    world = World(MORNING, loans=3)
    world.engine.review(DAY)  # planned; dispatched below, through the stored path
    real = dispatch_module.assess

    def poisoned(loan: Loan, *args: Any, **kwargs: Any) -> Any:
        if loan.id == "L-2":
            raise RuntimeError("a row that no longer makes a loan")
        return real(loan, *args, **kwargs)

    monkeypatch.setattr(dispatch_module, "assess", poisoned)
    report = world.engine.dispatch(DAY)
    with world.store() as uow:
        bad = list(uow.outbox.pending(limit=100, now=MORNING.add(days=30)))
    assert report.summary.sent > 0  # the others went out
    failed = [e.payload for e in world.events(EventKind.ACTION_FAILED)]
    assert failed
    assert all("could not be prepared" in p.detail for p in failed)
    assert {e.loan_id for e in world.events(EventKind.ACTION_FAILED)} == {"L-2"}
    assert bad == []  # failed for good, not retried in a loop
