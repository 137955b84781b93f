"""Lawful contact in the cycle: the rule packs, loaded through their entry points, judge
every planned contact; blocked and rescheduled actions are recorded with their reasons.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs
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
    hookimpl,
    make_plugin_manager,
)
from loancollect.builtin.compliance import (
    GUARD_NAME,
    ComplianceGuard,
    borrower_flags,
    contact_events,
    template_tags,
)
from loancollect.builtin.templates import load_templates
from loancollect.domain.case import Case
from loancollect.domain.compliance import Channel, Tag
from loancollect.domain.events import ActionSent, ContactOutcomeRecorded, Event, OptedOut
from loancollect.domain.strategy import ActionRule, PlannedAction, Strategy, Tone, idempotency_key
from loancollect.engine import CollectionEngine, CycleConfig
from loancollect.errors import ConfigurationError
from loancollect.ports import OutboxStatus
from loancollect.registry import TemplateSpec
from loancollect.templates import TemplateCatalog
from loancollect.testing import FixedClock, MemoryStore, RecordingChannel, make_event

RULES = ["rules-cn", "rules-us", "rules-uk", "rules-eu"]
CHANNELS = ("sms", "email", "letter", "phone", "visit")
DISBURSED = dt.date(2025, 1, 10)  # first due date 2025-02-10
DPD1 = dt.date(2025, 2, 11)


def cn_borrower() -> Borrower:
    return Borrower(
        id="B-CN",
        kind=PartyKind.INDIVIDUAL,
        name="张伟",
        jurisdiction="CN",
        time_zone="Asia/Shanghai",
        locale="zh_CN",
        contact_points=(
            ContactPoint(ContactKind.PHONE, "+86 138 0013 8000", label="mobile"),
            ContactPoint(ContactKind.EMAIL, "zhang.wei@example.com"),
            ContactPoint(ContactKind.ADDRESS, "1 Renmin Road, Shanghai"),
        ),
    )


def us_borrower() -> Borrower:
    return Borrower(
        id="B-US",
        kind=PartyKind.INDIVIDUAL,
        name="Alex Doe",
        jurisdiction="US-NY",
        time_zone="America/New_York",
        locale="en_US",
        contact_points=(
            ContactPoint(ContactKind.PHONE, "+1 212 555 0100", label="mobile"),
            ContactPoint(ContactKind.EMAIL, "alex@example.com"),
        ),
    )


def make_loan(borrower: Borrower, loan_id: str) -> Loan:
    currency = "CNY" if borrower.jurisdiction == "CN" else "USD"
    return Loan.create(
        id=loan_id,
        borrower=borrower,
        principal=Money("12000", currency),
        annual_rate=Decimal("0.12"),
        term=12,
        disbursement_date=DISBURSED,
    )


class World:
    """An engine on the in-memory backend with the rule packs from their entry points."""

    def __init__(
        self,
        *,
        at: dt.datetime,
        rules: list[str] = RULES,
        strategy: Strategy | None = None,
        plugins: tuple[object, ...] = (),
        history_days: int = 400,
        config: dict[str, object] | None = None,
    ) -> None:
        self.pm = make_plugin_manager(load_entrypoints=rules, plugins=plugins, config=config)
        self.store = MemoryStore()
        self.clock = FixedClock(at)
        self.channels = {name: RecordingChannel(name) for name in CHANNELS}
        config = CycleConfig(history_days=history_days)
        if strategy is not None:
            config = attrs.evolve(config, strategy=strategy)
        self.engine = CollectionEngine(
            pm=self.pm,
            storage=self.store,
            clock=self.clock,
            channels=self.channels,
            config=config,
        )

    def add(self, loan: Loan, review_on: dt.date, **case_changes: object) -> None:
        self.engine.add_loans([loan], review_on=review_on)
        if case_changes:
            with self.store() as uow:
                case = uow.cases.get(loan.id)
                assert case is not None
                uow.cases.save(attrs.evolve(case, **case_changes))
                uow.commit()

    def events(self, loan_id: str, kind: EventKind) -> list[Event]:
        with self.store() as uow:
            return [e for e in uow.events.stream(loan_id) if e.kind is kind]

    def entry(self, key: str):  # type: ignore[no-untyped-def]
        with self.store() as uow:
            return uow.outbox.get(key)

    def sent(self, channel: str) -> list[str]:
        return [d.key for d in self.channels[channel].deliveries]


def beijing(day: dt.date, hour: int) -> pendulum.DateTime:
    return pendulum.datetime(day.year, day.month, day.day, hour, tz="Asia/Shanghai")


def new_york(day: dt.date, hour: int) -> pendulum.DateTime:
    return pendulum.datetime(day.year, day.month, day.day, hour, tz="America/New_York")


# -- the packs come from the installed distributions --------------------------------


def test_the_guard_uses_the_packs_registered_through_the_entry_points() -> None:
    world = World(at=beijing(DPD1, 10))
    guard = world.engine.compliance
    assert isinstance(guard, ComplianceGuard)
    assert world.pm.get_plugin(GUARD_NAME) is guard
    assert {p.name for p in guard.packs} == {
        "cn",
        "us-fdcpa",
        "us-ma",
        "uk-conc",
        "uk-debt-respite",
        "eu-framework",
        "eu-it",
    }
    names = {world.pm.get_name(p) for p in world.pm.get_plugins()}
    assert set(RULES) <= names


def test_a_second_engine_on_the_same_manager_replaces_the_guard() -> None:
    world = World(at=beijing(DPD1, 10))
    again = CollectionEngine(pm=world.pm, storage=world.store, clock=world.clock)
    assert world.pm.get_plugin(GUARD_NAME) is again.compliance
    assert again.compliance is not world.engine.compliance


def test_blocking_the_bridge_switches_compliance_off() -> None:
    pm = make_plugin_manager(load_entrypoints=RULES, block=["loancollect.builtin.compliance"])
    engine = CollectionEngine(pm=pm, storage=MemoryStore(), clock=FixedClock(beijing(DPD1, 10)))
    assert engine.compliance is None
    assert pm.get_plugin(GUARD_NAME) is None


# -- CN: the night window ---------------------------------------------------------------


def test_a_run_at_23_beijing_reschedules_the_contacts_to_8_the_next_morning() -> None:
    world = World(at=beijing(DPD1, 23))
    loan = make_loan(cn_borrower(), "L-CN")
    world.add(loan, DPD1)

    report = world.engine.run_cycle(DPD1)

    assert report.summary.rescheduled == 2
    assert report.summary.blocked == 0
    assert report.summary.sent == 0
    morning = beijing(DPD1 + dt.timedelta(days=1), 8)
    moved = world.events(loan.id, EventKind.ACTION_RESCHEDULED)
    assert {e.payload.channel for e in moved} == {"sms", "email"}
    for event in moved:
        assert event.payload.not_before == morning
        assert "CN-01: outside the allowed hours in Asia/Shanghai" in (event.payload.reasons or "")
        assert "GB/T 45251—2025" in (event.payload.citations or "")
        entry = world.entry(event.payload.key or "")
        assert entry.status is OutboxStatus.PENDING
        assert entry.next_attempt_at == morning
    assert world.sent("sms") == []
    assert world.sent("email") == []

    # At 08:30 the next morning the outbox sends them.
    world.clock.set(beijing(DPD1 + dt.timedelta(days=1), 8).add(minutes=30))
    world.engine.dispatch(DPD1 + dt.timedelta(days=1))
    assert world.sent("sms") == [idempotency_key(loan.id, "confirm.sms", DPD1)]
    assert world.sent("email") == [idempotency_key(loan.id, "confirm.email", DPD1)]
    sent = world.events(loan.id, EventKind.ACTION_SENT)
    sms = next(e for e in sent if e.payload.channel == "sms")
    assert sms.payload.contact == "+86*********00"  # masked, never the number itself
    assert sms.payload.place == "mobile"


def test_the_same_day_at_10_beijing_is_allowed() -> None:
    world = World(at=beijing(DPD1, 10))
    loan = make_loan(cn_borrower(), "L-CN")
    world.add(loan, DPD1)
    report = world.engine.run_cycle(DPD1)
    assert (report.summary.sent, report.summary.rescheduled, report.summary.blocked) == (2, 0, 0)


# -- US: stops, the 7-in-7 presumption and opt-outs -------------------------------------


def test_a_cease_request_blocks_every_contact_and_nothing_reaches_the_outbox() -> None:
    world = World(at=new_york(DPD1, 10))
    loan = make_loan(us_borrower(), "L-US")
    world.add(loan, DPD1, flags=frozenset({"cease_communication:2025-02-05"}))

    report = world.engine.run_cycle(DPD1)

    # Both planned (as their ACTION_PLANNED events say), both blocked at once.
    assert report.summary.actions_planned == report.summary.blocked == 2
    blocked = world.events(loan.id, EventKind.ACTION_BLOCKED)
    assert {e.payload.channel for e in blocked} == {"sms", "email"}
    for event in blocked:
        assert (event.payload.reasons or "").startswith("US-16: cease notice received 2025-02-05")
        assert "1692c(c)" in (event.payload.citations or "")
        assert world.entry(event.payload.key or "") is None
    assert world.sent("sms") == []
    assert world.sent("email") == []


class PlansAStatementSms:
    """A plug-in planning an SMS every day, whatever the case's holds."""

    @hookimpl
    def loancollect_plan_actions(self, loan: Loan, case: Case, as_of: dt.date) -> list[object]:
        return [
            PlannedAction(
                loan_id=loan.id,
                rule_id="acme.statement",
                stage=case.stage,
                channel="sms",
                template="reminder",
                tone=Tone.REMINDER,
                as_of=as_of,
                locale=loan.borrower.locale,
                idempotency_key=idempotency_key(loan.id, "acme.statement", as_of),
                contact=loan.borrower.contacts(ContactKind.PHONE)[0],
            )
        ]


