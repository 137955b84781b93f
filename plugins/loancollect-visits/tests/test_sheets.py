"""Route sheets and calendars: the PDF's text (extracted with pypdf) holds the stops,
the notes template and each case's statement; the iCalendar file the appointments."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import icalendar
import pytest
from loancollect_visits import Plan, VisitPlanner, route_sheet, write_day
from loancollect_visits.sheets import calendar, draw_route
from pypdf import PdfReader
from visits_helpers import DAY, agent, engine, request, rules

from loancollect.domain.overdue import assess
from loancollect.templates import statement_of_account
from loancollect.testing import make_lender, make_loan


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture(scope="module")
def plan() -> Plan:
    loan = make_loan()
    statement = statement_of_account(loan, assess(loan, (), DAY), make_lender(name="示例银行"))
    requests = [request(n, statement=statement) for n in range(1, 4)]
    return VisitPlanner(rules=rules(engine(loans=3)), agents=[agent()], seconds=0.1).plan(
        DAY, requests
    )


def test_a_chinese_route_sheet_lists_the_stops_in_order_with_notes_and_statements(
    plan: Plan,
) -> None:
    (route,) = plan.routes
    text = _text(route_sheet(route, DAY, "zh_CN"))
    assert "上门催收路线单" in text
    assert "agent-1" in text
    positions = [text.index(stop.visit_id) for stop in route.stops]
    assert positions == sorted(positions), "the visits appear in route order"
    for stop in route.stops:
        assert stop.request.loan_id in text
    assert text.count("拜访记录") == len(route.stops)  # a notes page per visit
    assert text.count("应还金额合计") == len(route.stops)  # and its statement of account
    statement = route.stops[0].request.statement
    assert statement is not None
    assert statement.amount_due in text


def test_an_english_route_sheet_has_the_english_template(plan: Plan) -> None:
    (route,) = plan.routes
    text = _text(route_sheet(route, DAY, "en_GB"))
    assert "Field visit route sheet" in text
    flat = " ".join(text.split())
    assert "verify the borrower's identity before discussing the account" in flat
    assert "do not enter without consent" in flat
    assert text.count("Statement of account as of") == len(route.stops)


def test_the_route_is_drawn_as_a_picture_without_map_tiles(plan: Plan) -> None:
    png = draw_route(plan.routes[0])
    assert png.startswith(b"\x89PNG")
    assert len(png) > 5000


def test_the_calendar_has_one_appointment_per_stop_at_its_planned_time(plan: Plan) -> None:
    (route,) = plan.routes
    parsed = icalendar.Calendar.from_ical(calendar(route, DAY))
    events = [c for c in parsed.walk() if c.name == "VEVENT"]
    assert [str(e["uid"]) for e in events] == [
        f"{s.visit_id}@loancollect-visits" for s in route.stops
    ]
    for event, stop in zip(events, route.stops, strict=True):
        assert event.decoded("dtstart") == stop.arrive
        assert event.decoded("dtend") == stop.depart


def test_a_day_writes_a_pdf_and_a_calendar_per_agent(plan: Plan, tmp_path: Path) -> None:
    paths = write_day(plan.routes, DAY, tmp_path)
    assert sorted(p.name for p in paths) == [
        f"agent-1-{DAY.isoformat()}.ics",
        f"agent-1-{DAY.isoformat()}.pdf",
    ]
    assert all(p.stat().st_size > 0 for p in paths)
    assert dt.date.fromisoformat(paths[0].stem[-10:]) == DAY
