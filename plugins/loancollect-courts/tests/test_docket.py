"""The docket: a test per transition of every route, a test per period that moves a
matter when it is missed, and deadlines over court holidays."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest
from loancollect_courts.docket import (
    CN_LITIGATION,
    GB_DEBT_CLAIM,
    ROUTES,
    US_COLLECTION_SUIT,
    Deadline,
    Docket,
    Route,
    Transition,
    deadline_after,
    replay,
)

from loancollect.domain.errors import ValidationError
from loancollect.domain.events import LegalMatterAdvanced, LegalMatterOpened, new_event
from loancollect.domain.legal import court_calendar

D = dt.date
CN = court_calendar("CN")
ENG = court_calendar("GB-ENG")
US = court_calendar("US")
assert CN is not None
assert ENG is not None
assert US is not None
CALENDARS = {"CN": CN, "GB-ENG": ENG, "US": US}
DAY = D(2026, 3, 2)  # a Monday, a working day everywhere


def at(route: Route, state: str, on: dt.date = DAY) -> Docket:
    """A docket of ``route`` that entered ``state`` on ``on``."""
    calendar = CALENDARS[route.jurisdiction]
    opened = Docket.open("M1", route, on, calendar)
    period = route.periods.get(state)
    deadline = None
    if period is not None:
        deadline = Deadline(period=period, started=on, due=deadline_after(on, period, calendar))
    return attrs.evolve(opened, state=state, since=on, deadline=deadline)


ALL = [
    pytest.param(r, t, s, id=f"{r.name}:{s}-{t.step}->{t.target}")
    for r in ROUTES.values()
    for t in r.transitions
    for s in sorted(t.sources)
]


@pytest.mark.parametrize(("route", "transition", "source"), ALL)
def test_each_transition_moves_the_matter_to_its_target(
    route: Route, transition: Transition, source: str
) -> None:
    calendar = CALENDARS[route.jurisdiction]
    docket = at(route, source)
    after = docket.advance(transition.step, DAY, calendar, note="n")
    assert after.state == transition.target
    assert after.log[-1].step == transition.step
    assert after.since == DAY


MOVING = [
    pytest.param(r, state, p, id=f"{r.name}:{state}")
    for r in ROUTES.values()
    for state, p in r.periods.items()
    if p.on_expiry is not None
]


@pytest.mark.parametrize(("route", "state", "period"), MOVING)
def test_each_missed_period_moves_the_matter_the_day_after_its_last_day(
    route: Route, state: str, period: object
) -> None:
    calendar = CALENDARS[route.jurisdiction]
    docket = at(route, state)
    assert docket.deadline is not None
    due = docket.deadline.due
    assert docket.lapse(due, calendar).state == state  # the last day is still in time
    moved = docket.lapse(due + dt.timedelta(days=1), calendar)
    assert moved.state == docket.deadline.period.on_expiry
    assert moved.log[-1].step == "period_ended"


def test_a_court_target_period_moves_nothing() -> None:
    docket = at(CN_LITIGATION, "po_filed")
    assert docket.deadline is not None
    assert docket.lapse(docket.deadline.due + dt.timedelta(days=30), CN).state == "po_filed"


def test_payment_order_objection_period_ends_after_national_day() -> None:
    # Issued 20 Sep 2024: + 15 days = 5 Oct, in the National Day holiday -> 8 Oct.
    docket = at(CN_LITIGATION, "po_issued", D(2024, 9, 20))
    assert docket.deadline is not None
    assert docket.deadline.due == D(2024, 10, 8)
    assert docket.advance("objection_filed", D(2024, 10, 8), CN).state == "po_objected"
    with pytest.raises(ValidationError, match="po_effective"):
        docket.advance("objection_filed", D(2024, 10, 9), CN)
    assert docket.advance("enforcement_applied", D(2024, 10, 9), CN).state == "enforcement"


def test_enforcement_application_out_of_time_after_two_years() -> None:
    docket = at(CN_LITIGATION, "judgment_effective", D(2024, 2, 29))
    assert docket.deadline is not None
    # No 29 Feb in 2026: the 28th, a Saturday but a make-up working day (调休) in 2026.
    assert docket.deadline.due == D(2026, 2, 28)
    assert docket.advance("enforcement_applied", D(2026, 2, 28), CN).state == "enforcement"
    with pytest.raises(ValidationError, match="enforcement_out_of_time"):
        docket.advance("enforcement_applied", D(2026, 3, 1), CN)


def test_letter_of_claim_response_period_over_christmas_and_no_claim_before_it_ends() -> None:
    docket = at(GB_DEBT_CLAIM, "letter_sent", D(2026, 11, 25))
    assert docket.deadline is not None
    assert docket.deadline.due == D(2026, 12, 29)  # 25 Dec + weekend + Boxing Day substitute
    with pytest.raises(ValidationError, match="letter_sent"):
        docket.advance("claim_issued", D(2026, 12, 29), ENG)
    assert docket.advance("claim_issued", D(2026, 12, 30), ENG).state == "claim_issued"


def test_no_default_judgment_in_the_us_without_the_scra_check() -> None:
    docket = at(US_COLLECTION_SUIT, "answer_period_over")
    with pytest.raises(ValidationError, match="scra_checked"):
        docket.advance("default_judgment", DAY, US)
    checked = docket.advance("scra_checked", DAY, US)
    assert checked.advance("default_judgment", DAY, US).state == "judgment"


def test_a_step_before_the_last_move_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"docket\.on"):
        at(CN_LITIGATION, "filed").advance("judgment", DAY - dt.timedelta(days=1), CN)


def test_closed_matters_allow_nothing() -> None:
    docket = at(CN_LITIGATION, "closed_paid")
    assert docket.closed
    assert docket.allowed() == ()


def test_every_route_reaches_a_terminal_state_from_every_state() -> None:
    for route in ROUTES.values():
        for state in route.states() - route.terminal:
            assert route.steps_from(state) or state in {
                p.on_expiry for p in route.periods.values()
            }, f"{route.name}: {state} is a dead end"


def test_replay_rebuilds_the_docket_from_the_case_events() -> None:
    events = [
        new_event(
            LegalMatterOpened(matter="M1", route="cn_litigation"), loan_id="L", on=D(2024, 9, 2)
        ),
        new_event(
            LegalMatterAdvanced(matter="M1", step="demand_letter_sent"),
            loan_id="L",
            on=D(2024, 9, 2),
        ),
        new_event(
            LegalMatterAdvanced(matter="M1", step="payment_order_filed"),
            loan_id="L",
            on=D(2024, 9, 12),
        ),
        new_event(
            LegalMatterAdvanced(matter="M1", step="po_issued"), loan_id="L", on=D(2024, 9, 20)
        ),
    ]
    docket = replay(events, CN)
    assert docket is not None
    assert docket.state == "po_issued"
    # 9 Sep: the 7-day term of the demand letter ended -> demand_unanswered, then filed.
    assert [e.step for e in docket.log] == [
        "opened",
        "demand_letter_sent",
        "period_ended",
        "payment_order_filed",
        "po_issued",
    ]
    assert docket.lapse(D(2024, 10, 9), CN).state == "po_effective"


def test_replay_of_an_unknown_route_is_none() -> None:
    events = [new_event(LegalMatterOpened(matter="M1", route="elsewhere"), loan_id="L", on=DAY)]
    assert replay(events, CN) is None