def test_a_dispute_hold_blocks_a_contact_a_plugin_planned() -> None:
    world = World(at=new_york(DPD1, 10), plugins=(PlansAStatementSms(),))
    loan = make_loan(us_borrower(), "L-US")
    world.add(loan, DPD1)
    world.engine.place_hold(loan.id, Hold(HoldKind.DISPUTE, DPD1 - dt.timedelta(days=1)))

    report = world.engine.run_cycle(DPD1)

    # The core plans nothing while a hold is active; the plug-in's SMS is blocked.
    assert report.summary.blocked == 1
    (blocked,) = world.events(loan.id, EventKind.ACTION_BLOCKED)
    assert blocked.payload.rule == "acme.statement"
    assert "US-28: dispute received 2025-02-10 pending" in (blocked.payload.reasons or "")
    assert world.entry(blocked.payload.key or "") is None
    assert world.sent("sms") == []


def test_a_dispute_hold_with_an_end_reschedules_to_the_day_after() -> None:
    world = World(at=new_york(DPD1, 10), plugins=(PlansAStatementSms(),))
    loan = make_loan(us_borrower(), "L-US")
    world.add(loan, DPD1)
    end = DPD1 + dt.timedelta(days=2)
    world.engine.place_hold(loan.id, Hold(HoldKind.DISPUTE, DPD1, end))

    world.engine.run_cycle(DPD1)

    (moved,) = world.events(loan.id, EventKind.ACTION_RESCHEDULED)
    after = new_york(end + dt.timedelta(days=1), 8)  # the hold ends, then the window opens
    assert moved.payload.not_before == after


