"""British visits (UK CONC 7.9: adequate notice before a visit). The engine dispatches
the visit action to the ``visit`` channel, which posts the notice letter through its
notice channel and then keeps the request: that dispatch is the notice, recorded as
the action's ``ACTION_SENT`` and the request's ``requested_at``. The visit itself is
planned and checked in only from the notice plus the UK pack's three days; a visit
with no recorded notice, or through a channel that posts none, is never planned."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pendulum
import pytest
from loancollect_letters.channel import LetterChannel
from loancollect_visits import (
    FieldDesk,
    Plan,
    Site,
    SiteTable,
    VisitBook,
    VisitChannel,
    VisitPlanner,
    VisitPolicy,
    VisitRequest,
    VisitRules,
    Window,
    token_digest,
)
from loancollect_visits.demo import VisitsDemo
from loancollect_visits.model import Agent, Unplanned
from loancollect_visits.positions import from_osmand
from pypdf import PdfReader
from visits_helpers import near

from loancollect import EventKind, hookimpl, make_plugin_manager
from loancollect.demo import Behaviour, DemoLoan, SimulatedClock, World
from loancollect.demo_parts import DemoRun, DemoSetup
from loancollect.domain.case import Case
from loancollect.domain.events import ActionBlocked, ActionFailed, ActionSent
from loancollect.domain.intake import GeoPoint
from loancollect.domain.loans import ContactKind, ContactPoint, Loan
from loancollect.domain.money import Money
from loancollect.domain.strategy import PlannedAction, Strategy, Tone, idempotency_key
from loancollect.engine import CollectionEngine, CycleConfig
from loancollect.ports import CAP_IDEMPOTENT, CAP_VISIT_NOTICE
from loancollect.templates import format_date
from loancollect.testing import MemoryStore, RecordingChannel, make_action, make_borrower, make_loan

LONDON = GeoPoint(lat=Decimal("51.5072"), lon=Decimal("-0.1276"))
NOTICE_DAY = dt.date(2025, 3, 10)  # a Monday (GMT)
NOTICE = pendulum.datetime(2025, 3, 10, 10, tz="Europe/London")
SERVICE = dt.timedelta(minutes=30)
TOKEN = "s3cret-london-1"


def gb_loan(n: int) -> Loan:
    borrower = make_borrower(
        id=f"B-{n}",
        name="Oliver Hughes",
        jurisdiction="GB",
        time_zone="Europe/London",
        locale="en_GB",
        contact_points=(
            ContactPoint(ContactKind.PHONE, "+44 20 7946 0958", label="mobile"),
            ContactPoint(ContactKind.ADDRESS, f"{n} High Street, London", label="home"),
        ),
        national_id=None,
    )
    return make_loan(id=f"L-{n}", borrower=borrower, principal=Money("20000.00", "GBP"))


class PlansAVisit:
    """The strategy's visit, on the notice day only (its dispatch is the notice)."""

    @hookimpl
    def loancollect_plan_actions(self, loan: Loan, case: Case, as_of: dt.date) -> list[object]:
        if as_of != NOTICE_DAY:
            return []
        return [
            PlannedAction(
                loan_id=loan.id,
                rule_id="further.visit",
                stage=case.stage,
                channel="visit",
                template="visit_notice",
                tone=Tone.FIRM,
                as_of=as_of,
                locale=loan.borrower.locale,
                idempotency_key=idempotency_key(loan.id, "further.visit", as_of),
                contact=loan.borrower.contacts(ContactKind.ADDRESS)[0],
            )
        ]


def site(n: int) -> Site:
    return Site(point=near(LONDON, f"{n * 0.004:.3f}", f"{n * 0.005:.3f}"), address=f"{n} High St")


def agent() -> Agent:
    return Agent(
        id="london-1",
        base=LONDON,
        zone="Europe/London",
        shift_start=dt.time(9),
        shift_end=dt.time(18),
        languages=frozenset({"en"}),
        max_visits=6,
        device="phone-london-1",
    )


def gb_engine(loans: int, channel: Any, clock: SimulatedClock | None = None) -> CollectionEngine:
    built = CollectionEngine(
        pm=make_plugin_manager(load_entrypoints=["rules-uk"], plugins=[PlansAVisit()]),
        storage=MemoryStore(),
        clock=clock or SimulatedClock(NOTICE),
        channels={"visit": channel},
        config=CycleConfig(strategy=Strategy(name="visits-only"), dispatch_workers=1),
    )
    built.add_loans([gb_loan(n) for n in range(1, loans + 1)], review_on=NOTICE_DAY)
    return built


