"""The collection cycle end to end on the in-memory backend.

A few hundred simulated loans run for 120 days; the same simulation is re-run
with a day repeated, with a crash injected at each step of the cycle, and with a
failing channel, and compared with the clean run.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pendulum
import pytest

from loancollect import (
    Borrower,
    ContactKind,
    ContactOutcome,
    ContactPoint,
    EventKind,
    Hold,
    HoldKind,
    Loan,
    Money,
    OutcomeKind,
    PartyKind,
    Payment,
    PromiseToPay,
    hookimpl,
    make_plugin_manager,
)
from loancollect.domain.events import ActionPlanned, StageChanged, verify_chain
from loancollect.engine import CollectionEngine, CycleConfig
from loancollect.ports import OutboxStatus, UnitOfWork
from loancollect.testing import (
    UNCHECKED_CONTACT,
    FailureMode,
    FixedClock,
    MemoryStore,
    RecordingChannel,
)

START = dt.date(2025, 1, 1)
CHANNELS = ("sms", "email", "letter", "phone", "visit")


class Crash(BaseException):
    """A process dying: not an Exception, so nothing in the engine catches it."""


def _borrower(i: int, rng: random.Random) -> Borrower:
    kind = PartyKind.COMPANY if i % 7 == 0 else PartyKind.INDIVIDUAL
    points = [ContactPoint(ContactKind.PHONE, f"+86138{i:08d}")]
    if rng.random() < 0.7:
        points.append(ContactPoint(ContactKind.EMAIL, f"b{i}@example.cn"))
    if rng.random() < 0.8:
        points.append(ContactPoint(ContactKind.ADDRESS, f"{i} Renmin Road"))
    return Borrower(
        id=f"B{i}",
        kind=kind,
        name=f"Borrower {i}",
        jurisdiction="CN",
        time_zone="Asia/Shanghai",
        locale="zh_CN" if i % 3 else "en_US",
        contact_points=points,
    )


class Portfolio:
    """A deterministic portfolio with payment behaviours, and the day's outside events."""

    def __init__(self, size: int, seed: int = 7) -> None:
        rng = random.Random(seed)
        self.loans: list[Loan] = []
        self.behaviour: dict[str, str] = {}
        for i in range(size):
            loan = Loan.create(
                id=f"L{i:04d}",
                borrower=_borrower(i, rng),
                principal=Money(rng.randrange(2_000, 60_000), "CNY"),
                annual_rate=Decimal(rng.randrange(40, 240)) / 1000,
                term=rng.choice([3, 6, 12]),
                disbursement_date=START - dt.timedelta(days=rng.randrange(5, 26)),
            )
            self.loans.append(loan)
            self.behaviour[loan.id] = rng.choice(["on_time", "late", "late", "promise", "never"])

    def outside_events(self, engine: CollectionEngine, day: dt.date, clock: FixedClock) -> None:
        """Payments, promises and call outcomes that happen on ``day``."""
        for loan in self.loans:
            kind = self.behaviour[loan.id]
            for inst in loan.installments:
                lag = {"on_time": 0, "late": 25, "promise": 12}.get(kind)
                if lag is not None and inst.due_date + dt.timedelta(days=lag) == day:
                    engine.record_payment(
                        Payment(
                            id=f"{loan.id}-P{inst.number}",
                            loan_id=loan.id,
                            amount=inst.total + Money("80", "CNY"),
                            value_date=day,
                            received_at=clock.now(),
                        )
                    )
                if kind == "promise" and inst.due_date + dt.timedelta(days=8) == day:
                    engine.record_outcome(
                        loan.id, ContactOutcome(day, "phone", OutcomeKind.PROMISE), at=clock.now()
                    )
                    engine.record_arrangement(
                        loan.id,
                        PromiseToPay(
                            id=f"{loan.id}-PTP{inst.number}",
                            made_on=day,
                            amount=inst.total,
                            due=day + dt.timedelta(days=4),
                        ),
                    )


def make_engine(
    store: MemoryStore,
    clock: FixedClock,
    plugins: tuple[object, ...] = (),
    processes: int | None = None,
    **channels: RecordingChannel,
) -> CollectionEngine:
    chans = {name: channels.get(name) or RecordingChannel(name) for name in CHANNELS}
    return CollectionEngine(
        pm=make_plugin_manager(plugins=plugins, config=UNCHECKED_CONTACT),
        storage=store,
        clock=clock,
        channels=chans,
        config=CycleConfig(batch_size=64, dispatch_workers=4, review_processes=processes),
    )