def daily_calls() -> Strategy:
    return Strategy(
        name="daily-calls",
        actions=(
            ActionRule(
                id="call.daily",
                stage="early_collection",
                channel="phone",
                template="reminder",
                every_days=1,
            ),
        ),
    )


def test_the_eighth_call_in_seven_days_is_rescheduled() -> None:
    first = dt.date(2025, 2, 20)  # DPD 10: early collection
    world = World(at=new_york(first, 10), strategy=daily_calls())
    loan = make_loan(us_borrower(), "L-US")
    world.add(loan, first)
    # The dialer reports seven unanswered calls over six days (two on the first day).
    for offset, hour in [(0, 9), (0, 15), (1, 11), (2, 11), (3, 11), (4, 11), (5, 11)]:
        day = first + dt.timedelta(days=offset)
        world.engine.record_outcome(
            loan.id,
            ContactOutcome(day, "phone", OutcomeKind.NO_ANSWER),
            at=new_york(day, hour),
        )
    seventh = first + dt.timedelta(days=6)
    world.clock.set(new_york(seventh, 10))

    report = world.engine.review(seventh)

    assert report.summary.rescheduled == 1
    (moved,) = world.events(loan.id, EventKind.ACTION_RESCHEDULED)
    assert moved.payload.channel == "phone"
    assert (moved.payload.reasons or "").startswith("US-08: 7 attempts already")
    assert "12 CFR 1006.14(b)(2)(i)(A)" in (moved.payload.citations or "")
    # The first day leaves the seven-day window the next day, at 08:00 New York time.
    assert moved.payload.not_before == new_york(seventh + dt.timedelta(days=1), 8)