def pdf_text(path: Path) -> str:
    """The text of a PDF, white space collapsed."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(path).pages).split())


def sites(*numbers: int) -> SiteTable:
    return SiteTable({f"L-{n}": site(n) for n in numbers})


def events(built: CollectionEngine, kind: EventKind, *numbers: int) -> list[object]:
    with built.storage() as uow:
        return [e.payload for n in numbers for e in uow.events.stream(f"L-{n}") if e.kind is kind]


@pytest.fixture(scope="module")
def letters(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the notice letters of :func:`noticed` are posted."""
    return tmp_path_factory.mktemp("letters")


@pytest.fixture(scope="module")
def noticed(letters: Path) -> tuple[CollectionEngine, tuple[VisitRequest, ...]]:
    """Three London loans whose visit notice letter went out on Monday at 10:00."""
    book = VisitBook()
    channel = VisitChannel(
        book=book, locate=sites(1, 2, 3), now=lambda: NOTICE, notice=LetterChannel(letters)
    )
    built = gb_engine(3, channel)
    assert built.run_cycle(NOTICE_DAY).summary.sent == 3
    requests = book.open(before=NOTICE.add(seconds=1))
    assert {r.requested_at for r in requests} == {NOTICE}
    return built, requests


def test_the_notice_letter_is_posted_before_the_request_is_kept(
    noticed: tuple[CollectionEngine, tuple[VisitRequest, ...]], letters: Path
) -> None:
    built, requests = noticed
    pdfs = sorted(letters.glob("*.pdf"))
    assert len(pdfs) == len(requests) == 3
    for pdf in pdfs:
        text = pdf_text(pdf)
        assert "Notice of visit" in text
        assert "a member of our staff may visit you" in text
        assert format_date(NOTICE_DAY, "en_GB") in text  # the letter's date: the notice day
    sent = events(built, EventKind.ACTION_SENT, 1, 2, 3)
    assert {s.notice for s in sent if isinstance(s, ActionSent)} == {CAP_VISIT_NOTICE}
    (one, *_) = [s for s in sent if isinstance(s, ActionSent)]
    assert dict(one.evidence)["notice_channel"] == "letter"
    assert dict(one.evidence)["notice_id"].startswith("LTR-")


def test_a_british_visit_through_a_channel_that_posts_no_notice_is_blocked_and_never_made() -> None:
    book = VisitBook()
    channel = VisitChannel(book=book, locate=sites(1, 2), now=lambda: NOTICE)
    assert CAP_VISIT_NOTICE not in channel.capabilities
    built = gb_engine(2, channel)
    summary = built.run_cycle(NOTICE_DAY).summary
    assert (summary.sent, summary.blocked) == (0, 2)
    assert book.open(before=NOTICE.add(days=30)) == ()
    blocked = events(built, EventKind.ACTION_BLOCKED, 1, 2)
    assert len(blocked) == 2
    assert all(
        isinstance(b, ActionBlocked) and "UK-08: no notice of the visit was given" in b.reasons
        for b in blocked
    )
    # A request the host keeps for that action anyway is never planned: no notice.
    request = _request(1)
    plan = _plan(built, NOTICE_DAY + dt.timedelta(days=7), [request])
    assert plan.stops == ()
    assert "UK-08: no notice of the visit was given" in plan.unplanned[0].reason


@pytest.mark.parametrize(
    ("mode", "status"), [("retryable", "failed_retryable"), ("permanent", "failed_permanent")]
)
def test_a_notice_that_is_not_posted_keeps_no_request_and_records_no_notice(
    mode: str, status: str
) -> None:
    post = RecordingChannel("letter", capabilities=frozenset({CAP_IDEMPOTENT}))
    post.fail_always(mode)
    book = VisitBook()
    channel = VisitChannel(book=book, locate=sites(1), now=lambda: NOTICE, notice=post)
    built = gb_engine(1, channel)
    assert built.run_cycle(NOTICE_DAY).summary.sent == 0
    assert {d.key for d in post.deliveries} == {
        idempotency_key("L-1", "further.visit", NOTICE_DAY) + ":notice"
    }
    assert book.open(before=NOTICE.add(days=30)) == ()
    assert events(built, EventKind.ACTION_SENT, 1) == []
    failures = events(built, EventKind.ACTION_FAILED, 1)
    assert failures
    for failed in failures:
        assert isinstance(failed, ActionFailed)
        assert failed.status == status
        assert "the visit notice was not sent (letter)" in failed.detail
    # With no notice recorded, no visit is ever planned for that action.
    plan = _plan(built, NOTICE_DAY + dt.timedelta(days=7), [_request(1)])
    assert plan.stops == ()
    assert "UK-08: no notice of the visit was given" in plan.unplanned[0].reason


