"""Field visits under the UK rules (CONC 7.9: adequate notice before a visit): the
dispatch of a visit action through a channel that delivers the written notice
(``CAP_VISIT_NOTICE``) is the visit's notice and goes out; through any other channel
it is a visit without notice and is blocked. The visit itself, judged later through
``loancollect_check_contact``, is allowed only from the recorded notice plus the
pack's notice period, and never without a recorded notice. Every other rule still
applies at the door."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs
import pendulum
import pytest

from loancollect import (
    Borrower,
    ContactKind,
    ContactPoint,
    EventKind,
    Loan,
    Money,
    PartyKind,
    hookimpl,
    make_plugin_manager,
)
from loancollect.domain.case import Case
from loancollect.domain.commands import SetFlag
from loancollect.domain.errors import ValidationError
from loancollect.domain.events import ActionBlocked, ActionSent, new_event
from loancollect.domain.strategy import PlannedAction, Strategy, Tone, idempotency_key
from loancollect.engine import CollectionEngine, CycleConfig
from loancollect.ports import CAP_IDEMPOTENT, CAP_VISIT_NOTICE
from loancollect.registry import ContactViolation
from loancollect.testing import FixedClock, MemoryStore, RecordingChannel

DPD1 = dt.date(2025, 2, 11)  # a Tuesday; the first instalment fell due the day before
NOTICE = pendulum.datetime(2025, 2, 11, 10, tz="Europe/London")
RULE = "acme.visit"


def gb_loan(loan_id: str = "L-GB", *, place: str = "home") -> Loan:
    borrower = Borrower(
        id=f"B-{loan_id}",
        kind=PartyKind.INDIVIDUAL,
        name="Oliver Hughes",
        jurisdiction="GB",
        time_zone="Europe/London",
        locale="en_GB",
        contact_points=(
            ContactPoint(ContactKind.PHONE, "+44 20 7946 0958", label="mobile"),
            ContactPoint(ContactKind.ADDRESS, "1 High Street, London", label=place),
        ),
    )
    return Loan.create(
        id=loan_id,
        borrower=borrower,
        principal=Money("12000", "GBP"),
        annual_rate=Decimal("0.12"),
        term=12,
        disbursement_date=dt.date(2025, 1, 10),
    )


def visit_action(loan: Loan, as_of: dt.date = DPD1) -> PlannedAction:
    return PlannedAction(
        loan_id=loan.id,
        rule_id=RULE,
        stage="early_collection",
        channel="visit",
        template="visit_notice",
        tone=Tone.FIRM,
        as_of=as_of,
        locale=loan.borrower.locale,
        idempotency_key=idempotency_key(loan.id, RULE, as_of),
        contact=loan.borrower.contacts(ContactKind.ADDRESS)[0],
    )


class PlansAVisit:
    """A plug-in planning one field visit on the first day (its notice goes out then)."""

    @hookimpl
    def loancollect_plan_actions(self, loan: Loan, case: Case, as_of: dt.date) -> list[object]:
        return [visit_action(loan, as_of)] if as_of == DPD1 else []


class World:
    """An engine with every rule pack and only the plug-in's visit action planned.

    :param notice: the visit channel delivers the written notice (``CAP_VISIT_NOTICE``).
    """

    def __init__(self, *loans: Loan, notice: bool = True) -> None:
        self.pm = make_plugin_manager(
            load_entrypoints=["rules-cn", "rules-us", "rules-uk", "rules-eu"],
            plugins=(PlansAVisit(),),
        )
        self.store = MemoryStore()
        caps = {CAP_IDEMPOTENT, CAP_VISIT_NOTICE} if notice else {CAP_IDEMPOTENT}
        self.visits = RecordingChannel("visit", capabilities=frozenset(caps))
        self.engine = CollectionEngine(
            pm=self.pm,
            storage=self.store,
            clock=FixedClock(NOTICE),
            channels={"visit": self.visits},
            config=CycleConfig(strategy=Strategy(name="none"), history_days=400),
        )
        self.engine.add_loans(loans, review_on=DPD1)

    def door(
        self,
        loan: Loan,
        at: dt.datetime,
        *,
        action: PlannedAction | None = None,
        template: str | None = "door_script",
        **notice: dt.datetime | None,
    ) -> list[ContactViolation]:
        """Every objection to the visit itself at ``at``: an agent at the door, with the
        door script (identity verified before any debt detail), or with ``template``
        (``None``: the action's own)."""
        day = pendulum.instance(at).in_timezone("Europe/London").date()
        with self.store() as uow:
            case = uow.cases.get(loan.id)
            history = uow.events.recent(loan.id, day - dt.timedelta(days=90))
        assert case is not None
        return [
            v
            for found in self.pm.hook.loancollect_check_contact(
                action=attrs.evolve(
                    action or visit_action(loan),
                    template=template or (action or visit_action(loan)).template,
                ),
                loan=loan,
                case=case,
                as_of=day,
                at=at,
                history=history,
                **notice,
            )
            for v in found
        ]

    def events(self, loan_id: str, kind: EventKind) -> list[object]:
        with self.store() as uow:
            return [e.payload for e in uow.events.stream(loan_id) if e.kind is kind]


def _ids(found: list[ContactViolation]) -> set[str]:
    return {v.rule_id for v in found}


@pytest.fixture(scope="module")
def world() -> World:
    built = World(gb_loan())
    report = built.engine.run_cycle(DPD1)
    assert report.summary.sent == 1
    return built


def test_the_dispatch_of_a_british_visit_action_is_its_notice_and_goes_out(world: World) -> None:
    assert [d.key for d in world.visits.deliveries] == [idempotency_key("L-GB", RULE, DPD1)]
    (sent,) = world.events("L-GB", EventKind.ACTION_SENT)
    assert isinstance(sent, ActionSent)
    assert sent.channel == "visit"
    assert sent.notice == CAP_VISIT_NOTICE  # the record of a delivered notice
    assert world.events("L-GB", EventKind.ACTION_BLOCKED) == []


def test_a_british_visit_action_through_a_channel_that_gives_no_notice_is_blocked() -> None:
    built = World(gb_loan(), notice=False)
    report = built.engine.run_cycle(DPD1)
    assert (report.summary.sent, report.summary.blocked) == (0, 1)
    assert built.visits.deliveries == []
    (held,) = built.events("L-GB", EventKind.ACTION_BLOCKED)
    assert isinstance(held, ActionBlocked)
    assert "UK-08: no notice of the visit was given" in held.reasons
    # Nor can anyone make that visit later: nothing records a notice.
    assert _ids(built.door(gb_loan(), NOTICE.add(days=7), visit_notice_at=NOTICE)) == {"UK-08"}


def test_a_dispatch_recorded_without_a_delivered_notice_counts_as_none() -> None:
    # A visit action sent where no pack asks for notice (a US borrower), then judged
    # by a caller under rules that do: the request alone was never a notice.
    built = World(gb_loan())
    built.engine.run_cycle(DPD1)
    loan = gb_loan()
    with built.store() as uow:
        history = tuple(
            new_event(
                attrs.evolve(ActionSent.parse(e), notice=""), loan_id=e.loan_id, on=e.on, at=e.at
            )
            if e.kind is EventKind.ACTION_SENT
            else e
            for e in uow.events.recent(loan.id, DPD1)
        )
        case = uow.cases.get(loan.id)
    assert case is not None
    found = [
        v
        for result in built.pm.hook.loancollect_check_contact(
            action=attrs.evolve(visit_action(loan), template="door_script"),
            loan=loan,
            case=case,
            as_of=DPD1 + dt.timedelta(days=7),
            at=NOTICE.add(days=7),
            history=history,
            visit_notice_at=NOTICE,
        )
        for v in result
    ]
    assert _ids(found) == {"UK-08"}
    assert found[0].detail == "no notice of the visit was given"


def test_a_visit_three_days_after_the_recorded_notice_is_allowed(world: World) -> None:
    loan = gb_loan()
    three_days = NOTICE.add(days=3)  # Friday 10:00 in London
    assert world.door(loan, three_days, visit_notice_at=NOTICE) == []
    # The recorded dispatch is the notice: a caller that names no instant gets it too.
    assert world.door(loan, three_days) == []


def test_a_visit_two_days_after_the_notice_waits_until_the_third_day(world: World) -> None:
    found = world.door(gb_loan(), NOTICE.add(days=2), visit_notice_at=NOTICE)
    assert _ids(found) == {"UK-08"}
    assert {v.reschedule_at for v in found} == {NOTICE.add(days=3)}
    assert "visit notice given less than 3 days" in found[0].detail


def test_a_visit_with_no_recorded_notice_is_refused_whatever_the_caller_says(
    world: World,
) -> None:
    loan = gb_loan()
    # An action never dispatched: no notice was recorded for it.
    other = visit_action(loan, DPD1 + dt.timedelta(days=1))
    week_later = NOTICE.add(days=7)
    claims: list[dict[str, Any]] = [
        {},
        {"visit_notice_at": NOTICE},
        {"visit_notice_at": NOTICE.add(days=-30)},
    ]
    for claim in claims:
        found = world.door(loan, week_later, action=other, **claim)
        assert _ids(found) == {"UK-08"}, claim
        assert found[0].reschedule_at is None
        assert found[0].detail == "no notice of the visit was given"


def test_a_recorded_notice_cannot_be_moved_earlier_nor_passed_off_as_the_notice(
    world: World,
) -> None:
    loan = gb_loan()
    # A claim of an earlier notice does not beat the record.
    early = world.door(loan, NOTICE.add(days=2), visit_notice_at=NOTICE.add(days=-10))
    assert {v.reschedule_at for v in early} == {NOTICE.add(days=3)}
    # Once the dispatch is recorded, "notice is given now" is the visit, judged as such.
    now = NOTICE.add(days=1)
    found = world.door(loan, now, visit_notice_at=now)
    assert {v.reschedule_at for v in found} == {now.add(days=3)}
    # A later claim than the record counts from the later instant.
    later = world.door(loan, NOTICE.add(days=3), visit_notice_at=NOTICE.add(days=1))
    assert {v.reschedule_at for v in later} == {NOTICE.add(days=4)}


def test_every_other_rule_still_applies_at_the_door() -> None:
    built = World(gb_loan())
    built.engine.run_cycle(DPD1)
    loan = gb_loan()
    late_evening = pendulum.datetime(2025, 2, 14, 22, tz="Europe/London")
    assert "UK-04-WINDOW" in _ids(built.door(loan, late_evening, visit_notice_at=NOTICE))
    built.engine.apply(loan.id, SetFlag(flag="vulnerable", reason="bereavement"), on=DPD1)
    found = built.door(loan, NOTICE.add(days=3), visit_notice_at=NOTICE)
    assert "UK-08" in _ids(found)
    assert all(v.reschedule_at is None for v in found)
    assert "vulnerable" in " ".join(v.detail for v in found)


def test_no_notice_goes_to_a_vulnerable_customer_or_a_workplace_without_consent() -> None:
    vulnerable, work = gb_loan("L-V"), gb_loan("L-W", place="work")
    built = World(vulnerable, work)
    built.engine.apply("L-V", SetFlag(flag="vulnerable", reason="illness"), on=DPD1)
    report = built.engine.run_cycle(DPD1)
    assert (report.summary.sent, report.summary.blocked) == (0, 2)
    assert built.visits.deliveries == []
    (held,) = built.events("L-V", EventKind.ACTION_BLOCKED)
    assert isinstance(held, ActionBlocked)
    assert "UK-08: no visit to a customer known to be particularly vulnerable" in held.reasons
    (elsewhere,) = built.events("L-W", EventKind.ACTION_BLOCKED)
    assert isinstance(elsewhere, ActionBlocked)
    assert "UK-08: no visit at place 'work' without express consent" in elsewhere.reasons


def test_a_naive_notice_instant_is_refused_naming_the_field(world: World) -> None:
    with pytest.raises(ValidationError, match="visit_notice_at"):
        world.door(gb_loan(), NOTICE.add(days=3), visit_notice_at=dt.datetime(2025, 2, 11, 10))


def test_at_the_door_debt_details_wait_for_identity_so_the_notice_letter_is_no_door_script(
    world: World,
) -> None:
    loan = gb_loan()
    # the notice letter's content, no identity step
    found = world.door(loan, NOTICE.add(days=3), template=None, visit_notice_at=NOTICE)
    assert _ids(found) == {"UK-07"}


def test_a_visit_whose_script_the_catalog_does_not_hold_is_not_made(world: World) -> None:
    loan = gb_loan()
    found = world.door(loan, NOTICE.add(days=3), template="improvised", visit_notice_at=NOTICE)
    (undecided,) = found
    assert undecided.rule_id == "compliance-undecided"
    assert undecided.reschedule_at is None
    assert "'improvised'" in undecided.detail