def test_calls_sent_by_the_cycle_count_toward_the_seven_day_cap() -> None:
    first = dt.date(2025, 2, 20)
    world = World(at=new_york(first, 10), strategy=daily_calls())
    loan = make_loan(us_borrower(), "L-US")
    world.add(loan, first)
    # One call a day by the cycle, plus an agent's own call on the first day.
    for offset in range(6):
        day = first + dt.timedelta(days=offset)
        world.clock.set(new_york(day, 10))
        world.engine.run_cycle(day)
        if offset == 0:
            world.engine.record_outcome(
                loan.id,
                ContactOutcome(day, "phone", OutcomeKind.NO_ANSWER),
                at=new_york(day, 10).add(minutes=5),  # the outcome of the cycle's call
            )
            world.engine.record_outcome(
                loan.id,
                ContactOutcome(day, "phone", OutcomeKind.WRONG_NUMBER),
                at=new_york(day, 16),  # an agent's own call
            )
    assert len(world.sent("phone")) == 6
    seventh = first + dt.timedelta(days=6)
    world.clock.set(new_york(seventh, 10))
    report = world.engine.run_cycle(seventh)
    assert report.summary.rescheduled == 1  # 6 cycle calls + 1 agent call: this is the 8th
    assert len(world.sent("phone")) == 6


def test_a_conversation_stops_calls_for_seven_days() -> None:
    first = dt.date(2025, 2, 20)
    world = World(at=new_york(first, 10), strategy=daily_calls())
    loan = make_loan(us_borrower(), "L-US")
    world.add(loan, first)
    world.engine.run_cycle(first)
    world.engine.record_outcome(
        loan.id,
        ContactOutcome(first, "phone", OutcomeKind.HARDSHIP_STATED),
        at=new_york(first, 10).add(minutes=3),
    )
    nxt = first + dt.timedelta(days=1)
    world.clock.set(new_york(nxt, 10))
    world.engine.run_cycle(nxt)
    (moved,) = world.events(loan.id, EventKind.ACTION_RESCHEDULED)
    assert (moved.payload.reasons or "").startswith("US-09: telephone conversation on 2025-02-20")


def test_an_sms_opt_out_stops_sms_but_email_still_goes() -> None:
    world = World(at=new_york(DPD1, 10))
    loan = make_loan(us_borrower(), "L-US")
    world.add(loan, DPD1)
    world.engine.record_opt_out(loan.id, "sms", DPD1 - dt.timedelta(days=3))

    report = world.engine.run_cycle(DPD1)

    assert (report.summary.blocked, report.summary.sent) == (1, 1)
    (blocked,) = world.events(loan.id, EventKind.ACTION_BLOCKED)
    assert blocked.payload.channel == "sms"
    assert (blocked.payload.reasons or "").startswith("US-17: opted out of sms on 2025-02-08")
    assert world.sent("sms") == []
    assert world.sent("email") == [idempotency_key(loan.id, "confirm.email", DPD1)]


def test_an_opt_out_counts_however_old_it_is() -> None:
    # The rules see one day of events, but the opt-out is kept on the case.
    world = World(at=new_york(DPD1, 10), history_days=1)
    loan = make_loan(us_borrower(), "L-US")
    world.add(loan, DPD1)
    world.engine.record_opt_out(loan.id, "sms", DPD1 - dt.timedelta(days=30))

    report = world.engine.run_cycle(DPD1)

    assert (report.summary.blocked, report.summary.sent) == (1, 1)
    (blocked,) = world.events(loan.id, EventKind.ACTION_BLOCKED)
    assert blocked.payload.channel == "sms"
    assert world.sent("sms") == []


# -- templates at start-up ----------------------------------------------------------------


# (failing closed on jurisdictions, zones and packs: test_compliance_fail_closed.py)


def test_the_shipped_templates_pass_every_registered_pack() -> None:
    World(at=beijing(DPD1, 10))  # the engine lints at start-up: no error