def _request(n: int) -> VisitRequest:
    """A request for loan ``n``'s strategy visit, as if the channel had kept it."""
    key = idempotency_key(f"L-{n}", "further.visit", NOTICE_DAY)
    return VisitRequest(
        key=key,
        loan_id=f"L-{n}",
        requested_at=NOTICE,
        locale="en_GB",
        site=site(n),
        action=make_action(
            loan_id=f"L-{n}",
            channel="visit",
            rule_id="further.visit",
            template="visit_notice",
            as_of=NOTICE_DAY,
            idempotency_key=key,
            locale="en_GB",
        ),
    )


def _rules(built: CollectionEngine, **kwargs: Any) -> VisitRules:
    return VisitRules(hook=built.pm.hook.loancollect_check_contact, storage=built.storage, **kwargs)


def _plan(built: CollectionEngine, day: dt.date, requests: Any, **kwargs: Any) -> Plan:
    planner = VisitPlanner(rules=_rules(built, **kwargs), agents=[agent()], seconds=0.05)
    return planner.plan(day, requests)


# The pack alone (the plug-in's own lead time set to none): UK-08 decides.
PACK_ONLY = {"policies": {"GB": VisitPolicy(notice=dt.timedelta(0), hold_on_vulnerable=True)}}


@pytest.mark.parametrize("policies", [{}, PACK_ONLY], ids=["default policy", "pack alone"])
def test_no_british_visit_is_planned_in_the_two_days_after_the_notice(
    noticed: tuple[CollectionEngine, tuple[VisitRequest, ...]], policies: dict[str, Any]
) -> None:
    built, requests = noticed
    for days in (1, 2):
        plan = _plan(built, NOTICE_DAY + dt.timedelta(days=days), requests, **policies)
        assert plan.stops == ()
        assert all(u.retry for u in plan.unplanned)
        if policies:
            assert all(
                "UK-08: visit notice given less than 3 days" in u.reason for u in plan.unplanned
            )


@pytest.mark.parametrize("policies", [{}, PACK_ONLY], ids=["default policy", "pack alone"])
def test_british_visits_are_planned_from_three_days_after_the_notice(
    noticed: tuple[CollectionEngine, tuple[VisitRequest, ...]], policies: dict[str, Any]
) -> None:
    built, requests = noticed
    plan = _plan(built, NOTICE_DAY + dt.timedelta(days=3), requests, **policies)
    assert len(plan.stops) == 3
    for stop in plan.stops:
        assert stop.window.start == NOTICE.add(days=3)  # Thursday 10:00, not the shift's 09:00
        assert stop.arrive >= NOTICE.add(days=3)
    # The third day's window opens at the notice's hour: a day without it has none before.
    window = _rules(built, **policies).window(
        requests[0], NOTICE_DAY + dt.timedelta(days=3), SERVICE
    )
    assert isinstance(window, Window)
    assert window.start == NOTICE.add(days=3)


def test_the_check_in_is_refused_before_the_third_day_and_accepted_after(
    noticed: tuple[CollectionEngine, tuple[VisitRequest, ...]],
) -> None:
    built, requests = noticed
    rules = _rules(built)
    plan = _plan(built, NOTICE_DAY + dt.timedelta(days=3), requests)
    book = VisitBook()
    book.planned(plan)
    stop = plan.stops[0]
    now = stop.arrive
    desk = FieldDesk(
        book=book,
        rules=rules,
        intake=built.intake,
        agents=[agent()],
        tokens={"phone-london-1": token_digest(TOKEN)},
        now=lambda: now,
    )

    def check_in(at: dt.datetime) -> Any:
        position = from_osmand(
            {
                "id": "phone-london-1",
                "lat": str(stop.request.site.point.lat),
                "lon": str(stop.request.site.point.lon),
                "accuracy": "10",
                "timestamp": str(int(at.timestamp())),
                "visit": stop.visit_id,
                "event": "checkin",
            }
        )
        return desk.position(position, agent())

    too_soon = check_in(NOTICE.add(days=3, minutes=-30))  # 09:30 on the third day
    assert too_soon.status == 409
    assert any("UK-08" in r for r in too_soon.body["reasons"])
    accepted = check_in(stop.arrive)
    assert accepted.status == 201, accepted.body