def set_day(clock: FixedClock, day: dt.date) -> None:
    # 10:00 in Beijing: inside every contact window.
    clock.set(pendulum.datetime(day.year, day.month, day.day, 2, tz="UTC"))


def days(first: dt.date, count: int) -> Iterator[dt.date]:
    for offset in range(count):
        yield first + dt.timedelta(days=offset)


def snapshot(store: MemoryStore, loans: list[Loan]) -> dict[str, Any]:
    """Everything the engine stored: cases, outbox (key → status) and event streams."""
    with store() as uow:
        cases = {loan.id: uow.cases.get(loan.id) for loan in loans}
        streams = {loan.id: uow.events.stream(loan.id) for loan in loans}
        outbox = {}
        for loan in loans:
            for ev in streams[loan.id]:
                if ev.kind is EventKind.ACTION_PLANNED:
                    key = ActionPlanned.parse(ev).key
                    entry = uow.outbox.get(key)
                    outbox[key] = entry.status if entry else None
    return {
        "cases": cases,
        "outbox": outbox,
        "events": {lid: [(e.kind, e.on, e.data) for e in s] for lid, s in streams.items()},
        "chains": {lid: verify_chain(s) for lid, s in streams.items()},
    }


def run(
    portfolio: Portfolio,
    n_days: int,
    *,
    engine_factory: Callable[[MemoryStore, FixedClock], CollectionEngine] = make_engine,
    repeat: set[dt.date] = frozenset(),  # type: ignore[assignment]
) -> tuple[MemoryStore, FixedClock, CollectionEngine]:
    store = MemoryStore()
    clock = FixedClock(pendulum.datetime(2025, 1, 1, 2, tz="UTC"))
    engine = engine_factory(store, clock)
    engine.add_loans(portfolio.loans, review_on=START)
    for day in days(START, n_days):
        set_day(clock, day)
        portfolio.outside_events(engine, day, clock)
        engine.run_cycle(day)
        if day in repeat:
            engine.run_cycle(day)
    return store, clock, engine


@pytest.fixture(scope="module")
def portfolio() -> Portfolio:
    return Portfolio(200)


@pytest.fixture(scope="module")
def reference(portfolio: Portfolio) -> tuple[dict[str, Any], dict[str, int]]:
    sent: Counter[str] = Counter()
    channels = {name: RecordingChannel(name) for name in CHANNELS}

    def factory(store: MemoryStore, clock: FixedClock) -> CollectionEngine:
        return make_engine(store, clock, **channels)

    store, _, _ = run(portfolio, 120, engine_factory=factory)
    for ch in channels.values():
        sent.update(d.key for d in ch.deliveries)
    return snapshot(store, portfolio.loans), dict(sent)


def test_a_120_day_run_moves_cases_through_the_stages(
    portfolio: Portfolio, reference: tuple[dict[str, Any], dict[str, int]]
) -> None:
    state, sent = reference
    stages = Counter(c.stage for c in state["cases"].values())
    by_behaviour: dict[str, Counter[str]] = {}
    for loan in portfolio.loans:
        by_behaviour.setdefault(portfolio.behaviour[loan.id], Counter())[
            state["cases"][loan.id].stage
        ] += 1
    # Non-payers escalate to the legal stage; on-time payers never leave current (or close).
    assert by_behaviour["never"]["legal"] > 0
    assert set(by_behaviour["on_time"]) <= {"current", "closed"}
    # Late payers are cured at some point.
    late = [lid for lid, b in portfolio.behaviour.items() if b == "late"]
    assert any(
        any(
            kind is EventKind.STAGE_CHANGED and StageChanged.from_pairs(data).current == "cured"
            for kind, _, data in state["events"][lid]
        )
        for lid in late
    )
    assert stages["legal"] >= 1
    # Every planned action was sent exactly once; every stream's chain verifies.
    assert sent
    assert set(sent.values()) == {1}
    assert all(status is OutboxStatus.SENT for status in state["outbox"].values())
    assert set(state["outbox"]) == set(sent)
    assert set(state["chains"].values()) == {None}


def test_promises_suppress_contact_and_are_kept_or_broken(
    portfolio: Portfolio, reference: tuple[dict[str, Any], dict[str, int]]
) -> None:
    state, _ = reference
    kinds = Counter(kind for evs in state["events"].values() for kind, _, _ in evs)
    assert kinds[EventKind.PROMISE_MADE] > 0
    assert kinds[EventKind.PROMISE_KEPT] + kinds[EventKind.PROMISE_BROKEN] > 0
    assert kinds[EventKind.PAYMENT_RECEIVED] > 0
    assert kinds[EventKind.ACTION_SENT] == sum(reference[1].values())


