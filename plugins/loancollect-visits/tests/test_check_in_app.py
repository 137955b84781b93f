"""The check-in app on a real HTTP server (uvicorn on 127.0.0.1): OsmAnd and Traccar
posts, device authentication, geofence, lateness, duplicates, malformed posts, the
rules asked again at the door, outcomes through the intake, the lone-worker alert."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import attrs
import httpx
import pytest
import uvicorn
from loancollect_visits import (
    FieldDesk,
    LoneWorkerAlert,
    Plan,
    Stop,
    VisitBook,
    VisitPlanner,
    VisitPolicy,
    check_in_app,
    token_digest,
)
from loancollect_visits.positions import from_osmand
from visits_helpers import DAY, agent, engine, near, request, rules

from loancollect import EventKind
from loancollect.domain.arrangements import PromiseToPay
from loancollect.domain.case import Hold, HoldKind, OutcomeKind
from loancollect.domain.events import ContactOutcomeRecorded
from loancollect.engine import CollectionEngine

TOKEN = "s3cret-phone-1"
OTHER_TOKEN = "s3cret-phone-2"


@attrs.define
class Clock:
    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now


@attrs.define
class Field:
    url: str
    engine: CollectionEngine
    desk: FieldDesk
    plan: Plan
    clock: Clock
    alerts: list[LoneWorkerAlert]

    def stop(self, n: int) -> Stop:
        return next(s for s in self.plan.stops if s.request.loan_id == f"L-{n}")

    def osmand(
        self, stop: Stop, what: str, *, minutes: float = 2, token: str | None = TOKEN, **more: Any
    ) -> httpx.Response:
        at = (stop.arrive if what == "checkin" else stop.depart) + dt.timedelta(minutes=minutes)
        self.clock.now = at
        point = more.pop("point", near(stop.request.site.point, "0.0002", "0.0001"))
        params = {
            "id": "phone-1",
            "lat": str(point.lat),
            "lon": str(point.lon),
            "timestamp": str(int(at.timestamp())),
            "accuracy": "10",
            "speed": "0",
            "visit": stop.visit_id,
            "event": what,
        }
        params.update(more)
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        return httpx.post(f"{self.url}/osmand", params=params, headers=headers, timeout=10)

    def outcome(self, stop: Stop, body: dict[str, Any], token: str = TOKEN) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}", "X-Device-Id": "phone-1"}
        return httpx.post(
            f"{self.url}/visits/{stop.visit_id}/outcome", json=body, headers=headers, timeout=10
        )


@pytest.fixture(scope="module")
def field() -> Iterator[Field]:
    built = engine(loans=6)
    visit_rules = rules(
        built, policies={"CN": VisitPolicy(two_person=True, hold_on_vulnerable=True)}
    )
    agents = [agent(1, max_visits=6), agent(2, device="phone-2", max_visits=0)]
    plan = VisitPlanner(rules=visit_rules, agents=agents, seconds=0.1).plan(
        DAY, [request(n) for n in range(1, 7)]
    )
    assert len(plan.stops) == 6
    book = VisitBook()
    book.planned(plan)
    clock = Clock(plan.stops[0].arrive)
    alerts: list[LoneWorkerAlert] = []
    desk = FieldDesk(
        book=book,
        rules=visit_rules,
        intake=built.intake,
        agents=agents,
        tokens={"phone-1": token_digest(TOKEN), "phone-2": token_digest(OTHER_TOKEN)},
        now=clock,
        lone_worker=dt.timedelta(minutes=60),
        alert=alerts.append,
    )
    config = uvicorn.Config(
        check_in_app(desk), host="127.0.0.1", port=0, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Field(f"http://127.0.0.1:{port}", built, desk, plan, clock, alerts)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _outcomes(field: Field, loan_id: str) -> list[ContactOutcomeRecorded]:
    with field.engine.storage() as uow:
        return [
            ContactOutcomeRecorded.parse(e)
            for e in uow.events.stream(loan_id)
            if e.kind is EventKind.CONTACT_OUTCOME
        ]


def test_an_on_time_check_in_at_the_address_is_accepted_and_a_repeat_is_a_duplicate(
    field: Field,
) -> None:
    stop = field.stop(1)
    first = field.osmand(stop, "checkin")
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "accepted"
    assert first.json()["flags"] == []
    again = field.osmand(stop, "checkin", minutes=3)
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert again.json()["at"] == first.json()["at"]
    out = field.osmand(stop, "checkout")
    assert out.status_code == 201, out.text
    assert field.osmand(stop, "checkout").json()["duplicate"] is True


def test_a_late_arrival_is_flagged_not_silently_accepted(field: Field) -> None:
    response = field.osmand(field.stop(2), "checkin", minutes=50)
    assert response.status_code == 202
    assert response.json()["status"] == "flagged"
    assert "late" in response.json()["flags"]


def test_a_check_in_far_from_the_address_is_flagged_with_its_distance(field: Field) -> None:
    stop = field.stop(3)
    response = field.osmand(stop, "checkin", point=near(stop.request.site.point, "0.01", "0"))
    assert response.status_code == 202
    assert response.json()["flags"] == ["far"]
    assert 1000 < response.json()["distance_m"] < 1300  # 0.01° of latitude is about 1.1 km


def test_an_inaccurate_fix_is_flagged(field: Field) -> None:
    stop = field.stop(4)
    response = field.osmand(stop, "checkin", accuracy="450")
    assert response.status_code == 202
    assert response.json()["flags"] == ["inaccurate"]


@pytest.mark.parametrize(
    ("change", "field_name"),
    [
        ({"lat": "north"}, "location.lat"),
        ({"lat": "95"}, "location.lat"),
        ({"timestamp": "yesterday"}, "timestamp"),
        ({"event": "teleport"}, "event"),
        ({"visit": ""}, "visit"),
    ],
)
def test_a_malformed_post_is_refused_naming_the_field(
    field: Field, change: dict[str, str], field_name: str
) -> None:
    response = field.osmand(field.stop(5), "checkin", **change)
    assert response.status_code == 400
    assert response.json()["field"] == field_name
    assert field.desk.book.arrival(field.stop(5).visit_id) is None


def test_a_body_that_is_not_json_is_refused(field: Field) -> None:
    response = httpx.post(
        f"{field.url}/osmand",
        content=b"{not json",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 400
    assert response.json()["field"] == "body"


def test_a_device_without_a_token_or_with_a_wrong_one_or_another_agents_is_refused(
    field: Field,
) -> None:
    stop = field.stop(5)
    missing = field.osmand(stop, "checkin", token=None)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert field.osmand(stop, "checkin", token="guess").status_code == 403
    other = field.osmand(stop, "checkin", token=OTHER_TOKEN, id="phone-2")
    assert other.status_code == 403
    assert "another agent" in other.json()["error"]
    assert field.desk.book.arrival(stop.visit_id) is None


def test_the_traccar_client_json_format_is_accepted(field: Field) -> None:
    stop = field.stop(5)
    at = stop.arrive + dt.timedelta(minutes=1)
    field.clock.now = at
    point = stop.request.site.point
    body = {
        "device_id": "phone-1",
        "location": {
            "timestamp": at.isoformat().replace("+00:00", "Z"),
            "coords": {"latitude": float(point.lat), "longitude": float(point.lon), "accuracy": 8},
            "is_moving": False,
            "extras": {"visit": stop.visit_id, "event": "checkin"},
        },
    }
    response = httpx.post(
        f"{field.url}/osmand", json=body, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 201, response.text


def test_a_check_in_the_rules_no_longer_allow_is_refused_and_nothing_recorded(field: Field) -> None:
    stop = field.stop(6)
    field.engine.intake.place_hold("L-6", Hold(HoldKind.DISPUTE, DAY, None, "disputed by phone"))
    response = field.osmand(stop, "checkin")
    assert response.status_code == 409
    assert response.json()["reasons"] == ["hold: dispute"]
    assert field.desk.book.arrival(stop.visit_id) is None


def test_a_promise_made_at_the_door_goes_through_the_intake_with_its_terms(field: Field) -> None:
    stop = field.stop(1)  # checked in and out above
    photo = hashlib.sha256(b"receipt photo").hexdigest()
    body = {
        "result": "promise",
        "promise": {"amount": "3000.00", "currency": "CNY", "due": "2025-03-15"},
        "evidence": [photo],
    }
    response = field.outcome(stop, body)
    assert response.status_code == 201, response.text
    (recorded,) = _outcomes(field, "L-1")
    assert recorded.outcome is OutcomeKind.PROMISE
    assert recorded.channel == "visit"
    assert recorded.agent == "agent-1"
    assert recorded.evidence == photo
    assert recorded.duration_s is not None
    assert recorded.duration_s > 0
    assert recorded.lat is not None
    with field.engine.storage() as uow:
        case = uow.cases.get("L-1")
    assert case is not None
    promise = next(a for a in case.arrangements if isinstance(a, PromiseToPay))
    assert str(promise.amount.amount) == "3000.00"
    assert promise.due == dt.date(2025, 3, 15)
    assert field.outcome(stop, body).json()["status"] == "duplicate"
    assert field.outcome(stop, {"result": "not_at_home"}).status_code == 409
    assert len(_outcomes(field, "L-1")) == 1


def test_a_bad_outcome_is_refused_naming_the_member_and_nothing_recorded(field: Field) -> None:
    stop = field.stop(2)
    assert field.outcome(stop, {"result": "teatime"}).json()["field"] == "result"
    bad_hash = field.outcome(stop, {"result": "met_borrower", "evidence": ["abc"]})
    assert bad_hash.status_code == 400
    assert bad_hash.json()["field"] == "evidence"
    no_terms = field.outcome(stop, {"result": "promise"})
    assert no_terms.status_code == 400
    assert no_terms.json()["field"] == "promise"
    wrong_currency = field.outcome(
        stop,
        {
            "result": "promise",
            "promise": {"amount": "10.00", "currency": "USD", "due": "2025-03-20"},
        },
    )
    assert wrong_currency.status_code == 422
    assert wrong_currency.json()["field"] == "outcome.promise.amount"
    assert _outcomes(field, "L-2") == []


def test_vulnerability_indicators_stop_further_visits_and_place_a_hold_where_the_policy_says(
    field: Field,
) -> None:
    stop = field.stop(3)
    response = field.outcome(stop, {"result": "met_borrower", "vulnerable": ["bereavement"]})
    assert response.status_code == 201
    assert response.json()["hold"] is True
    with field.engine.storage() as uow:
        case = uow.cases.get("L-3")
    assert case is not None
    assert "vulnerable" in case.flags
    assert [h.kind for h in case.active_holds(DAY)] == [HoldKind.MANUAL]
    replan = VisitPlanner(rules=field.desk.rules, agents=[agent()], seconds=0.05).plan(
        DAY + dt.timedelta(days=1), [request(3)]
    )
    assert not replan.stops
    assert not replan.unplanned[0].retry


def test_an_agent_not_checked_out_in_time_raises_one_lone_worker_alert(field: Field) -> None:
    book = VisitBook()
    book.planned(field.plan)
    clock = Clock(field.plan.stops[0].arrive)
    alerts: list[LoneWorkerAlert] = []
    desk = FieldDesk(
        book=book,
        rules=field.desk.rules,
        intake=field.engine.intake,
        agents=[agent(1)],
        tokens={"phone-1": token_digest(TOKEN)},
        now=clock,
        lone_worker=dt.timedelta(minutes=60),
        alert=alerts.append,
    )
    stop = field.stop(5)
    arrival = stop.arrive + dt.timedelta(minutes=1)
    clock.now = arrival
    position = from_osmand(
        {
            "id": "phone-1",
            "lat": str(stop.request.site.point.lat),
            "lon": str(stop.request.site.point.lon),
            "accuracy": "5",
            "timestamp": str(int(arrival.timestamp())),
            "visit": stop.visit_id,
            "event": "checkin",
        }
    )
    assert desk.position(position, desk.authenticate("phone-1", TOKEN)).status == 201
    clock.now = arrival + dt.timedelta(minutes=59)
    assert desk.sweep() == ()
    clock.now = arrival + dt.timedelta(minutes=61)
    (alert,) = desk.sweep()
    assert alert.visit_id == stop.visit_id
    assert alert.agent == "agent-1"
    assert alert.overdue_at == arrival + dt.timedelta(minutes=60)
    assert alerts == [alert]
    assert desk.sweep() == ()  # raised once