def test_a_template_that_breaks_a_pack_is_refused_at_start_up() -> None:
    specs = [
        s
        for s in load_templates()
        if not (s.channel == "sms" and s.name == "reminder" and s.locale == "en_US")
    ]
    specs.append(
        TemplateSpec(
            name="reminder",
            channel="sms",
            locale="en_US",
            source="{{ lender_name }}: pay {{ amount_due }} by {{ due_date }}. {{ how_to_pay }}",
        )
    )
    pm = make_plugin_manager(load_entrypoints=RULES)
    with pytest.raises(ConfigurationError) as caught:
        CollectionEngine(
            pm=pm,
            storage=MemoryStore(),
            clock=FixedClock(beijing(DPD1, 10)),
            templates=TemplateCatalog(specs),
        )
    message = str(caught.value)
    assert "template 'sms/reminder/en_US': US-18" in message
    assert "opt_out_instructions" in message
    assert "sms/reminder/zh_CN" not in message
    assert pm.get_plugin(GUARD_NAME) is None  # nothing half-installed


def test_a_custom_channel_name_is_mapped_by_configuration() -> None:
    pm = make_plugin_manager(
        load_entrypoints=RULES, config={"compliance.channels": {"acme-dialer": "call"}}
    )
    engine = CollectionEngine(pm=pm, storage=MemoryStore(), clock=FixedClock(beijing(DPD1, 10)))
    assert engine.compliance is not None
    assert engine.compliance.channels["acme-dialer"] is Channel.CALL


# -- the translation -------------------------------------------------------------------


def test_template_tags_come_from_declarations_and_variables() -> None:
    spec = TemplateSpec(
        name="x",
        channel="sms",
        locale="en_US",
        source="{{ borrower_name }} owes {{ amount_due }}.\n{#- content: opt_out_instructions #}",
        tone=Tone.LEGAL_WARNING,
    )
    assert template_tags(spec) == {
        Tag.BORROWER_NAME,
        Tag.DEBT_DETAILS,
        Tag.BALANCE,
        Tag.OPT_OUT_INSTRUCTIONS,
        Tag.LEGAL_ACTION,
    }


def test_history_outcomes_complete_the_attempt_they_belong_to() -> None:
    day = dt.date(2025, 3, 3)
    zone = "Asia/Shanghai"
    sent_at = beijing(day, 10)
    history = [
        make_event(
            ActionSent(
                key="k1",
                channel="phone",
                rule="call",
                attempts=1,
                contact="+86*********00",
                place="mobile",
            ),
            "L",
            day,
            at=sent_at,
        ),
        make_event(
            ContactOutcomeRecorded(channel="phone", outcome="right_party_contact"),
            "L",
            day,
            at=sent_at.add(minutes=2),
        ),
        make_event(ContactOutcomeRecorded(channel="phone", outcome="no_answer"), "L", day),
        make_event(OptedOut(channel="sms"), "L", day),
        make_event(EventKind.ACTION_SENT, "L", day, at=sent_at, channel="crm"),  # no medium
    ]
    call, agent_call, opt_out = contact_events(history, zone)
    assert (call.channel, call.address, call.place) == (Channel.CALL, "+86*********00", "mobile")
    assert call.connected
    assert call.conversation
    assert agent_call.at == beijing(day, 0)
    assert not agent_call.conversation
    assert opt_out.opt_out is not None
    assert opt_out.opt_out.channel is Channel.SMS


def test_holds_and_case_flags_become_compliance_flags() -> None:
    at = beijing(DPD1, 10)
    case = Case(
        loan_id="L",
        holds=(
            Hold(HoldKind.BANKRUPTCY, DPD1 - dt.timedelta(days=5)),
            Hold(HoldKind.BREATHING_SPACE, DPD1, DPD1 + dt.timedelta(days=59)),
            Hold(HoldKind.DISPUTE, dt.date(2024, 1, 1), dt.date(2024, 2, 1)),  # over
        ),
        flags=frozenset({"cease_communication", "vulnerable"}),
    )
    flags = borrower_flags(case, "Asia/Shanghai", DPD1, at)
    assert flags.bankruptcy is not None
    assert flags.bankruptcy.stay_lifted_at is None
    assert flags.moratorium is not None
    assert flags.moratorium.end == beijing(DPD1 + dt.timedelta(days=60), 0)
    assert flags.dispute is None
    assert flags.cease_received_at == at
    assert flags.vulnerable
    assert not flags.lost_contact
    with pytest.raises(ConfigurationError, match="cease_communication:YYYY-MM-DD"):
        borrower_flags(attrs.evolve(case, flags={"cease_communication:soon"}), "UTC", DPD1, at)
