"""Signed webhooks into the ASGI app served by uvicorn on 127.0.0.1."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from crm_helpers import make_engine
from loancollect_crm.inbound import InboundApplier
from loancollect_crm.serving import serve
from loancollect_crm.state import SyncState
from loancollect_crm.webhooks import webhook_app
from standardwebhooks.webhooks import Webhook

from loancollect.domain.events import EventKind

SECRET = "whsec_" + base64.b64encode(b"crm-webhook-secret-for-tests").decode()


def post(
    url: str,
    event_id: str,
    body: dict[str, Any],
    *,
    at: dt.datetime | None = None,
    secret: str = SECRET,
) -> httpx.Response:
    data = json.dumps(body)
    stamp = at or dt.datetime.now(dt.UTC)
    headers = {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(stamp.timestamp())),
        "webhook-signature": Webhook(secret).sign(event_id, stamp, data),
        "content-type": "application/json",
    }
    return httpx.post(url + "/", content=data, headers=headers, timeout=10)


@pytest.fixture
def url(state: SyncState) -> Iterator[str]:
    with serve(webhook_app(state=state, secret=SECRET, crm="salesforce")) as served:
        yield served.url


ASSIGN = {
    "type": "case.assigned",
    "loan_id": "L-001",
    "at": "2025-03-01T10:00:00+08:00",
    "agent": "li",
    "team": "early",
}


def test_a_signed_event_is_kept_once_and_a_replay_of_its_id_is_a_duplicate(
    url: str, state: SyncState
) -> None:
    first = post(url, "evt_1", ASSIGN)
    again = post(url, "evt_1", ASSIGN)
    assert (first.status_code, first.json()["status"]) == (200, "accepted")
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")
    assert [c.event_id for c in state.pending("salesforce")] == ["evt_1"]


def test_a_bad_signature_or_an_old_timestamp_is_refused_and_nothing_kept(
    url: str, state: SyncState
) -> None:
    forged = "whsec_" + base64.b64encode(b"someone-else").decode()
    assert post(url, "evt_2", ASSIGN, secret=forged).status_code == 401
    old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
    replay = post(url, "evt_3", ASSIGN, at=old)
    assert replay.status_code == 401
    assert "too old" in replay.json()["error"]
    assert state.pending("salesforce") == []


def test_a_malformed_event_is_a_400_naming_the_field(url: str) -> None:
    answer = post(url, "evt_4", {**ASSIGN, "at": "2025-03-01T10:00:00"})
    assert answer.status_code == 400
    assert answer.json()["field"] == "event.at"
    promise = {
        "type": "outcome.recorded",
        "loan_id": "L-001",
        "at": "2025-03-01T10:00:00+08:00",
        "outcome": "promise",
        "promise": {"amount": 500.0, "due": "2025-03-09"},
    }
    assert post(url, "evt_5", promise).json()["field"] == "event.promise.amount"


def test_reassignments_outcomes_and_notes_reach_the_engine_and_stage_edits_do_not(
    url: str, state: SyncState
) -> None:
    engine = make_engine(2)
    at = "2025-03-01T10:00:00+08:00"
    events = [
        ("e1", ASSIGN),
        (
            "e2",
            {
                "type": "outcome.recorded",
                "loan_id": "L-001",
                "at": at,
                "agent": "li",
                "channel": "phone",
                "outcome": "promise",
                "promise": {"amount": "300.00", "due": "2025-03-09"},
            },
        ),
        ("e3", {"type": "note.created", "loan_id": "L-001", "at": at, "note_ref": "00T1"}),
        (
            "e4",
            {
                "type": "case.updated",
                "loan_id": "L-001",
                "at": at,
                "field": "stage",
                "value": "legal",
            },
        ),
        ("e5", {"type": "case.assigned", "loan_id": "L-404", "at": at, "agent": "li"}),
    ]
    for event_id, body in events:
        assert post(url, event_id, body).status_code == 200
    tally = InboundApplier(engine=engine, state=state, crm="salesforce").apply_pending()
    assert (tally.applied, tally.conflicts, tally.rejected) == (3, 1, 1)
    with engine.storage() as uow:
        case = uow.cases.get("L-001")
        kinds = [e.kind for e in uow.events.stream("L-001")]
    assert case is not None
    assert case.stage == "current"
    assert case.assignment is not None
    assert (case.assignment.agent, case.assignment.team) == (
        "li",
        "early",
    )
    assert [p.amount.amount for p in case.promises] == [__import__("decimal").Decimal("300.00")]
    assert kinds.count(EventKind.INBOUND_MESSAGE) == 1
    assert kinds.count(EventKind.CASE_ASSIGNED) == 1
    assert state.tally().conflicts == 1


def test_a_garbled_signature_header_is_a_401_not_a_crash(url: str) -> None:
    data = json.dumps(ASSIGN)
    stamp = str(int(dt.datetime.now(dt.UTC).timestamp()))
    headers = {"webhook-id": "evt_9", "webhook-timestamp": stamp, "webhook-signature": "v1,%%%"}
    assert httpx.post(url + "/", content=data, headers=headers, timeout=10).status_code == 401


def test_the_endpoint_works_mounted_in_a_hosts_app(state: SyncState) -> None:
    from starlette.applications import Starlette
    from starlette.routing import Mount

    app = webhook_app(state=state, secret=SECRET, crm="salesforce")
    host = Starlette(routes=[Mount("/crm/webhooks", app=app)])
    with serve(host) as served:
        answer = post(served.url + "/crm/webhooks", "evt_m", ASSIGN)
    assert answer.json()["status"] == "accepted"