def test_re_running_any_day_changes_nothing(
    portfolio: Portfolio, reference: tuple[dict[str, Any], dict[str, int]]
) -> None:
    repeat = {START + dt.timedelta(days=d) for d in (0, 17, 45, 90, 119)}
    channels = {name: RecordingChannel(name) for name in CHANNELS}
    store, _, _ = run(
        portfolio, 120, engine_factory=lambda s, c: make_engine(s, c, **channels), repeat=repeat
    )
    assert snapshot(store, portfolio.loans) == reference[0]
    assert Counter(d.key for ch in channels.values() for d in ch.deliveries) == Counter(
        reference[1]
    )


class CommitCrash:
    """A storage wrapper that dies at the Nth commit, before or after it happens."""

    def __init__(self, store: MemoryStore, at: int, after: bool) -> None:
        self.store, self.at, self.after, self.commits = store, at, after, 0

    def __call__(self) -> UnitOfWork:
        uow = self.store()
        real_commit = uow.commit
        wrapper = self

        def commit() -> None:
            wrapper.commits += 1
            if wrapper.commits == wrapper.at and not wrapper.after:
                raise Crash("before commit")
            real_commit()
            if wrapper.commits == wrapper.at and wrapper.after:
                raise Crash("after commit")

        uow.commit = commit  # type: ignore[method-assign]
        return uow


class DispatchCommitCrash:
    """Dies when committing the results of a dispatch (after the sends happened)."""

    def __init__(self, store: MemoryStore) -> None:
        self.store, self.fired = store, False

    def __call__(self) -> UnitOfWork:
        uow = self.store()
        outbox = uow.outbox
        real_mark, real_commit = outbox.mark_sent, uow.commit
        marked: list[str] = []
        wrapper = self

        def mark_sent(key: str, result: Any, *, at: dt.datetime) -> Any:
            marked.append(key)
            return real_mark(key, result, at=at)

        def commit() -> None:
            if marked and not wrapper.fired:
                wrapper.fired = True
                raise Crash("before the dispatch results are committed")
            real_commit()

        outbox.mark_sent = mark_sent  # type: ignore[method-assign]
        uow.commit = commit  # type: ignore[method-assign]
        return uow


class SendThenCrash(RecordingChannel):
    """Delivers, then the process dies before the result is recorded."""

    def __init__(self, name: str, crash_on: int) -> None:
        super().__init__(name)
        self.crash_on, self.calls = crash_on, 0

    def send(self, action: Any, message: Any, idempotency_key: str) -> Any:
        result = super().send(action, message, idempotency_key)
        self.calls += 1
        if self.calls == self.crash_on:
            raise Crash("after send")
        return result


class EventCrash:
    """Dies in the first event notification after a given day: after the review commit,
    before dispatch."""

    def __init__(self, day: dt.date) -> None:
        self.day, self.fired = day, False

    @hookimpl
    def loancollect_on_event(self, event: Any) -> None:
        if not self.fired and event.on == self.day and event.kind is EventKind.ACTION_PLANNED:
            self.fired = True
            raise Crash("after review commit, before dispatch")


CRASH_DAY = START + dt.timedelta(days=40)


