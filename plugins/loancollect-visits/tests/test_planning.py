"""Planning: every planned visit lies in a window the rule packs allow, and visits the
rules or the policies forbid are never planned."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loancollect_visits import Site, VisitPlanner, VisitPolicy, Window, zone_at
from loancollect_visits.model import Unplanned
from visits_helpers import DAY, SHANGHAI, agent, engine, near, request, rules

from loancollect.domain.case import Hold, HoldKind
from loancollect.domain.commands import SetFlag
from loancollect.domain.intake import GeoPoint

SERVICE = dt.timedelta(minutes=30)
SHANGHAI_TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
ENGINE = engine(loans=8)  # read-only across the property test's examples
RULES = rules(ENGINE)


def _allowed(at: dt.datetime, loan_id: str) -> bool:
    req = request(int(loan_id.split("-")[1]))
    facts = RULES.facts(loan_id, DAY)
    assert facts is not None
    return not RULES.objections(req, at, facts, as_of=DAY)


def test_a_chinese_visit_window_keeps_within_08_to_22_beijing_time_with_room_for_the_visit() -> (
    None
):
    window = RULES.window(request(1), DAY, SERVICE)
    assert isinstance(window, Window)
    start = window.start.astimezone(SHANGHAI_TZ)
    end = (window.end + SERVICE).astimezone(SHANGHAI_TZ)
    assert start.time() >= dt.time(8)
    assert end.time() <= dt.time(22)
    assert _allowed(window.start, "L-1")
    assert _allowed(window.end + SERVICE, "L-1")
    assert not _allowed(window.start - dt.timedelta(minutes=30), "L-1")  # 07:30 is refused


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    loans=st.lists(st.integers(1, 8), min_size=1, max_size=8, unique=True),
    starts=st.lists(st.integers(6, 12), min_size=1, max_size=3),
    length=st.integers(4, 14),
    probe=st.floats(0, 1),
)
def test_every_planned_visit_starts_and_ends_inside_a_window_the_rules_allow(
    loans: list[int], starts: list[int], length: int, probe: float
) -> None:
    agents = [
        agent(i, shift_start=dt.time(s), shift_end=dt.time(min(23, s + length)))
        for i, s in enumerate(starts, start=1)
    ]
    planner = VisitPlanner(rules=RULES, agents=agents, seconds=0.05, no_improvement=50)
    plan = planner.plan(DAY, [request(n) for n in loans])
    assert {s.request.key for s in plan.stops} | {u.key for u in plan.unplanned} == {
        f"visit-{n}" for n in loans
    }
    for stop in plan.stops:
        assert stop.arrive in stop.window
        assert stop.depart == stop.arrive + SERVICE
        inside = stop.window.start + (stop.window.end + SERVICE - stop.window.start) * probe
        for at in (stop.window.start, inside, stop.arrive, stop.depart, stop.window.end + SERVICE):
            assert _allowed(at, stop.request.loan_id), (stop.visit_id, at)


def test_a_borrower_under_a_hold_or_flagged_vulnerable_is_never_planned() -> None:
    built = engine(loans=3)
    built.intake.place_hold("L-1", Hold(HoldKind.DISPUTE, dt.date(2025, 3, 1), None, "disputed"))
    built.intake.apply("L-2", SetFlag(flag="vulnerable", reason="bereavement"), on=DAY)
    planner = VisitPlanner(rules=rules(built), agents=[agent()], seconds=0.05)
    plan = planner.plan(DAY, [request(1), request(2), request(3)])
    assert [s.request.loan_id for s in plan.stops] == ["L-3"]
    reasons = {u.loan_id: u for u in plan.unplanned}
    assert reasons["L-1"].reason == "hold: dispute"
    assert not reasons["L-1"].retry
    assert "vulnerable" in reasons["L-2"].reason
    assert not reasons["L-2"].retry


def test_a_workplace_visit_is_planned_only_with_the_borrowers_express_consent() -> None:
    work = Site(point=near(SHANGHAI, "0.01", "0.01"), place="workplace", address="某公司")
    planner = VisitPlanner(rules=RULES, agents=[agent()], seconds=0.05)
    refused = planner.plan(DAY, [request(1, site=work)])
    assert not refused.stops
    assert "workplace" in refused.unplanned[0].reason
    agreed = planner.plan(
        DAY, [request(1, site=Site(point=work.point, place="workplace", consent=True))]
    )
    assert len(agreed.stops) == 1


def test_no_visit_starts_before_the_notice_lead_time_has_passed() -> None:
    late_notice = dt.datetime(2025, 3, 10, 1, tzinfo=dt.UTC)  # 09:00 in Shanghai on the day
    rules_with_notice = rules(ENGINE, policies={"CN": VisitPolicy(notice=dt.timedelta(hours=5))})
    window = rules_with_notice.window(request(1, at=late_notice), DAY, SERVICE)
    assert isinstance(window, Window)
    assert window.start >= late_notice + dt.timedelta(hours=5)
    too_late = rules_with_notice.window(
        request(1, at=late_notice + dt.timedelta(hours=9)), DAY, SERVICE
    )
    assert isinstance(too_late, Unplanned)
    assert "notice" in too_late.reason
    assert too_late.retry


def test_one_borrower_is_visited_at_most_once_a_day() -> None:
    planner = VisitPlanner(rules=RULES, agents=[agent()], seconds=0.05)
    plan = planner.plan(DAY, [request(1), request(2, loan_id="L-1"), request(3)])
    assert sorted(s.request.key for s in plan.stops) == ["visit-1", "visit-3"]
    (capped,) = plan.unplanned
    assert capped.key == "visit-2"
    assert "daily cap" in capped.reason


def test_a_chinese_visit_needs_a_two_person_team_and_the_borrowers_language() -> None:
    solo = agent(1, team_size=1)
    english = agent(2, languages=frozenset({"en"}))
    plan = VisitPlanner(rules=RULES, agents=[solo, english], seconds=0.05).plan(DAY, [request(1)])
    assert not plan.stops
    assert "no agent may make it" in plan.unplanned[0].reason
    team = agent(3)
    plan = VisitPlanner(rules=RULES, agents=[solo, english, team], seconds=0.05).plan(
        DAY, [request(1)]
    )
    assert [r.agent.id for r in plan.routes] == ["agent-3"]
    assert plan.stops[0].two_person


def test_an_agent_visits_only_inside_their_territory_and_within_their_daily_cap() -> None:
    west = "POLYGON ((121.0 30.9, 121.47 30.9, 121.47 31.6, 121.0 31.6, 121.0 30.9))"
    east = "POLYGON ((121.47 30.9, 122.0 30.9, 122.0 31.6, 121.47 31.6, 121.47 30.9))"
    agents = [agent(1, territory=west, max_visits=2), agent(2, territory=east, max_visits=2)]
    requests = [request(n) for n in range(1, 9)]
    plan = VisitPlanner(rules=RULES, agents=agents, seconds=0.1).plan(DAY, requests)
    for route in plan.routes:
        assert len(route.stops) <= 2
        for stop in route.stops:
            lon = stop.request.site.point.lon
            assert (
                (lon <= Decimal("121.47"))
                if route.agent.id == "agent-1"
                else (lon >= Decimal("121.47"))
            )
    assert len(plan.stops) + len(plan.unplanned) == 8


def test_the_borrowers_zone_comes_from_the_coordinates_offline() -> None:
    assert zone_at(SHANGHAI) == "Asia/Shanghai"
    assert zone_at(GeoPoint(lat=Decimal("51.5072"), lon=Decimal("-0.1276"))) == "Europe/London"
    assert zone_at(GeoPoint(lat=Decimal("41.8781"), lon=Decimal("-87.6298"))) == "America/Chicago"