def test_a_british_visit_with_no_recorded_notice_is_never_planned(
    noticed: tuple[CollectionEngine, tuple[VisitRequest, ...]],
) -> None:
    built, _ = noticed
    # A request the engine never dispatched (nothing recorded): a week later, still no.
    unsent = VisitRequest(
        key="L-1:host.visit:2025-03-10",
        loan_id="L-1",
        requested_at=NOTICE,
        locale="en_GB",
        site=site(1),
        action=make_action(
            loan_id="L-1",
            channel="visit",
            rule_id="host.visit",
            template="visit_notice",
            as_of=NOTICE_DAY,
            idempotency_key="L-1:host.visit:2025-03-10",
            locale="en_GB",
        ),
    )
    plan = _plan(built, NOTICE_DAY + dt.timedelta(days=7), [unsent])
    assert plan.stops == ()
    (refused,) = plan.unplanned
    assert isinstance(refused, Unplanned)
    assert "UK-08: no notice of the visit was given" in refused.reason


def test_the_demo_part_makes_british_visits_from_the_third_day(tmp_path: Any) -> None:
    clock = SimulatedClock(NOTICE)
    setup = DemoSetup(
        out=tmp_path,
        now=clock.now,
        pm=make_plugin_manager(load_entrypoints=["letter"]),
        seed=5,
        first=NOTICE_DAY,
        days=4,
    )
    part = VisitsDemo(iterations=300, sheets_days=0)
    built = gb_engine(4, part.channels(setup)["visit"], clock)
    with built.storage() as uow:
        loans = [uow.loans.get(f"L-{n}") for n in range(1, 5)]
    portfolio = tuple(
        DemoLoan(loan=loan, behaviour=Behaviour.PROMISER, trouble_from=1, delay_days=0)
        for loan in loans
        if loan is not None
    )
    run = DemoRun(
        setup=setup,
        engine=built,
        storage=built.storage,
        clock=clock,
        world=World(list(portfolio), seed=5),
        portfolio=portfolio,
    )
    part.start(run)
    assert built.run_cycle(NOTICE_DAY).summary.sent == 4  # the notices
    for days in (1, 2):
        part.after_cycle(run, NOTICE_DAY + dt.timedelta(days=days))
        assert part.visits == 0
    assert part.unplanned == 8  # four requests, refused on each of the two days
    # Each visit's notice letter is in the demo's letters folder, dated the notice day.
    pdfs = sorted((tmp_path / "letters").glob("*.pdf"))
    assert len(pdfs) == 4
    assert all(
        "Notice of visit" in " ".join(p.extract_text() for p in PdfReader(f).pages) for f in pdfs
    )
    part.after_cycle(run, NOTICE_DAY + dt.timedelta(days=3))
    assert part.visits == 4
    assert part.refused == 0
    with built.storage() as uow:
        outcomes = [
            e
            for n in range(1, 5)
            for e in uow.events.stream(f"L-{n}")
            if e.kind is EventKind.CONTACT_OUTCOME
        ]
    assert len(outcomes) >= 4


def test_a_visit_at_the_very_instant_of_its_claimed_notice_is_not_taken_for_the_notice(
    noticed: tuple[CollectionEngine, tuple[VisitRequest, ...]],
) -> None:
    built, _ = noticed
    rules = _rules(built, **PACK_ONLY)
    key = "L-1:host.visit:2025-03-10"  # never dispatched: no notice recorded
    made = _request(1)
    request = attrs.evolve(made, key=key, action=attrs.evolve(made.action, idempotency_key=key))
    facts = rules.facts("L-1", NOTICE_DAY)
    assert facts is not None
    found = rules.objections(request, request.requested_at, facts, as_of=NOTICE_DAY)
    assert "UK-08: no notice of the visit was given" in found