@pytest.mark.parametrize(
    ("where", "processes"),
    [
        ("before-review-commit", 1),
        ("after-review-commit", 1),
        ("after-event-before-dispatch", 1),
        ("after-send", 1),
        ("before-dispatch-commit", 1),
        # the crash day's review pipelined (two decide processes), then re-run so
        ("before-review-commit", 2),
        ("after-review-commit", 2),
        ("after-event-before-dispatch", 2),
    ],
)
def test_a_crash_at_any_step_then_a_rerun_loses_nothing_and_sends_nothing_twice(
    where: str,
    processes: int,
    portfolio: Portfolio,
    reference: tuple[dict[str, Any], dict[str, int]],
) -> None:
    store = MemoryStore()
    clock = FixedClock(pendulum.datetime(2025, 1, 1, 2, tz="UTC"))
    channels = {name: RecordingChannel(name) for name in CHANNELS}
    engine = make_engine(store, clock, **channels)
    engine.add_loans(portfolio.loans, review_on=START)
    for day in days(START, 120):
        set_day(clock, day)
        portfolio.outside_events(engine, day, clock)
        if day != CRASH_DAY:
            engine.run_cycle(day)
            continue
        # The crashing run, with the same channel objects (the provider remembers keys).
        if where == "before-review-commit":
            crashing = make_engine(
                CommitCrash(store, 1, after=False),  # type: ignore[arg-type]
                clock,
                processes=processes,
                **channels,
            )
        elif where == "after-review-commit":
            crashing = make_engine(
                CommitCrash(store, 1, after=True),  # type: ignore[arg-type]
                clock,
                processes=processes,
                **channels,
            )
        elif where == "after-event-before-dispatch":
            crashing = make_engine(store, clock, (EventCrash(day),), processes, **channels)
        elif where == "after-send":
            flaky = SendThenCrash("sms", crash_on=1)
            flaky.deliveries = channels["sms"].deliveries
            flaky._results = channels["sms"]._results  # the same provider
            crashing = make_engine(store, clock, **{**channels, "sms": flaky})
        else:
            crashing = make_engine(DispatchCommitCrash(store), clock, **channels)  # type: ignore[arg-type]
        with pytest.raises(Crash):
            crashing.run_cycle(day)
        rerun = engine if processes == 1 else make_engine(store, clock, (), processes, **channels)
        rerun.run_cycle(day)  # the operator re-runs the day
    state = snapshot(store, portfolio.loans)
    sent = Counter(d.key for ch in channels.values() for d in ch.deliveries)
    assert set(sent.values()) == {1}, "an action was delivered twice"
    assert state["cases"] == reference[0]["cases"]
    assert state["outbox"] == reference[0]["outbox"]
    assert dict(sent) == reference[1]
    assert set(state["chains"].values()) == {None}


def test_a_failing_channel_is_isolated_retried_and_falls_back(portfolio: Portfolio) -> None:
    sms = RecordingChannel("sms")
    sms.fail_always(FailureMode.RETRYABLE)
    channels = {name: RecordingChannel(name) for name in CHANNELS if name != "sms"}
    store, _clock, _engine = run(
        portfolio, 60, engine_factory=lambda s, c: make_engine(s, c, sms=sms, **channels)
    )
    with store() as uow:
        streams = [uow.events.stream(loan.id) for loan in portfolio.loans]
    events = [e for s in streams for e in s]
    failed = [e for e in events if e.kind is EventKind.ACTION_FAILED]
    assert failed, "SMS failures are recorded"
    assert {e.payload.channel for e in failed} == {"sms"}
    # Other channels kept working.
    assert any(e.kind is EventKind.ACTION_SENT and e.payload.channel == "phone" for e in events)
    # After the last retry, the action fell back to its next channel (sms → email/phone).
    fallbacks = [e for e in events if e.kind is EventKind.ACTION_PLANNED and e.payload.fallback_of]
    assert fallbacks
    assert all(e.payload.channel in ("email", "phone") for e in fallbacks)
    attempts = Counter(e.payload.key for e in failed)
    assert max(attempts.values()) <= CycleConfig().max_attempts


def test_a_channel_that_raises_fails_only_its_action() -> None:
    portfolio = Portfolio(30, seed=3)

    class Exploding(RecordingChannel):
        def send(self, action: Any, message: Any, idempotency_key: str) -> Any:
            raise RuntimeError("gateway down for +8613800000001")

    store, _, engine = run(
        portfolio, 45, engine_factory=lambda s, c: make_engine(s, c, email=Exploding("email"))
    )
    report = engine.run_cycle(START + dt.timedelta(days=45))
    assert report.summary.errors == 0
    with store() as uow:
        events = [e for loan in portfolio.loans for e in uow.events.stream(loan.id)]
    failed = [e for e in events if e.kind is EventKind.ACTION_FAILED]
    assert failed
    assert all(e.payload.channel == "email" for e in failed)
    assert any(e.kind is EventKind.ACTION_SENT for e in events)


def test_a_hold_blocks_contact_until_released() -> None:
    portfolio = Portfolio(1, seed=1)
    portfolio.behaviour = {portfolio.loans[0].id: "never"}
    store = MemoryStore()
    clock = FixedClock(pendulum.datetime(2025, 1, 1, 2, tz="UTC"))
    sms = RecordingChannel("sms")
    engine = make_engine(store, clock, sms=sms)
    loan = portfolio.loans[0]
    engine.add_loans([loan], review_on=START)
    due = loan.installments[0].due_date
    engine.place_hold(loan.id, Hold(HoldKind.DISPUTE, due, None, "disputed amount"))
    for day in days(START, 60):
        set_day(clock, day)
        engine.run_cycle(day)
    assert sms.deliveries == []
    released = due + dt.timedelta(days=60)
    engine.release_hold(loan.id, HoldKind.DISPUTE, released)
    set_day(clock, released)
    engine.run_cycle(released)
    assert sms.deliveries
